#include <algorithm>
#include <cmath>

#include <natrix/bench_client/histogram.hh>

namespace natrix::bench_client {

int latency_histogram::index_of(std::uint64_t value) noexcept {
    if (value < 2 * half) return static_cast<int>(value);
    const int msb = 63 - __builtin_clzll(value);
    const int shift = msb - sub_bits; // >= 1 here
    // value >> shift lies in [half, 2*half): the sub-bucket within this power of two.
    return shift * half + static_cast<int>(value >> shift);
}

std::uint64_t latency_histogram::lowest_of(int index) noexcept {
    const int shift = std::max(0, index / half - 1);
    const auto sub = static_cast<std::uint64_t>(index - shift * half);
    return sub << shift;
}

std::uint64_t latency_histogram::highest_of(int index) noexcept {
    const int shift = std::max(0, index / half - 1);
    const auto sub = static_cast<std::uint64_t>(index - shift * half);
    // (sub + 1) << shift overflows only for the very last bucket.
    if (sub + 1 == 2 * static_cast<std::uint64_t>(half) && shift == 64 - sub_bits - 1)
        return UINT64_MAX;
    return ((sub + 1) << shift) - 1;
}

void latency_histogram::record_n(std::uint64_t value, std::uint64_t n) noexcept {
    if (n == 0) return;
    counts_[static_cast<std::size_t>(index_of(value))] += n;
    count_ += n;
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
    sum_ += static_cast<long double>(value) * static_cast<long double>(n);
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
    if (other.count_ == 0) return;
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    sum_ += other.sum_;
}

void latency_histogram::reset() noexcept {
    counts_.fill(0);
    count_ = 0;
    min_ = UINT64_MAX;
    max_ = 0;
    sum_ = 0;
}

double latency_histogram::mean() const noexcept {
    return count_ ? static_cast<double>(sum_ / static_cast<long double>(count_)) : 0.0;
}

std::uint64_t latency_histogram::percentile(double p) const noexcept {
    if (count_ == 0) return 0;
    p = std::clamp(p, 0.0, 100.0);
    // The small epsilon keeps 99.9 % of 1000 at rank 999 despite 99.9 not being exact in binary.
    const double exact_rank = p * static_cast<double>(count_) / 100.0;
    auto rank = static_cast<std::uint64_t>(std::ceil(exact_rank - 1e-9 * (1.0 + exact_rank)));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        seen += counts_[i];
        if (seen >= rank) return std::min(highest_of(static_cast<int>(i)), max_);
    }
    return max_;
}

} // namespace natrix::bench_client
