#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include <natrix/bench_client/histogram.hh>

using natrix::bench_client::latency_histogram;

namespace {

// Nearest rank with integer arithmetic: p is given in hundredths of a percent.
std::uint64_t exact_percentile(const std::vector<std::uint64_t>& sorted, std::uint64_t p_x100) {
    const std::uint64_t n = sorted.size();
    std::uint64_t rank = (p_x100 * n + 9999) / 10000;
    rank = std::clamp<std::uint64_t>(rank, 1, n);
    return sorted[rank - 1];
}

void expect_close(const latency_histogram& h, const std::vector<std::uint64_t>& sorted) {
    for (std::uint64_t p : {1000ull, 5000ull, 9000ull, 9900ull, 9990ull, 9999ull, 10000ull}) {
        const std::uint64_t exact = exact_percentile(sorted, p);
        const std::uint64_t got = h.percentile(static_cast<double>(p) / 100.0);
        EXPECT_GE(got, exact) << "p" << p / 100.0;
        // At most one bucket width above: 1/128 of the value (exact below 256).
        EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * (1.0 + 1.0 / 128) + 1e-9)
            << "p" << p / 100.0 << " exact " << exact;
    }
}

} // namespace

TEST(latency_histogram, buckets_are_contiguous_and_narrow) {
    for (int i = 0; i + 1 < latency_histogram::bucket_count; ++i) {
        ASSERT_EQ(latency_histogram::highest_of(i) + 1, latency_histogram::lowest_of(i + 1)) << i;
        const auto lo = latency_histogram::lowest_of(i);
        const auto width = latency_histogram::highest_of(i) - lo + 1;
        if (lo < 256) {
            ASSERT_EQ(width, 1u) << i;
        } else {
            ASSERT_LE(static_cast<double>(width) / static_cast<double>(lo), 1.0 / 128) << i;
        }
    }
    EXPECT_EQ(latency_histogram::lowest_of(0), 0u);
    EXPECT_EQ(latency_histogram::highest_of(latency_histogram::bucket_count - 1), UINT64_MAX);
    std::mt19937_64 rng(7);
    for (int k = 0; k < 100000; ++k) {
        const std::uint64_t v = rng() >> (rng() % 64);
        const int i = latency_histogram::index_of(v);
        ASSERT_GE(i, 0);
        ASSERT_LT(i, latency_histogram::bucket_count);
        ASSERT_LE(latency_histogram::lowest_of(i), v);
        ASSERT_GE(latency_histogram::highest_of(i), v);
    }
}

TEST(latency_histogram, percentiles_match_sorted_lognormal_data) {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> dist(std::log(50000.0), 1.5); // ~50 us, long tail
    auto h = std::make_unique<latency_histogram>();
    std::vector<std::uint64_t> values;
    for (int i = 0; i < 200000; ++i) {
        const auto v = static_cast<std::uint64_t>(dist(rng));
        values.push_back(v);
        h->record(v);
    }
    std::sort(values.begin(), values.end());
    EXPECT_EQ(h->count(), values.size());
    EXPECT_EQ(h->min(), values.front());
    EXPECT_EQ(h->max(), values.back());
    EXPECT_EQ(h->percentile(100), values.back());
    long double sum = 0;
    for (auto v : values) sum += v;
    EXPECT_NEAR(h->mean(), static_cast<double>(sum / values.size()), 1e-6 * h->mean());
    expect_close(*h, values);
}

TEST(latency_histogram, percentiles_match_uniform_and_small_data) {
    std::mt19937_64 rng(3);
    for (std::uint64_t range : {100ull, 300ull, 1000000ull, 1ull << 40}) {
        auto h = std::make_unique<latency_histogram>();
        std::vector<std::uint64_t> values;
        std::uniform_int_distribution<std::uint64_t> dist(0, range);
        for (int i = 0; i < 20000; ++i) {
            values.push_back(dist(rng));
            h->record(values.back());
        }
        std::sort(values.begin(), values.end());
        expect_close(*h, values);
        if (range < 256) {
            EXPECT_EQ(h->percentile(50), exact_percentile(values, 5000));
        }
    }
}

TEST(latency_histogram, nearest_rank_is_exact_below_256) {
    auto h = std::make_unique<latency_histogram>();
    for (std::uint64_t v = 1; v <= 200; ++v) h->record(v);
    EXPECT_EQ(h->percentile(50), 100u);
    EXPECT_EQ(h->percentile(99), 198u);
    EXPECT_EQ(h->percentile(99.5), 199u);
    EXPECT_EQ(h->percentile(0.1), 1u);
}

TEST(latency_histogram, merge_equals_recording_everything_once) {
    auto a = std::make_unique<latency_histogram>();
    auto b = std::make_unique<latency_histogram>();
    auto all = std::make_unique<latency_histogram>();
    std::mt19937_64 rng(11);
    for (int i = 0; i < 50000; ++i) {
        const std::uint64_t v = rng() % 10000000;
        (i % 3 ? *a : *b).record(v);
        all->record(v);
    }
    a->merge(*b);
    EXPECT_EQ(a->count(), all->count());
    EXPECT_EQ(a->min(), all->min());
    EXPECT_EQ(a->max(), all->max());
    for (double p : {50.0, 90.0, 99.0, 99.9, 99.99})
        EXPECT_EQ(a->percentile(p), all->percentile(p));
    a->reset();
    EXPECT_EQ(a->count(), 0u);
    EXPECT_EQ(a->percentile(50), 0u);
}

TEST(latency_histogram, extremes_and_record_n) {
    auto h = std::make_unique<latency_histogram>();
    EXPECT_EQ(h->percentile(99), 0u);
    EXPECT_EQ(h->min(), 0u);
    h->record(UINT64_MAX);
    h->record(0);
    EXPECT_EQ(h->count(), 2u);
    EXPECT_EQ(h->percentile(100), UINT64_MAX);
    EXPECT_EQ(h->percentile(50), 0u);
    h->record_n(1000, 98);
    EXPECT_EQ(h->count(), 100u);
    EXPECT_GE(h->percentile(50), 1000u);
    EXPECT_LE(h->percentile(50), 1000u + 1000u / 128);
}
