#pragma once
// A shard's counters. One writer (the owning shard's thread), any number of
// readers (monitoring), no locks.
#include <atomic>
#include <cstdint>

namespace natrix::broker {

// add() is a plain load+store, not a locked RMW: on x86 a `lock add` drains
// the store buffer, and right after a 1 KiB payload copy that stall showed up
// as most of the delivery time.
class shard_counter {
public:
    void add(std::uint64_t n = 1) noexcept {
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void sub(std::uint64_t n = 1) noexcept {
        v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> v_{0};
};

struct shard_stats {
    shard_counter in_msgs, in_bytes, out_msgs, out_bytes;
    shard_counter connections, total_connections, subscriptions;
    shard_counter slow_consumers, stale_connections;
    // Slow consumers by cause (their sum is slow_consumers).
    shard_counter cut_max_pending, cut_write_deadline, cut_stalled;
    // Flow control: publishers paused now, and the time they spent paused.
    shard_counter paused_publishers, paused_ns;
    shard_counter ring_records_out, ring_full, wakeups_sent, ring_indirect;
    // Client TLS: handshakes completed, and failed or timed out.
    shard_counter tls_handshakes, tls_handshake_errors;
};

} // namespace natrix::broker
