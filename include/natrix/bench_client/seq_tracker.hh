#pragma once
// Tracks one publisher's sequence numbers as one subscriber sees them, exactly and in O(1) per
// message when nothing goes wrong: it remembers the next expected number and a list of gaps
// (numbers skipped so far). A late arrival fills a gap and counts as out of order; a number
// neither in a gap nor ahead is a duplicate. Owned by one subscriber thread.
#include <cstdint>
#include <utility>
#include <vector>

namespace natrix::bench_client {

class seq_tracker {
public:
    void on_seq(std::uint64_t seq) {
        if (seq == next_) [[likely]] {
            ++next_;
            ++received_;
            return;
        }
        slow_path(seq);
    }

    // Starts counting at base instead of 0 (a subscriber that joined a running publisher).
    void set_base(std::uint64_t base) noexcept { next_ = base; }
    bool started() const noexcept { return received_ != 0 || duplicated_ != 0; }

    std::uint64_t received() const noexcept { return received_; } // distinct numbers
    std::uint64_t duplicated() const noexcept { return duplicated_; }
    std::uint64_t out_of_order() const noexcept { return out_of_order_; }
    std::uint64_t next_expected() const noexcept { return next_; }
    // Numbers below end never received: the open gaps plus [next, end).
    std::uint64_t missing(std::uint64_t end) const noexcept;

private:
    void slow_path(std::uint64_t seq);

    std::uint64_t next_ = 0;
    std::uint64_t received_ = 0;
    std::uint64_t duplicated_ = 0;
    std::uint64_t out_of_order_ = 0;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> gaps_; // [lo, hi), sorted, disjoint
};

} // namespace natrix::bench_client
