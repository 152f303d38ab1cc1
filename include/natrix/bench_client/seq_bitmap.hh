#pragma once
// Which sequence numbers of one publisher one queue-group member received, as a bitmap. Queue
// members each see an arbitrary subset, so gaps say nothing; exactly-once delivery across the
// group is checked after the run by merging the members' bitmaps. Owned by one member thread;
// merged by the main thread after the members have stopped.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace natrix::bench_client {

class seq_bitmap {
public:
    void reserve(std::uint64_t seqs) { words_.reserve(static_cast<std::size_t>(seqs / 64 + 1)); }

    // Records seq; returns false if this member had already received it.
    bool set(std::uint64_t seq) {
        const auto w = static_cast<std::size_t>(seq / 64);
        if (w >= words_.size()) words_.resize(std::max(w + 1, words_.size() * 2), 0);
        const std::uint64_t bit = 1ull << (seq % 64);
        if (words_[w] & bit) return false;
        words_[w] |= bit;
        if (seq < last_) ++out_of_order_;
        last_ = seq;
        return true;
    }

    std::uint64_t out_of_order() const noexcept { return out_of_order_; }
    const std::vector<std::uint64_t>& words() const noexcept { return words_; }

private:
    std::vector<std::uint64_t> words_;
    std::uint64_t last_ = 0;
    std::uint64_t out_of_order_ = 0;
};

struct group_delivery {
    std::uint64_t delivered = 0;  // distinct sequence numbers below expected delivered anywhere
    std::uint64_t lost = 0;       // below expected and delivered nowhere
    std::uint64_t duplicated = 0; // extra deliveries: the same number to more than one member
    std::uint64_t unexpected = 0; // numbers at or above expected (never published)
};

// Merges the members' bitmaps for one publisher that published sequence numbers [0, expected).
group_delivery merge_group(std::span<const seq_bitmap* const> members, std::uint64_t expected);

} // namespace natrix::bench_client
