// Randomized differential tests: subject_trie and interest_map against a
// brute-force model built on subject_matches(). Seeded and deterministic.
#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include <natrix/subjects/interest_map.hh>
#include <natrix/subjects/subject.hh>
#include <natrix/subjects/subject_trie.hh>

using namespace natrix::subjects;

namespace {

struct rng {
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }
    bool chance(std::uint32_t percent) { return below(100) < percent; }
};

const std::array<const char*, 5> vocab{"a", "b", "c", "d", "a*"};

std::string random_pattern(rng& r) {
    const bool long_one = r.chance(3);
    const std::uint32_t n = long_one ? 33 + r.below(4) : 1 + r.below(4);
    std::string p;
    for (std::uint32_t i = 0; i < n; ++i) {
        if (i) p += '.';
        if (i + 1 == n && r.chance(15)) {
            p += '>';
        } else if (r.chance(long_one ? 8 : 25)) {
            p += '*';
        } else {
            p += vocab[r.below(long_one ? 2 : 5)];
        }
    }
    return p;
}

// A subject that some pattern matches: wildcards filled in.
std::string instantiate(rng& r, const std::string& pattern) {
    token_list t;
    t.split(pattern);
    std::string s;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (i) s += '.';
        if (is_single_wildcard(t[i])) {
            s += vocab[r.below(4)];
        } else if (is_full_wildcard(t[i])) {
            const std::uint32_t extra = 1 + r.below(3);
            for (std::uint32_t k = 0; k < extra; ++k)
                s += (k ? "." : "") + std::string(vocab[r.below(4)]);
        } else {
            s += t[i];
        }
    }
    return s;
}

std::string random_subject(rng& r) {
    if (r.chance(4)) {
        static const char* bad[] = {"", ".", "a.", ".a", "a..b", "a.b."};
        return bad[r.below(6)];
    }
    const std::uint32_t n = r.chance(2) ? 33 + r.below(4) : 1 + r.below(5);
    std::string s;
    for (std::uint32_t i = 0; i < n; ++i) {
        if (i) s += '.';
        const std::uint32_t k = r.below(100);
        s += k < 4 ? "*" : k < 8 ? ">" : vocab[r.below(n > 32 ? 2 : 5)];
    }
    return s;
}

// ---------------------------------------------------------------- trie

struct ref_entry {
    std::string pattern;
    std::string queue;
    sub_handle h;
    bool operator==(const ref_entry&) const = default;
};

struct normalized {
    std::vector<sub_handle> plain;
    std::map<std::string, std::vector<sub_handle>> queues;
    bool operator==(const normalized&) const = default;
};

std::ostream& operator<<(std::ostream& os, const normalized& n) {
    os << "{plain:" << n.plain.size();
    for (const auto& [name, v] : n.queues) os << " " << name << ":" << v.size();
    return os << "}";
}

normalized normalize(const match_result& m) {
    normalized n;
    n.plain = m.plain;
    std::sort(n.plain.begin(), n.plain.end());
    for (const auto& q : m.queues) {
        EXPECT_FALSE(q.members.empty());
        EXPECT_EQ(n.queues.count(std::string(q.name)), 0u) << "queue group listed twice";
        auto& v = n.queues[std::string(q.name)];
        v = q.members;
        std::sort(v.begin(), v.end());
    }
    return n;
}

normalized brute_match(const std::vector<ref_entry>& ref, const std::string& subject) {
    normalized n;
    for (const auto& e : ref) {
        if (!subject_matches(e.pattern, subject)) continue;
        if (e.queue.empty()) {
            n.plain.push_back(e.h);
        } else {
            n.queues[e.queue].push_back(e.h);
        }
    }
    std::sort(n.plain.begin(), n.plain.end());
    for (auto& [name, v] : n.queues) std::sort(v.begin(), v.end());
    return n;
}

