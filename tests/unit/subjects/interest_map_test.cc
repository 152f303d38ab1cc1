#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <natrix/subjects/interest_map.hh>

using namespace natrix::subjects;

namespace {

interest_delta D(std::uint16_t shard, std::string pattern, std::string queue, std::uint32_t count) {
    return interest_delta{shard, std::move(pattern), std::move(queue), count};
}
constexpr std::uint64_t bit(int s) {
    return std::uint64_t{1} << s;
}

const queue_interest* find_queue(const interest_result& r, std::string_view name) {
    for (const auto& q : r.queues)
        if (q.name == name) return &q;
    return nullptr;
}

} // namespace

TEST(interest_map, absolute_deltas_are_idempotent) {
    interest_map m;
    EXPECT_TRUE(m.apply(D(2, "foo.bar", "", 3)));
    EXPECT_FALSE(m.apply(D(2, "foo.bar", "", 3))); // same statement twice
    EXPECT_EQ(m.count(2, "foo.bar", ""), 3u);
    EXPECT_TRUE(m.apply(D(2, "foo.bar", "", 1)));
    EXPECT_EQ(m.count(2, "foo.bar", ""), 1u);
    EXPECT_EQ(m.entries(), 1u);
    EXPECT_TRUE(m.apply(D(2, "foo.bar", "", 0)));
    EXPECT_FALSE(m.apply(D(2, "foo.bar", "", 0)));
    EXPECT_EQ(m.count(2, "foo.bar", ""), 0u);
    EXPECT_EQ(m.entries(), 0u);
    EXPECT_TRUE(m.lookup("foo.bar").empty());
    const auto s = m.stats();
    EXPECT_EQ(s.applied, 3u);
    EXPECT_EQ(s.ignored, 2u);
}

TEST(interest_map, invalid_deltas_are_ignored) {
    interest_map m;
    EXPECT_FALSE(m.apply(D(64, "foo", "", 1)));
    EXPECT_FALSE(m.apply(D(65535, "foo", "", 1)));
    EXPECT_FALSE(m.apply(D(0, "foo..bar", "", 1)));
    EXPECT_FALSE(m.apply(D(0, "foo.>.bar", "", 1)));
    EXPECT_FALSE(m.apply(D(0, "", "q", 1)));
    EXPECT_FALSE(m.apply(D(0, "foo bar", "", 1)));
    EXPECT_TRUE(m.apply(D(63, "foo", "", 1)));
    EXPECT_EQ(m.lookup("foo").shards, bit(63));
    EXPECT_EQ(m.entries(), 1u);
}

TEST(interest_map, plain_interest_is_a_shard_mask) {
    interest_map m;
    ASSERT_TRUE(m.apply(D(0, "orders.eu.new", "", 1)));
    ASSERT_TRUE(m.apply(D(3, "orders.*.new", "", 2)));
    ASSERT_TRUE(m.apply(D(5, "orders.>", "", 1)));
    ASSERT_TRUE(m.apply(D(7, ">", "", 4)));
    ASSERT_TRUE(m.apply(D(9, "orders", "", 1)));
    EXPECT_EQ(m.lookup("orders.eu.new").shards, bit(0) | bit(3) | bit(5) | bit(7));
    EXPECT_EQ(m.lookup("orders.us.new").shards, bit(3) | bit(5) | bit(7));
    EXPECT_EQ(m.lookup("orders").shards, bit(7) | bit(9));
    EXPECT_EQ(m.lookup("other.x").shards, bit(7));
    EXPECT_EQ(m.lookup("a..b").shards, 0u);
    EXPECT_TRUE(m.lookup("orders.eu.new").queues.empty());
}

TEST(interest_map, queue_only_shards_get_no_plain_copy) {
    interest_map m;
    ASSERT_TRUE(m.apply(D(1, "work.>", "workers", 3)));
    ASSERT_TRUE(m.apply(D(2, "work.items", "", 1)));
    const auto& r = m.lookup("work.items");
    EXPECT_EQ(r.shards, bit(2));
    ASSERT_EQ(r.queues.size(), 1u);
    EXPECT_EQ(r.queues[0].name, "workers");
    EXPECT_EQ(r.queues[0].weights, (std::vector<shard_weight>{{1, 3}}));
    EXPECT_EQ(r.queues[0].total, 3u);
}

TEST(interest_map, queue_weights_are_summed_per_shard_across_patterns) {
    interest_map m;
    ASSERT_TRUE(m.apply(D(1, "foo.*", "q", 2)));
    ASSERT_TRUE(m.apply(D(1, "foo.>", "q", 1)));
    ASSERT_TRUE(m.apply(D(3, "foo.>", "q", 4)));
    ASSERT_TRUE(m.apply(D(0, "foo.bar", "other", 1)));
    const auto& r = m.lookup("foo.bar");
    EXPECT_EQ(r.shards, 0u);
    ASSERT_EQ(r.queues.size(), 2u);
    const auto* q = find_queue(r, "q");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->weights, (std::vector<shard_weight>{{1, 3}, {3, 4}}));
    EXPECT_EQ(q->total, 7u);
    const auto* o = find_queue(r, "other");
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->weights, (std::vector<shard_weight>{{0, 1}}));
    EXPECT_EQ(find_queue(m.lookup("foo.bar.baz"), "q")->weights,
              (std::vector<shard_weight>{{1, 1}, {3, 4}}));
}

