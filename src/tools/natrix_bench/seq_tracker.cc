#include <algorithm>

#include <natrix/bench_client/seq_tracker.hh>

namespace natrix::bench_client {

void seq_tracker::slow_path(std::uint64_t seq) {
    if (seq > next_) {
        gaps_.emplace_back(next_, seq);
        next_ = seq + 1;
        ++received_;
        return;
    }
    // seq < next_: a late arrival if it lies in a gap, else a duplicate.
    auto it = std::upper_bound(gaps_.begin(), gaps_.end(), seq,
                               [](std::uint64_t v, const auto& g) { return v < g.first; });
    if (it == gaps_.begin() || seq >= std::prev(it)->second) {
        ++duplicated_;
        return;
    }
    --it;
    ++received_;
    ++out_of_order_;
    auto [lo, hi] = *it;
    if (hi - lo == 1) {
        gaps_.erase(it);
    } else if (seq == lo) {
        it->first = lo + 1;
    } else if (seq == hi - 1) {
        it->second = hi - 1;
    } else {
        it->second = seq;
        gaps_.insert(std::next(it), {seq + 1, hi});
    }
}

std::uint64_t seq_tracker::missing(std::uint64_t end) const noexcept {
    std::uint64_t n = 0;
    for (const auto& [lo, hi] : gaps_) {
        if (lo >= end) break;
        n += std::min(hi, end) - lo;
    }
    if (end > next_) n += end - next_;
    return n;
}

} // namespace natrix::bench_client
