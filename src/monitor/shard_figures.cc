#include <natrix/broker/shard_view.hh>
#include <natrix/monitor/shard_figures.hh>

namespace natrix::monitor {

shard_figures read_shard_figures(const broker::shard_view& s) {
    const broker::shard_stats& st = s.stats();
    shard_figures f;
    f.shard = s.id();
    f.in_msgs = st.in_msgs.get();
    f.in_bytes = st.in_bytes.get();
    f.out_msgs = st.out_msgs.get();
    f.out_bytes = st.out_bytes.get();
    f.connections = st.connections.get();
    f.total_connections = st.total_connections.get();
    f.subscriptions = st.subscriptions.get();
    f.slow_consumers = st.slow_consumers.get();
    f.stale_connections = st.stale_connections.get();
    f.cut_max_pending = st.cut_max_pending.get();
    f.cut_write_deadline = st.cut_write_deadline.get();
    f.cut_stalled = st.cut_stalled.get();
    f.paused_publishers = st.paused_publishers.get();
    f.paused_ns = st.paused_ns.get();
    f.ring_records_out = st.ring_records_out.get();
    f.ring_full = st.ring_full.get();
    f.ring_indirect = st.ring_indirect.get();
    f.wakeups_sent = st.wakeups_sent.get();
    f.ring_bytes_in_use = s.ring_bytes_in_use();
    f.overflow_bytes = s.overflow_bytes();
    f.trie = s.subscription_stats();
    f.latency = s.publish_latency();
    return f;
}

shard_figures sum_figures(const std::vector<shard_figures>& shards) {
    shard_figures t;
    t.shard = static_cast<unsigned>(shards.size());
    for (const shard_figures& f : shards) {
        t.in_msgs += f.in_msgs;
        t.in_bytes += f.in_bytes;
        t.out_msgs += f.out_msgs;
        t.out_bytes += f.out_bytes;
        t.connections += f.connections;
        t.total_connections += f.total_connections;
        t.subscriptions += f.subscriptions;
        t.slow_consumers += f.slow_consumers;
        t.stale_connections += f.stale_connections;
        t.cut_max_pending += f.cut_max_pending;
        t.cut_write_deadline += f.cut_write_deadline;
        t.cut_stalled += f.cut_stalled;
        t.paused_publishers += f.paused_publishers;
        t.paused_ns += f.paused_ns;
        t.ring_records_out += f.ring_records_out;
        t.ring_full += f.ring_full;
        t.ring_indirect += f.ring_indirect;
        t.wakeups_sent += f.wakeups_sent;
        t.ring_bytes_in_use += f.ring_bytes_in_use;
        t.overflow_bytes += f.overflow_bytes;
        t.trie += f.trie;
        for (unsigned i = 0; i < broker::latency_histogram::bucket_count; ++i)
            t.latency.buckets[i] += f.latency.buckets[i];
        t.latency.count += f.latency.count;
        t.latency.sum_ns += f.latency.sum_ns;
    }
    return t;
}

} // namespace natrix::monitor