TEST(interest_map, pick_queue_shard_follows_weights) {
    queue_interest q;
    EXPECT_EQ(pick_queue_shard(q, 12345), -1);
    q.weights = {{4, 1}, {9, 3}};
    q.total = 4;
    EXPECT_EQ(pick_queue_shard(q, 0), 4);
    EXPECT_EQ(pick_queue_shard(q, std::numeric_limits<std::uint64_t>::max()), 9);
    // Evenly spread random values land in proportion to the weights.
    std::map<int, int> hits;
    constexpr int n = 4000;
    const std::uint64_t step = std::numeric_limits<std::uint64_t>::max() / n;
    for (int i = 0; i < n; ++i) ++hits[pick_queue_shard(q, step * i + step / 2)];
    EXPECT_EQ(hits[4], n / 4);
    EXPECT_EQ(hits[9], 3 * n / 4);
    EXPECT_EQ(hits.size(), 2u);
}

TEST(interest_map, pick_queue_shard_below_a_bound_skips_the_ids_past_it) {
    queue_interest q;
    q.weights = {{0, 1}, {1, 3}, {2, 100}}; // id 2: a route on a 2-shard server
    q.total = 104;
    std::map<int, int> hits;
    constexpr int n = 4000;
    const std::uint64_t step = std::numeric_limits<std::uint64_t>::max() / n;
    for (int i = 0; i < n; ++i) ++hits[pick_queue_shard(q, step * i + step / 2, 2)];
    EXPECT_EQ(hits[0], n / 4);
    EXPECT_EQ(hits[1], 3 * n / 4);
    EXPECT_EQ(hits.size(), 2u) << "id 2 is never picked";
    EXPECT_EQ(pick_queue_shard(q, 0, 0), -1) << "nothing below 0";
}

TEST(interest_map, lookup_cache_follows_changes) {
    interest_map m;
    ASSERT_TRUE(m.apply(D(1, "a.b", "", 1)));
    EXPECT_EQ(m.lookup("a.b").shards, bit(1));
    EXPECT_EQ(m.lookup("a.b").shards, bit(1));
    EXPECT_EQ(m.stats().cache_hits, 1u);
    // A plain count change with the same mask keeps the cached result.
    ASSERT_TRUE(m.apply(D(1, "a.b", "", 5)));
    EXPECT_EQ(m.lookup("a.b").shards, bit(1));
    EXPECT_EQ(m.stats().cache_hits, 2u);
    // A new shard on a literal pattern drops that subject only.
    EXPECT_EQ(m.lookup("a.c").shards, 0u);
    ASSERT_TRUE(m.apply(D(2, "a.b", "", 1)));
    EXPECT_EQ(m.lookup("a.b").shards, bit(1) | bit(2));
    EXPECT_EQ(m.lookup("a.c").shards, 0u);
    EXPECT_EQ(m.stats().cache_hits, 3u);
    // Wildcard interest added after both were cached.
    ASSERT_TRUE(m.apply(D(4, "a.*", "", 1)));
    EXPECT_EQ(m.lookup("a.c").shards, bit(4));
    EXPECT_EQ(m.lookup("a.b").shards, bit(1) | bit(2) | bit(4));
    // Queue weight changes are always seen.
    ASSERT_TRUE(m.apply(D(4, "a.*", "q", 1)));
    EXPECT_EQ(m.lookup("a.c").queues.at(0).total, 1u);
    ASSERT_TRUE(m.apply(D(4, "a.*", "q", 6)));
    EXPECT_EQ(m.lookup("a.c").queues.at(0).total, 6u);
    ASSERT_TRUE(m.apply(D(4, "a.*", "q", 0)));
    EXPECT_TRUE(m.lookup("a.c").queues.empty());
}

TEST(interest_map, memory_follows_patterns_not_subscriptions) {
    interest_map m;
    const std::size_t empty = m.memory_bytes();
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(m.apply(D(i % 64, "p." + std::to_string(i), "", 1)));
    const std::size_t thousand = m.memory_bytes();
    EXPECT_GT(thousand, empty + 1000 * 100);
    // A million subscriptions on one pattern is one statement per shard.
    for (int s = 0; s < 64; ++s) ASSERT_TRUE(m.apply(D(s, "hot.>", "", 1000000 / 64)));
    EXPECT_LT(m.memory_bytes(), thousand + 2048);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(m.apply(D(i % 64, "p." + std::to_string(i), "", 0)));
    EXPECT_EQ(m.entries(), 1u);
}