TEST(subjects_differential, trie_matches_brute_force) {
    rng r{20240601};
    static int handle_pool[40];
    const std::array<const char*, 4> queues{"", "", "q1", "q2"};
    // Same operations on three tries: cache off, a tiny cache (constant
    // eviction) and the default one.
    subject_trie tries[3] = {subject_trie(0), subject_trie(8), subject_trie(4096)};
    std::vector<ref_entry> ref;
    std::size_t matches = 0, non_empty = 0;
    std::array<std::string, 16> hot;
    for (auto& h : hot) h = random_subject(r);
    constexpr int ops = 100000;
    for (int op = 0; op < ops; ++op) {
        const std::uint32_t k = r.below(100);
        const bool grow = ref.size() < 150;
        if (k < (grow ? 45u : 25u)) { // subscribe
            ref_entry e{random_pattern(r), queues[r.below(4)], &handle_pool[r.below(40)]};
            const bool expected = std::find(ref.begin(), ref.end(), e) == ref.end();
            if (expected) ref.push_back(e);
            for (auto& t : tries)
                ASSERT_EQ(t.insert(e.pattern, e.queue, e.h), expected) << e.pattern;
        } else if (k < 65) { // unsubscribe, mostly something present
            ref_entry e;
            if (!ref.empty() && r.chance(75)) {
                e = ref[r.below(static_cast<std::uint32_t>(ref.size()))];
            } else {
                e = ref_entry{random_pattern(r), queues[r.below(4)], &handle_pool[r.below(40)]};
            }
            const auto it = std::find(ref.begin(), ref.end(), e);
            const bool expected = it != ref.end();
            if (expected) ref.erase(it);
            for (auto& t : tries)
                ASSERT_EQ(t.remove(e.pattern, e.queue, e.h), expected) << e.pattern;
        } else { // publish a burst, often to recently used subjects so the caches hit
            const std::uint32_t burst = 1 + r.below(4);
            for (std::uint32_t b = 0; b < burst; ++b) {
                std::string s;
                if (r.chance(50)) {
                    s = hot[r.below(hot.size())];
                } else {
                    s = (!ref.empty() && r.chance(40))
                            ? instantiate(
                                  r, ref[r.below(static_cast<std::uint32_t>(ref.size()))].pattern)
                            : random_subject(r);
                    hot[r.below(hot.size())] = s;
                }
                const normalized want = brute_match(ref, s);
                for (auto& t : tries) ASSERT_EQ(normalize(t.match(s)), want) << "subject " << s;
                ++matches;
                non_empty += !want.plain.empty() || !want.queues.empty();
            }
        }
        for (auto& t : tries) ASSERT_EQ(t.size(), ref.size());
    }
    // The run must have exercised real matches and the cache.
    EXPECT_GT(matches, 60000u);
    EXPECT_GT(non_empty, matches / 3);
    EXPECT_GT(tries[2].stats().cache_hits, 1000u);
    EXPECT_GT(tries[1].stats().cache_evictions, 1000u);
    // Everything removed: the tries prune back to an empty root.
    for (const auto& e : ref)
        for (auto& t : tries) ASSERT_TRUE(t.remove(e.pattern, e.queue, e.h));
    for (auto& t : tries) {
        EXPECT_EQ(t.size(), 0u);
        EXPECT_EQ(t.node_count(), 0u);
    }
}

// ---------------------------------------------------------------- interest map

using statement_key = std::pair<std::string, std::string>; // pattern, queue
using model = std::map<statement_key, std::map<std::uint16_t, std::uint32_t>>;

struct normalized_interest {
    std::uint64_t shards = 0;
    std::map<std::string, std::pair<std::vector<shard_weight>, std::uint32_t>> queues;
    bool operator==(const normalized_interest&) const = default;
};

std::ostream& operator<<(std::ostream& os, const normalized_interest& n) {
    os << "{shards:" << std::hex << n.shards << std::dec;
    for (const auto& [name, q] : n.queues) {
        os << " " << name << ":[";
        for (const auto& w : q.first) os << w.shard << "=" << w.weight << " ";
        os << "] total " << q.second;
    }
    return os << "}";
}

normalized_interest normalize(const interest_result& r) {
    normalized_interest n;
    n.shards = r.shards;
    for (const auto& q : r.queues) {
        EXPECT_EQ(n.queues.count(std::string(q.name)), 0u);
        EXPECT_TRUE(std::is_sorted(q.weights.begin(), q.weights.end(),
                                   [](auto& a, auto& b) { return a.shard < b.shard; }));
        n.queues[std::string(q.name)] = {q.weights, q.total};
    }
    return n;
}

normalized_interest brute_lookup(const model& m, const std::string& subject) {
    normalized_interest n;
    std::map<std::string, std::map<std::uint16_t, std::uint32_t>> sums;
    for (const auto& [key, per_shard] : m) {
        if (!subject_matches(key.first, subject)) continue;
        for (const auto& [shard, count] : per_shard) {
            if (key.second.empty()) {
                n.shards |= std::uint64_t{1} << shard;
            } else {
                sums[key.second][shard] += count;
            }
        }
    }
    for (const auto& [name, per_shard] : sums) {
        auto& q = n.queues[name];
        for (const auto& [shard, w] : per_shard) {
            q.first.push_back(shard_weight{shard, w});
            q.second += w;
        }
    }
    return n;
}

