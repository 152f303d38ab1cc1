#pragma once
// Single-producer single-consumer ring of variable-length records, for one
// ordered shard pair (producer shard -> consumer shard).
//
// Exactly one thread writes (the producer shard) and one reads (the consumer
// shard); that is the whole concurrency contract, and it is what lets us use
// plain acquire/release indices with no locks and no CAS. Design notes:
//  - free-running 64-bit head/tail, masked by a power-of-two capacity;
//  - each side caches the other's index and re-reads it only when the cached
//    value says full/empty (rigtorp's SPSCQueue), so steady-state traffic
//    touches the shared cache lines once per batch;
//  - a record is [u32 length][u32 type][bytes], 8-byte aligned; a record never
//    wraps: the producer writes a padding record to the end and starts over
//    (Aeron's spsc_rb), so the consumer always sees one contiguous span;
//  - try_reserve()/publish() batch: the producer publishes its tail once per
//    flush, the consumer its head once per drain.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>

namespace natrix::rings {

inline constexpr std::size_t cache_line = 64;

class spsc_ring {
public:
    static constexpr std::uint32_t padding_type = 0xffffffffu;
    static constexpr std::size_t header_size = 8;

    // capacity is rounded up to a power of two (at least 4 KiB).
    explicit spsc_ring(std::size_t capacity);
    spsc_ring(const spsc_ring&) = delete;
    spsc_ring& operator=(const spsc_ring&) = delete;

    std::size_t capacity() const noexcept { return capacity_; }
    // Largest record body that can ever fit.
    std::size_t max_record() const noexcept { return capacity_ / 2 - header_size; }

    // ---- producer side ----
    // Returns a pointer to `size` writable bytes for a record of `type`, or
    // nullptr when the ring is full right now. Nothing is visible to the
    // consumer until publish().
    char* try_reserve(std::uint32_t type, std::size_t size) noexcept;
    // Makes every reserved record visible (release store of the tail).
    void publish() noexcept { tail_.store(prod_tail_, std::memory_order_release); }

    // ---- consumer side ----
    struct record {
        std::uint32_t type;
        std::string_view body;
    };
    // Visits every published record in order, then frees their space with one
    // release store. fn(record) is called for each; returns the count.
    template <typename Fn>
    std::size_t drain(Fn&& fn, std::size_t max_records = SIZE_MAX);
    bool empty() const noexcept {
        return head_.load(std::memory_order_relaxed) == tail_.load(std::memory_order_acquire);
    }
    // Approximate bytes in use (for metrics; either side may call).
    std::size_t used_bytes() const noexcept {
        return static_cast<std::size_t>(tail_.load(std::memory_order_relaxed) -
                                        head_.load(std::memory_order_relaxed));
    }

private:
    static std::size_t align8(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }

    std::size_t capacity_;
    std::size_t mask_;
    std::unique_ptr<char[]> storage_;
    char* buf_;

    // Consumer-owned line.
    alignas(cache_line) std::atomic<std::uint64_t> head_{0};
    std::uint64_t cons_tail_cache_ = 0;
    // Producer-owned line.
    alignas(cache_line) std::atomic<std::uint64_t> tail_{0};
    std::uint64_t prod_tail_ = 0; // reserved but maybe unpublished
    std::uint64_t prod_head_cache_ = 0;
    char pad_[cache_line - 3 * sizeof(std::uint64_t)];
};

template <typename Fn>
std::size_t spsc_ring::drain(Fn&& fn, std::size_t max_records) {
    std::uint64_t head = head_.load(std::memory_order_relaxed);
    if (head == cons_tail_cache_) {
        cons_tail_cache_ = tail_.load(std::memory_order_acquire);
        if (head == cons_tail_cache_) return 0;
    }
    std::size_t n = 0;
    while (head != cons_tail_cache_ && n < max_records) {
        const char* p = buf_ + (head & mask_);
        std::uint32_t len, type;
        std::memcpy(&len, p, 4);
        std::memcpy(&type, p + 4, 4);
        if (type != padding_type) {
            fn(record{type, std::string_view(p + header_size, len)});
            ++n;
        }
        head += align8(header_size + len);
    }
    head_.store(head, std::memory_order_release);
    return n;
}

} // namespace natrix::rings
