#pragma once
// What monitoring reads from one shard for /varz, /subsz and /metrics: its
// counters, gauges, trie statistics, latency histogram and current config.
// read_shard_figures() runs on the shard's own thread (inside a
// server::collect control task); the result is plain data for any thread.
#include <cstdint>
#include <vector>

#include <natrix/broker/broker_config.hh>
#include <natrix/broker/latency_histogram.hh>
#include <natrix/subjects/subject_trie.hh>

namespace natrix::broker {
class shard_view;
}

namespace natrix::monitor {

struct shard_figures {
    unsigned shard = 0;
    std::uint64_t in_msgs = 0, in_bytes = 0, out_msgs = 0, out_bytes = 0;
    std::uint64_t connections = 0; // open, as the shard counts them
    std::uint64_t total_connections = 0, subscriptions = 0;
    std::uint64_t slow_consumers = 0, stale_connections = 0;
    std::uint64_t cut_max_pending = 0, cut_write_deadline = 0,
                  cut_stalled = 0;                      // slow consumers by cause
    std::uint64_t paused_publishers = 0, paused_ns = 0; // flow control
    std::uint64_t ring_records_out = 0, ring_full = 0, wakeups_sent = 0, ring_indirect = 0;
    std::uint64_t ring_bytes_in_use = 0; // in this shard's inboxes
    std::uint64_t overflow_bytes = 0;    // waiting for full rings to this shard's peers
    subjects::trie_stats trie;
    broker::latency_histogram::snapshot latency;
};

// On the shard's thread only.
shard_figures read_shard_figures(const broker::shard_view& s);

// Sum over shards (shard = number of shards summed; latency merged).
shard_figures sum_figures(const std::vector<shard_figures>& shards);

} // namespace natrix::monitor