TEST(subjects_differential, interest_map_matches_brute_force) {
    rng r{77};
    const std::array<const char*, 4> queues{"", "", "q1", "q2"};
    interest_map maps[2] = {interest_map(0), interest_map(4096)};
    model ref;
    std::size_t statements = 0, lookups = 0, non_empty = 0, repeats = 0;
    interest_delta last;
    bool last_valid = false;
    std::array<std::string, 16> hot;
    for (auto& h : hot) h = random_subject(r);
    constexpr int ops = 100000;
    for (int op = 0; op < ops; ++op) {
        const std::uint32_t k = r.below(1000);
        if (k < 550) { // a delta
            interest_delta d;
            if (!ref.empty() && (statements > 300 ? r.chance(70) : r.chance(25))) {
                // Restate or drop something present.
                const auto& [key, per_shard] =
                    *std::next(ref.begin(), r.below(static_cast<std::uint32_t>(ref.size())));
                const auto& [shard, count] = *std::next(
                    per_shard.begin(), r.below(static_cast<std::uint32_t>(per_shard.size())));
                d = interest_delta{shard, key.first, key.second,
                                   r.chance(60) ? 0u : count + r.below(3)};
            } else {
                const std::uint16_t shard =
                    static_cast<std::uint16_t>(r.chance(80) ? r.below(8) : r.below(64));
                d = interest_delta{shard, random_pattern(r), queues[r.below(4)], r.below(4)};
            }
            auto& per_shard = ref[{d.subject_pattern, d.queue}];
            const auto it = per_shard.find(d.shard);
            const std::uint32_t before = it == per_shard.end() ? 0 : it->second;
            const bool expected = before != d.count;
            if (d.count == 0) {
                if (it != per_shard.end()) per_shard.erase(it), --statements;
            } else {
                if (it == per_shard.end()) ++statements;
                per_shard[d.shard] = d.count;
            }
            if (per_shard.empty()) ref.erase({d.subject_pattern, d.queue});
            for (auto& m : maps) ASSERT_EQ(m.apply(d), expected);
            last = d;
            last_valid = true;
        } else if (k < 650) { // the same delta again, as after a re-delivery
            if (!last_valid) continue;
            for (auto& m : maps) ASSERT_FALSE(m.apply(last));
            ++repeats;
        } else if (k < 653) { // a shard drops all its interest at once (its clients left)
            const std::uint16_t shard = static_cast<std::uint16_t>(r.below(8));
            std::size_t removed = 0;
            for (auto it = ref.begin(); it != ref.end();) {
                if (it->second.erase(shard)) {
                    ++removed;
                    const interest_delta zero{shard, it->first.first, it->first.second, 0};
                    for (auto& m : maps) ASSERT_TRUE(m.apply(zero));
                }
                it = it->second.empty() ? ref.erase(it) : std::next(it);
            }
            statements -= removed;
            last_valid = false;
        } else { // publish a burst, often to recently used subjects so the cache hits
            const std::uint32_t burst = 1 + r.below(4);
            for (std::uint32_t b = 0; b < burst; ++b) {
                std::string s;
                if (r.chance(50)) {
                    s = hot[r.below(hot.size())];
                } else {
                    s = (!ref.empty() && r.chance(50))
                            ? instantiate(r,
                                          std::next(ref.begin(),
                                                    r.below(static_cast<std::uint32_t>(ref.size())))
                                              ->first.first)
                            : random_subject(r);
                    hot[r.below(hot.size())] = s;
                }
                const normalized_interest want = brute_lookup(ref, s);
                for (auto& m : maps) ASSERT_EQ(normalize(m.lookup(s)), want) << "subject " << s;
                ++lookups;
                non_empty += want.shards != 0 || !want.queues.empty();
            }
        }
    }
    EXPECT_GT(lookups, 60000u);
    EXPECT_GT(non_empty, lookups / 3);
    EXPECT_GT(repeats, 5000u);
    EXPECT_GT(maps[1].stats().cache_hits, 1000u);
    for (auto& m : maps) EXPECT_EQ(m.entries(), ref.size());
}

} // namespace
