#pragma once
// Log-linear latency histogram in the style of HdrHistogram. Values (nanoseconds) below 256 are
// kept exactly; above that, each power-of-two range is split into 128 equal sub-buckets, so a
// bucket is never wider than 1/128 (0.78 %) of the values in it. Counts are exact, memory is fixed
// (about 58 KiB) and recording never allocates. One histogram per thread; merge() at the end.
#include <array>
#include <cstdint>

namespace natrix::bench_client {

class latency_histogram {
public:
    static constexpr int sub_bits = 7;         // 128 sub-buckets per power of two
    static constexpr int half = 1 << sub_bits; // 128
    static constexpr int bucket_count = (64 - sub_bits) * half + half; // covers every uint64_t

    void record(std::uint64_t value) noexcept { record_n(value, 1); }
    void record_n(std::uint64_t value, std::uint64_t n) noexcept;
    void merge(const latency_histogram& other) noexcept;
    void reset() noexcept;

    std::uint64_t count() const noexcept { return count_; }
    std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
    std::uint64_t max() const noexcept { return max_; }
    double mean() const noexcept;

    // Nearest-rank percentile (rank = ceil(p/100 * count)), reported as the highest value that
    // falls in the same bucket, clamped to max(): never below the exact value and at most 1/128
    // above it. p outside (0, 100] is clamped; an empty histogram gives 0.
    std::uint64_t percentile(double p) const noexcept;

    // Bucket arithmetic, exposed for tests.
    static int index_of(std::uint64_t value) noexcept;
    static std::uint64_t lowest_of(int index) noexcept;
    static std::uint64_t highest_of(int index) noexcept;

private:
    std::array<std::uint64_t, bucket_count> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t min_ = UINT64_MAX;
    std::uint64_t max_ = 0;
    long double sum_ = 0;
};

} // namespace natrix::bench_client
