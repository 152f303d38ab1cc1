#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <natrix/subjects/subject_trie.hh>

using namespace natrix::subjects;

namespace {

// Distinct, stable handles.
int slots[4096];
sub_handle H(int i) {
    return &slots[i];
}

std::vector<sub_handle> sorted(std::vector<sub_handle> v) {
    std::sort(v.begin(), v.end());
    return v;
}
std::vector<sub_handle> hs(std::initializer_list<int> ids) {
    std::vector<sub_handle> v;
    for (int i : ids) v.push_back(H(i));
    return sorted(v);
}
std::map<std::string, std::vector<sub_handle>> queues_of(const match_result& r) {
    std::map<std::string, std::vector<sub_handle>> m;
    for (const auto& q : r.queues) {
        EXPECT_FALSE(m.count(std::string(q.name))) << "group listed twice: " << q.name;
        EXPECT_FALSE(q.members.empty());
        m[std::string(q.name)] = sorted(q.members);
    }
    return m;
}

class trie_both_caches : public ::testing::TestWithParam<std::size_t> {
protected:
    subject_trie t{GetParam()};
    std::vector<sub_handle> plain(std::string_view s) { return sorted(t.match(s).plain); }
};

} // namespace

INSTANTIATE_TEST_SUITE_P(cache, trie_both_caches, ::testing::Values(0, 4096),
                         [](const auto& p) { return p.param ? "cached" : "uncached"; });

TEST_P(trie_both_caches, rejects_invalid_subjects) {
    for (const char* s : {"", ".", "foo.", ".foo", "foo..bar", "foo.>.bar", ">.>", "foo bar",
                          "foo\tbar", "foo.\r", "\n", "a.\f"}) {
        EXPECT_FALSE(t.insert(s, "", H(1))) << s;
        EXPECT_FALSE(t.insert(s, "q", H(1))) << s;
        EXPECT_FALSE(t.remove(s, "", H(1))) << s;
    }
    EXPECT_EQ(t.size(), 0u);
    EXPECT_EQ(t.node_count(), 0u);
}

TEST_P(trie_both_caches, literal_and_wildcard_matches) {
    ASSERT_TRUE(t.insert("foo.bar", "", H(1)));
    ASSERT_TRUE(t.insert("foo.*", "", H(2)));
    ASSERT_TRUE(t.insert("foo.>", "", H(3)));
    ASSERT_TRUE(t.insert(">", "", H(4)));
    ASSERT_TRUE(t.insert("*", "", H(5)));
    ASSERT_TRUE(t.insert("*.*", "", H(6)));
    ASSERT_TRUE(t.insert("*.bar", "", H(7)));
    ASSERT_TRUE(t.insert("foo", "", H(8)));
    ASSERT_TRUE(t.insert("foo*.bar", "", H(9)));
    ASSERT_TRUE(t.insert("*.>", "", H(10)));
    EXPECT_EQ(t.size(), 10u);

    EXPECT_EQ(plain("foo.bar"), hs({1, 2, 3, 4, 6, 7, 10}));
    EXPECT_EQ(plain("foo"), hs({4, 5, 8})); // foo.> and *.> need a second token
    EXPECT_EQ(plain("foo.baz"), hs({2, 3, 4, 6, 10}));
    EXPECT_EQ(plain("foo.bar.baz"), hs({3, 4, 10}));
    EXPECT_EQ(plain("x.bar"), hs({4, 6, 7, 10}));
    EXPECT_EQ(plain("foo*.bar"), hs({4, 6, 7, 9, 10})); // foo* is literal
    EXPECT_EQ(plain("foox.bar"), hs({4, 6, 7, 10}));
    EXPECT_EQ(plain("bar"), hs({4, 5}));
    // A published '*' is text: it only meets wildcards.
    EXPECT_EQ(plain("foo.*"), hs({2, 3, 4, 6, 10}));
}

