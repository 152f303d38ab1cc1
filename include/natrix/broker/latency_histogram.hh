#pragma once
// Sampled publish-to-write latency of one shard: the time from when the shard
// parsed a PUB (or took a message record off a ring) to when the send that
// carries its delivery was submitted. Log2 buckets of nanoseconds.
//
// Lives on a shard: only the owning shard's thread records (plain
// load+store, no locked RMW, like shard_counter); any thread may read, and a
// reader may see a bucket and the totals from slightly different moments.
// Monitoring reads it through server::collect.
#include <array>
#include <atomic>
#include <cstdint>

namespace natrix::broker {

class latency_histogram {
public:
    // Bucket i holds [2^i, 2^(i+1)) ns (bucket 0 also holds 0); the last one
    // is open-ended (>= 2^31 ns, about 2.1 s).
    static constexpr unsigned bucket_count = 32;
    // One message in this many is timed, so the hot path pays one clock read
    // per 64 messages. A power of two.
    static constexpr unsigned sample_every = 64;

    static constexpr unsigned bucket_of(std::uint64_t ns) noexcept {
        if (ns < 2) return 0;
        const unsigned b = 63u - static_cast<unsigned>(__builtin_clzll(ns));
        return b < bucket_count ? b : bucket_count - 1;
    }
    // Exclusive upper bound of bucket i in ns (none for the last bucket).
    static constexpr std::uint64_t bucket_upper_ns(unsigned i) noexcept { return 2ull << i; }

    void record(std::uint64_t ns) noexcept {
        bump(buckets_[bucket_of(ns)], 1);
        bump(sum_ns_, ns);
        bump(count_, 1);
    }

    struct snapshot {
        std::array<std::uint64_t, bucket_count> buckets{};
        std::uint64_t count = 0;
        std::uint64_t sum_ns = 0;
    };
    snapshot read() const noexcept {
        snapshot s;
        for (unsigned i = 0; i < bucket_count; ++i)
            s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
        s.count = count_.load(std::memory_order_relaxed);
        s.sum_ns = sum_ns_.load(std::memory_order_relaxed);
        return s;
    }

private:
    static void bump(std::atomic<std::uint64_t>& v, std::uint64_t n) noexcept {
        v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sum_ns_{0};
};

// Picks the messages whose latency is timed: one in sample_every. One per
// publishing component of a shard; not shared between threads.
class sample_clock {
public:
    bool take() noexcept { return (++tick_ & (latency_histogram::sample_every - 1)) == 0; }

private:
    std::uint32_t tick_ = 0;
};

} // namespace natrix::broker
