#pragma once
// max_connections across every shard: the one counter shards share, touched
// once per accept and once per close (never per message).
#include <atomic>

namespace natrix::broker {

class connection_limit {
public:
    void set_max(int max) noexcept { max_.store(max, std::memory_order_relaxed); }
    bool admit() noexcept {
        const int max = max_.load(std::memory_order_relaxed);
        int cur = count_.load(std::memory_order_relaxed);
        do {
            if (max > 0 && cur >= max) return false;
        } while (!count_.compare_exchange_weak(cur, cur + 1, std::memory_order_relaxed));
        return true;
    }
    void release() noexcept { count_.fetch_sub(1, std::memory_order_relaxed); }
    int count() const noexcept { return count_.load(std::memory_order_relaxed); }

private:
    std::atomic<int> count_{0};
    std::atomic<int> max_{0};
};

} // namespace natrix::broker