TEST_P(trie_both_caches, full_wildcard_needs_one_token) {
    ASSERT_TRUE(t.insert("foo.>", "", H(1)));
    EXPECT_TRUE(t.match("foo").empty());
    EXPECT_EQ(plain("foo.a"), hs({1}));
    EXPECT_EQ(plain("foo.a.b.c.d"), hs({1}));
    EXPECT_TRUE(t.match("bar.a").empty());
}

TEST_P(trie_both_caches, gt_alone_matches_everything_non_empty) {
    ASSERT_TRUE(t.insert(">", "", H(1)));
    EXPECT_EQ(plain("a"), hs({1}));
    EXPECT_EQ(plain("a.b.c"), hs({1}));
    EXPECT_TRUE(t.match("").empty());
    EXPECT_TRUE(t.match("a..b").empty());
}

TEST_P(trie_both_caches, star_in_every_position) {
    const std::vector<std::string> toks{"a", "b", "c", "d"};
    for (int mask = 0; mask < 16; ++mask) {
        std::string p;
        for (int i = 0; i < 4; ++i)
            p += (i ? "." : "") + ((mask >> i) & 1 ? std::string("*") : toks[i]);
        ASSERT_TRUE(t.insert(p, "", H(mask)));
    }
    std::vector<sub_handle> all;
    for (int i = 0; i < 16; ++i) all.push_back(H(i));
    EXPECT_EQ(plain("a.b.c.d"), sorted(all));
    // "x.b.c.d": only patterns with '*' in position 0.
    std::vector<sub_handle> first_star;
    for (int i = 1; i < 16; i += 2) first_star.push_back(H(i));
    EXPECT_EQ(plain("x.b.c.d"), sorted(first_star));
    EXPECT_EQ(plain("x.y.z.w"), hs({15}));
    EXPECT_TRUE(t.match("a.b.c").empty());
    EXPECT_TRUE(t.match("a.b.c.d.e").empty());
}

TEST_P(trie_both_caches, star_star_matches_exactly_two_tokens) {
    ASSERT_TRUE(t.insert("*.*", "", H(1)));
    EXPECT_TRUE(t.match("a").empty());
    EXPECT_EQ(plain("a.b"), hs({1}));
    EXPECT_TRUE(t.match("a.b.c").empty());
}

TEST_P(trie_both_caches, empty_tokens_match_nothing) {
    ASSERT_TRUE(t.insert(">", "", H(1)));
    ASSERT_TRUE(t.insert("*", "", H(2)));
    for (const char* s : {"", ".", "a.", ".a", "a..b"}) EXPECT_TRUE(t.match(s).empty()) << s;
}

TEST_P(trie_both_caches, subjects_longer_than_32_tokens) {
    std::string lit, star, gt;
    for (int i = 0; i < 40; ++i) {
        const std::string tok = "t" + std::to_string(i);
        lit += (i ? "." : "") + tok;
        star += (i ? "." : "") + (i == 35 ? std::string("*") : tok);
        if (i < 34) gt += tok + ".";
    }
    gt += ">";
    ASSERT_TRUE(t.insert(lit, "", H(1)));
    ASSERT_TRUE(t.insert(star, "", H(2)));
    ASSERT_TRUE(t.insert(gt, "q", H(3)));
    const auto& r = t.match(lit);
    EXPECT_EQ(sorted(r.plain), hs({1, 2}));
    ASSERT_EQ(r.queues.size(), 1u);
    EXPECT_EQ(r.queues[0].name, "q");
    std::string other = lit;
    other.replace(other.find("t35"), 3, "zz");
    EXPECT_EQ(plain(other), hs({2}));
    EXPECT_TRUE(t.remove(lit, "", H(1)));
    EXPECT_TRUE(t.remove(star, "", H(2)));
    EXPECT_TRUE(t.remove(gt, "q", H(3)));
    EXPECT_EQ(t.node_count(), 0u);
}

