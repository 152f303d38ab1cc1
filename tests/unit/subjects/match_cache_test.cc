#include <string>

#include <gtest/gtest.h>

#include <natrix/subjects/match_cache.hh>

using natrix::subjects::hash_subject;
using natrix::subjects::match_cache;

namespace {
using cache = match_cache<int>;

int& put(cache& c, const std::string& k, int v) {
    int& r = c.claim(k, hash_subject(k));
    r = v;
    return r;
}
const int* get(cache& c, const std::string& k) {
    return c.find(k, hash_subject(k));
}
} // namespace

TEST(match_cache, disabled_with_zero_capacity) {
    cache c(0);
    EXPECT_FALSE(c.enabled());
    EXPECT_EQ(c.capacity(), 0u);
    EXPECT_EQ(get(c, "foo"), nullptr);
    EXPECT_FALSE(c.erase("foo", hash_subject("foo")));
    EXPECT_EQ(c.memory_bytes([](int) { return 0; }), 0u);
}

TEST(match_cache, capacity_rounds_up_to_sets_of_four) {
    EXPECT_EQ(cache(1).capacity(), 4u);
    EXPECT_EQ(cache(4).capacity(), 4u);
    EXPECT_EQ(cache(5).capacity(), 8u);
    EXPECT_EQ(cache(4096).capacity(), 4096u);
    EXPECT_EQ(cache(4097).capacity(), 8192u);
}

TEST(match_cache, claim_find_erase) {
    cache c(64);
    EXPECT_EQ(get(c, "foo.bar"), nullptr);
    put(c, "foo.bar", 7);
    ASSERT_NE(get(c, "foo.bar"), nullptr);
    EXPECT_EQ(*get(c, "foo.bar"), 7);
    EXPECT_EQ(c.size(), 1u);
    // Claiming a present key refreshes it in place.
    put(c, "foo.bar", 8);
    EXPECT_EQ(*get(c, "foo.bar"), 8);
    EXPECT_EQ(c.size(), 1u);
    EXPECT_TRUE(c.erase("foo.bar", hash_subject("foo.bar")));
    EXPECT_FALSE(c.erase("foo.bar", hash_subject("foo.bar")));
    EXPECT_EQ(get(c, "foo.bar"), nullptr);
    EXPECT_EQ(c.size(), 0u);
}

TEST(match_cache, same_hash_different_key_is_a_miss) {
    cache c(4);
    c.claim("a", 42) = 1;
    EXPECT_EQ(c.find("b", 42), nullptr);
    c.claim("b", 42) = 2;
    ASSERT_NE(c.find("a", 42), nullptr);
    EXPECT_EQ(*c.find("a", 42), 1);
    EXPECT_EQ(*c.find("b", 42), 2);
}

TEST(match_cache, invalidate_all_is_a_generation_bump) {
    cache c(64);
    for (int i = 0; i < 20; ++i) put(c, "s" + std::to_string(i), i);
    EXPECT_EQ(c.size(), 20u);
    c.invalidate_all();
    EXPECT_EQ(c.size(), 0u);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(get(c, "s" + std::to_string(i)), nullptr);
    put(c, "s3", 33);
    EXPECT_EQ(*get(c, "s3"), 33);
    EXPECT_EQ(c.size(), 1u);
}

TEST(match_cache, generation_wrap_clears_stale_tags) {
    cache c(64);
    for (int i = 0; i < 8; ++i) put(c, "old" + std::to_string(i), i); // generation 1
    c.set_generation_for_test(0xffffffffu);
    EXPECT_EQ(get(c, "old0"), nullptr);
    put(c, "new", 2);
    EXPECT_EQ(*get(c, "new"), 2);
    c.invalidate_all(); // wraps to 0, then restarts at 1: no "old" may revive
    for (int i = 0; i < 8; ++i) EXPECT_EQ(get(c, "old" + std::to_string(i)), nullptr) << i;
    EXPECT_EQ(get(c, "new"), nullptr);
    put(c, "again", 3);
    EXPECT_EQ(*get(c, "again"), 3);
}

TEST(match_cache, evicts_least_recently_used_way) {
    cache c(4); // one set of four ways
    for (const char* k : {"a", "b", "c", "d"}) put(c, k, 1);
    ASSERT_NE(get(c, "a"), nullptr); // a is now the most recent
    put(c, "e", 1);                  // evicts b, the least recent
    EXPECT_EQ(get(c, "b"), nullptr);
    EXPECT_NE(get(c, "a"), nullptr);
    EXPECT_NE(get(c, "c"), nullptr);
    EXPECT_NE(get(c, "e"), nullptr);
    EXPECT_EQ(c.size(), 4u);
    EXPECT_EQ(c.evictions(), 1u);
}

TEST(match_cache, flood_of_unique_keys_stays_bounded) {
    cache c(256);
    std::size_t mem_full = 0;
    for (int i = 0; i < 100000; ++i) {
        put(c, "flood.subject.number." + std::to_string(i), i);
        EXPECT_LE(c.size(), c.capacity());
        if (i == 999) mem_full = c.memory_bytes([](int) { return 0; });
    }
    EXPECT_EQ(c.size(), 256u);
    EXPECT_EQ(c.capacity(), 256u);
    EXPECT_EQ(c.evictions(), 100000u - 256u);
    // Keys are reused in place: no growth once every entry has been used.
    EXPECT_LE(c.memory_bytes([](int) { return 0; }), mem_full + 256 * 32);
    // The most recent key survives.
    EXPECT_NE(get(c, "flood.subject.number.99999"), nullptr);
}
