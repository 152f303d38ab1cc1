#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>

#include <gtest/gtest.h>

#include <natrix/util/gradual_map.hh>

namespace {

using natrix::util::gradual_map;

// Everything a std::unordered_map would answer, through growth and
// shrinking, checked against one after every operation batch.
TEST(gradual_map, matches_unordered_map_under_random_churn) {
    gradual_map<std::string, int> g;
    std::unordered_map<std::string, int> ref;
    std::mt19937_64 rng(7);
    bool saw_growing = false;
    for (int round = 0; round < 200000; ++round) {
        const std::string k = "k" + std::to_string(rng() % 20000);
        switch (rng() % 4) {
        case 0:
        case 1: {
            const int v = static_cast<int>(rng() % 1000);
            const auto [it, added] = g.try_emplace(k, v);
            const auto [rit, radded] = ref.try_emplace(k, v);
            ASSERT_EQ(added, radded);
            ASSERT_EQ(it->first, k);
            ASSERT_EQ(it->second, rit->second);
            break;
        }
        case 2:
            ASSERT_EQ(g.erase(k), ref.erase(k));
            break;
        default: {
            const auto it = g.find(k);
            const auto rit = ref.find(k);
            ASSERT_EQ(it == g.end(), rit == ref.end());
            if (rit != ref.end()) {
                ASSERT_EQ(it->second, rit->second);
            }
            ASSERT_EQ(g.count(k), ref.count(k));
        }
        }
        saw_growing = saw_growing || g.growing();
        ASSERT_EQ(g.size(), ref.size());
        if (round % 10000 == 0) {
            std::map<std::string, int> a, b(ref.begin(), ref.end());
            for (const auto& [key, v] : g)
                ASSERT_TRUE(a.emplace(key, v).second) << "twice: " << key;
            ASSERT_EQ(a, b);
        }
    }
    EXPECT_TRUE(saw_growing);
}

// Growth moves a bounded number of nodes per operation, and the nodes
// themselves never move: pointers taken before growth stay valid.
TEST(gradual_map, growth_is_gradual_and_nodes_stay_put) {
    gradual_map<std::string, std::unique_ptr<int>> g;
    std::vector<std::pair<const std::string*, int*>> seen;
    std::size_t max_old = 0;
    for (int i = 0; i < 100000; ++i) {
        auto [it, added] = g.try_emplace("subject." + std::to_string(i), std::make_unique<int>(i));
        ASSERT_TRUE(added);
        if (i % 997 == 0) seen.emplace_back(&it->first, it->second.get());
        if (g.growing()) ++max_old;
    }
    EXPECT_GT(max_old, 0u) << "never grew gradually";
    for (const auto& [key, val] : seen) {
        const auto it = g.find(*key);
        ASSERT_NE(it, g.end());
        EXPECT_EQ(&it->first, key);
        EXPECT_EQ(it->second.get(), val);
    }
    // Erasing from the front while growing (as a teardown does) empties it.
    std::size_t n = 0;
    while (!g.empty()) {
        g.erase(g.begin());
        ++n;
    }
    EXPECT_EQ(n, 100000u);
    EXPECT_FALSE(g.growing());
}

TEST(gradual_map, const_iteration_visits_both_tables) {
    gradual_map<std::string, int> g;
    int i = 0;
    while (!g.growing()) g.try_emplace(std::to_string(i++), 1);
    const auto& c = g;
    int sum = 0;
    for (const auto& kv : c) sum += kv.second;
    EXPECT_EQ(sum, i);
    EXPECT_EQ(static_cast<std::size_t>(i), c.size());
}

} // namespace