TEST_P(trie_both_caches, queue_groups_are_merged_by_name) {
    ASSERT_TRUE(t.insert("foo.bar", "q1", H(1)));
    ASSERT_TRUE(t.insert("foo.bar", "q1", H(2)));
    ASSERT_TRUE(t.insert("foo.*", "q1", H(3)));
    ASSERT_TRUE(t.insert("foo.>", "q2", H(4)));
    ASSERT_TRUE(t.insert("foo.bar", "", H(5)));
    ASSERT_TRUE(t.insert("foo.bar", "q2", H(5))); // same handle, different entry
    const auto& r = t.match("foo.bar");
    EXPECT_EQ(sorted(r.plain), hs({5}));
    const auto q = queues_of(r);
    ASSERT_EQ(q.size(), 2u);
    EXPECT_EQ(q.at("q1"), hs({1, 2, 3}));
    EXPECT_EQ(q.at("q2"), hs({4, 5}));
    const auto q2 = queues_of(t.match("foo.baz"));
    EXPECT_EQ(q2.at("q1"), hs({3}));
    EXPECT_EQ(q2.at("q2"), hs({4}));
    EXPECT_TRUE(t.match("foo.baz").plain.empty());
    // Queue members leave one by one; an emptied group disappears.
    EXPECT_TRUE(t.remove("foo.*", "q1", H(3)));
    EXPECT_EQ(queues_of(t.match("foo.baz")).count("q1"), 0u);
    EXPECT_FALSE(t.remove("foo.bar", "q3", H(1)));
    EXPECT_FALSE(t.remove("foo.bar", "", H(1)));
}

TEST_P(trie_both_caches, duplicate_inserts_are_rejected) {
    EXPECT_TRUE(t.insert("foo.*", "", H(1)));
    EXPECT_FALSE(t.insert("foo.*", "", H(1)));
    EXPECT_TRUE(t.insert("foo.*", "g", H(1)));
    EXPECT_FALSE(t.insert("foo.*", "g", H(1)));
    EXPECT_TRUE(t.insert("foo.>", "", H(1))); // another pattern: another entry
    EXPECT_EQ(t.size(), 3u);
    const auto& r = t.match("foo.x");
    EXPECT_EQ(r.plain, (std::vector<sub_handle>{H(1), H(1)}));
    ASSERT_EQ(r.queues.size(), 1u);
    EXPECT_EQ(r.queues[0].members, std::vector<sub_handle>{H(1)});
    EXPECT_EQ(t.stats().inserts, 3u);
}

TEST_P(trie_both_caches, remove_missing_entries_fails) {
    ASSERT_TRUE(t.insert("a.b", "", H(1)));
    EXPECT_FALSE(t.remove("a.b", "", H(2)));
    EXPECT_FALSE(t.remove("a.c", "", H(1)));
    EXPECT_FALSE(t.remove("a", "", H(1)));
    EXPECT_FALSE(t.remove("a.b.c", "", H(1)));
    EXPECT_FALSE(t.remove("a.*", "", H(1)));
    EXPECT_FALSE(t.remove("a.b", "q", H(1)));
    EXPECT_EQ(t.size(), 1u);
    EXPECT_TRUE(t.remove("a.b", "", H(1)));
    EXPECT_FALSE(t.remove("a.b", "", H(1)));
    EXPECT_EQ(t.size(), 0u);
    EXPECT_EQ(t.stats().removes, 1u);
}

TEST_P(trie_both_caches, removal_prunes_empty_nodes) {
    ASSERT_TRUE(t.insert("a.b.c.d", "", H(1)));
    EXPECT_EQ(t.node_count(), 4u);
    ASSERT_TRUE(t.insert("a.b.x", "", H(2)));
    EXPECT_EQ(t.node_count(), 5u);
    ASSERT_TRUE(t.insert("a.*.>", "q", H(3)));
    EXPECT_EQ(t.node_count(), 7u);
    ASSERT_TRUE(t.insert("a", "", H(4)));
    EXPECT_EQ(t.node_count(), 7u);
    ASSERT_TRUE(t.remove("a.b.c.d", "", H(1)));
    EXPECT_EQ(t.node_count(), 5u); // c and d went, b stays for x
    ASSERT_TRUE(t.remove("a.*.>", "q", H(3)));
    EXPECT_EQ(t.node_count(), 3u);
    ASSERT_TRUE(t.remove("a.b.x", "", H(2)));
    EXPECT_EQ(t.node_count(), 1u); // "a" still has a subscriber
    ASSERT_TRUE(t.remove("a", "", H(4)));
    EXPECT_EQ(t.node_count(), 0u);
    EXPECT_TRUE(t.empty());
    EXPECT_TRUE(t.match("a.b.x").empty());
}

TEST_P(trie_both_caches, many_subscribers_on_one_subject) {
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(t.insert("hot", i % 2 ? "g" : "", H(i)));
    for (int i = 0; i < 1000; i += 4) ASSERT_TRUE(t.remove("hot", "", H(i)));
    for (int i = 1; i < 1000; i += 4) ASSERT_TRUE(t.remove("hot", "g", H(i)));
    std::vector<sub_handle> plain_left, group_left;
    for (int i = 2; i < 1000; i += 4) plain_left.push_back(H(i));
    for (int i = 3; i < 1000; i += 4) group_left.push_back(H(i));
    const auto& r = t.match("hot");
    EXPECT_EQ(sorted(r.plain), sorted(plain_left));
    ASSERT_EQ(r.queues.size(), 1u);
    EXPECT_EQ(sorted(r.queues[0].members), sorted(group_left));
    EXPECT_FALSE(t.insert("hot", "", H(2)));
    for (int i = 2; i < 1000; i += 4) ASSERT_TRUE(t.remove("hot", "", H(i)));
    for (int i = 3; i < 1000; i += 4) ASSERT_TRUE(t.remove("hot", "g", H(i)));
    EXPECT_EQ(t.node_count(), 0u);
}

TEST_P(trie_both_caches, memory_is_returned_after_removal) {
    const std::size_t empty = t.memory_bytes();
    for (int i = 0; i < 2000; ++i)
        ASSERT_TRUE(
            t.insert("svc." + std::to_string(i % 50) + ".item." + std::to_string(i), "", H(i)));
    const std::size_t full = t.memory_bytes();
    EXPECT_GT(full, empty + 2000 * 64);
    for (int i = 0; i < 2000; ++i)
        ASSERT_TRUE(
            t.remove("svc." + std::to_string(i % 50) + ".item." + std::to_string(i), "", H(i)));
    EXPECT_EQ(t.node_count(), 0u);
    EXPECT_LT(t.memory_bytes(), empty + 1024);
}

TEST(subject_trie, cache_hits_and_targeted_literal_invalidation) {
    subject_trie t;
    ASSERT_TRUE(t.insert("foo.bar", "", H(1)));
    ASSERT_TRUE(t.insert("foo.baz", "", H(2)));
    EXPECT_EQ(t.match("foo.bar").plain.size(), 1u);
    EXPECT_EQ(t.match("foo.baz").plain.size(), 1u);
    EXPECT_EQ(t.match("foo.bar").plain.size(), 1u);
    EXPECT_EQ(t.stats().cache_hits, 1u);
    EXPECT_EQ(t.stats().cache_misses, 2u);
    // A literal change only drops its own subject.
    ASSERT_TRUE(t.insert("foo.bar", "", H(3)));
    EXPECT_EQ(sorted(t.match("foo.bar").plain), hs({1, 3}));
    EXPECT_EQ(t.stats().cache_misses, 3u);
    EXPECT_EQ(t.match("foo.baz").plain, std::vector<sub_handle>{H(2)});
    EXPECT_EQ(t.stats().cache_hits, 2u);
    ASSERT_TRUE(t.remove("foo.bar", "", H(1)));
    EXPECT_EQ(t.match("foo.bar").plain, std::vector<sub_handle>{H(3)});
    EXPECT_EQ(t.stats().matches, 6u);
}

TEST(subject_trie, wildcard_inserted_after_a_literal_was_cached) {
    subject_trie t;
    ASSERT_TRUE(t.insert("a.b.c", "", H(1)));
    EXPECT_EQ(t.match("a.b.c").plain.size(), 1u);
    EXPECT_TRUE(t.match("x.y").empty()); // a cached empty result
    EXPECT_EQ(t.stats().cache_entries, 2u);
    ASSERT_TRUE(t.insert("a.*.c", "", H(2)));
    EXPECT_EQ(t.stats().cache_entries, 0u);
    EXPECT_EQ(sorted(t.match("a.b.c").plain), hs({1, 2}));
    ASSERT_TRUE(t.insert(">", "g", H(3)));
    const auto& r = t.match("x.y");
    ASSERT_EQ(r.queues.size(), 1u);
    EXPECT_EQ(r.queues[0].name, "g");
    EXPECT_EQ(r.queues[0].members, std::vector<sub_handle>{H(3)});
    EXPECT_EQ(sorted(t.match("a.b.c").plain), hs({1, 2}));
    EXPECT_EQ(t.match("a.b.c").queues.size(), 1u);
    // Wildcard removal is seen too.
    ASSERT_TRUE(t.remove("a.*.c", "", H(2)));
    EXPECT_EQ(t.match("a.b.c").plain, std::vector<sub_handle>{H(1)});
    ASSERT_TRUE(t.remove(">", "g", H(3)));
    EXPECT_TRUE(t.match("x.y").empty());
}

TEST(subject_trie, cache_is_bounded) {
    subject_trie t(128);
    ASSERT_TRUE(t.insert("flood.>", "", H(1)));
    EXPECT_EQ(t.cache_capacity(), 128u);
    std::size_t mem_warm = 0;
    for (int i = 0; i < 50000; ++i) {
        ASSERT_EQ(t.match("flood." + std::to_string(i)).plain.size(), 1u);
        if (i == 999) mem_warm = t.memory_bytes();
    }
    const auto s = t.stats();
    EXPECT_LE(s.cache_entries, 128u);
    EXPECT_EQ(s.cache_misses, 50000u);
    EXPECT_EQ(s.cache_evictions, 50000u - 128u);
    EXPECT_LE(t.memory_bytes(), mem_warm + 128 * 32);
}

TEST(subject_trie, cache_disabled_counts_every_match_as_a_miss) {
    subject_trie t(0);
    ASSERT_TRUE(t.insert("a", "", H(1)));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(t.match("a").plain.size(), 1u);
    EXPECT_EQ(t.stats().cache_hits, 0u);
    EXPECT_EQ(t.stats().cache_misses, 3u);
    EXPECT_EQ(t.cache_capacity(), 0u);
}

TEST(subject_trie, wide_level_survives_random_churn) {
    // One level with thousands of literal children: exercises table growth,
    // backward-shift deletion and shrinking back to a single inline child.
    subject_trie t(0);
    constexpr int n = 3000;
    std::vector<bool> present(n, false);
    std::uint64_t x = 12345;
    const auto next = [&] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    const auto subj = [](int i) { return "wide." + std::to_string(i * 7919 % 100003); };
    for (int round = 0; round < 6; ++round) {
        for (int k = 0; k < n; ++k) {
            const int i = static_cast<int>(next() % n);
            if (present[i]) {
                ASSERT_TRUE(t.remove(subj(i), "", H(i)));
            } else {
                ASSERT_TRUE(t.insert(subj(i), "", H(i)));
            }
            present[i] = !present[i];
        }
        for (int i = 0; i < n; ++i) {
            const auto& r = t.match(subj(i));
            ASSERT_EQ(r.plain.size(), present[i] ? 1u : 0u) << i;
            if (present[i]) {
                EXPECT_EQ(r.plain[0], H(i));
            }
        }
    }
    int left = 0;
    for (int i = 0; i < n; ++i) {
        if (!present[i]) continue;
        if (++left == 1) continue; // keep one child: the table must go back inline
        ASSERT_TRUE(t.remove(subj(i), "", H(i)));
    }
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.node_count(), 2u);
    EXPECT_LT(t.memory_bytes(), 4096u);
}
