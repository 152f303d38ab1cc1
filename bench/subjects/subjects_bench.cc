// Subject routing benchmarks: trie match rate (cached, uncached, cache
// thrashed) for literal, '*'-heavy and '>'-heavy subscription mixes at 10k,
// 100k and 1M subscriptions; insert and remove rates; bytes per subscription;
// interest-map lookups. Single-threaded, as on a shard.
//
// The 1M cases build large tries; skip them with
//   --benchmark_filter='-.*/1000000'   (or run only them with '.*/1000000').
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <natrix/subjects/interest_map.hh>
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
};

enum mix : int { literal = 0, star_heavy = 1, gt_heavy = 2 };
const char* mix_name(int m) {
    return m == literal ? "literal" : m == star_heavy ? "star" : "gt";
}

// The literal subject space: 4 tokens, like "org3.svc42.inst017.e123456".
// Token 3 is unique per index, so every literal subscription is distinct.
std::string literal_subject(std::uint32_t i) {
    std::string s = "org" + std::to_string(i % 10);
    s += ".svc" + std::to_string((i / 10) % 100);
    s += ".inst" + std::to_string((i / 1000) % 100);
    s += ".e" + std::to_string(i);
    return s;
}

std::string replace_token(const std::string& s, int pos, const char* with) {
    std::string out;
    int t = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == '.') {
            if (!out.empty() || t) out += '.';
            out += t == pos ? std::string(with) : s.substr(start, i - start);
            start = i + 1;
            ++t;
        }
    }
    return out;
}

std::string prefix_gt(const std::string& s, int depth) {
    std::size_t pos = 0;
    for (int d = 0; d < depth; ++d) pos = s.find('.', pos) + 1;
    return s.substr(0, pos) + ">";
}

// Subscription patterns for a mix: half literal, half wildcard for the
// wildcard mixes. '>' prefixes are mostly deep, so fan-out stays realistic
// (a depth-1 "orgN.>" would match a tenth of everything).
std::vector<std::string> make_patterns(int m, std::uint32_t n) {
    rng r{1234 + static_cast<std::uint64_t>(m)};
    std::vector<std::string> out;
    out.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        std::string s = literal_subject(i);
        if (m == star_heavy && (i & 1)) {
            s = replace_token(s, static_cast<int>(r.below(4)), "*");
        } else if (m == gt_heavy && (i & 1)) {
            const std::uint32_t k = r.below(100);
            s = prefix_gt(s, k < 2 ? 1 : k < 30 ? 2 : 3);
        }
        out.push_back(std::move(s));
    }
    return out;
}

sub_handle handle(std::uint32_t i) {
    return reinterpret_cast<sub_handle>(static_cast<std::uintptr_t>(i + 1) * 64);
}

// Published subjects, packed in one buffer: on a shard the subject sits in the
// just-received read buffer, so a benchmark should not pay a cache miss to
// fetch each subject's own heap allocation.
class subject_list {
public:
    void assign(const std::vector<std::string>& subjects) {
        bytes_.clear();
        views_.clear();
        for (const auto& s : subjects) bytes_ += s;
        std::size_t pos = 0;
        for (const auto& s : subjects) {
            views_.emplace_back(bytes_.data() + pos, s.size());
            pos += s.size();
        }
    }
    std::string_view operator[](std::size_t i) const { return views_[i]; }

private:
    std::string bytes_;
    std::vector<std::string_view> views_;
};

std::vector<std::string> random_literals(std::uint64_t seed, std::uint32_t n) {
    rng r{seed};
    std::vector<std::string> out;
    for (int i = 0; i < 65536; ++i) out.push_back(literal_subject(r.below(n)));
    return out;
}

// One trie at a time, rebuilt when a benchmark needs another shape.
struct fixture {
    int m = -1;
    std::uint32_t n = 0;
    std::size_t cache = 0;
    std::unique_ptr<subject_trie> trie;
    subject_list publish; // random literal subjects from the same space
};
fixture g;

fixture& get(int m, std::uint32_t n, std::size_t cache) {
    if (g.trie && g.m == m && g.n == n && g.cache == cache) return g;
    g.trie.reset();
    g.trie = std::make_unique<subject_trie>(cache);
    const auto patterns = make_patterns(m, n);
    for (std::uint32_t i = 0; i < n; ++i) g.trie->insert(patterns[i], "", handle(i));
    g.m = m;
    g.n = n;
    g.cache = cache;
    g.publish.assign(random_literals(99, n));
    return g;
}

void report_fanout(benchmark::State& state, std::uint64_t handles, std::uint64_t matches) {
    state.SetItemsProcessed(static_cast<std::int64_t>(matches));
    state.counters["fanout"] =
        matches ? static_cast<double>(handles) / static_cast<double>(matches) : 0;
}

// Cached: a hot set of 1024 subjects, well inside the default 4096 entries.
void bm_match_cached(benchmark::State& state, int m) {
    auto& f = get(m, static_cast<std::uint32_t>(state.range(0)), default_cache_capacity);
    std::uint64_t handles = 0, i = 0;
    for (auto _ : state) {
        const auto& r = f.trie->match(f.publish[i++ & 1023]);
        handles += r.plain.size();
        benchmark::DoNotOptimize(&r);
    }
    report_fanout(state, handles, state.iterations());
    const auto s = f.trie->stats();
    state.counters["hit_rate"] = static_cast<double>(s.cache_hits) / static_cast<double>(s.matches);
}

// Uncached: cache off, the trie walk alone, random subjects.
void bm_match_uncached(benchmark::State& state, int m) {
    auto& f = get(m, static_cast<std::uint32_t>(state.range(0)), 0);
    std::uint64_t handles = 0, i = 0;
    for (auto _ : state) {
        const auto& r = f.trie->match(f.publish[i++ & 65535]);
        handles += r.plain.size();
        benchmark::DoNotOptimize(&r);
    }
    report_fanout(state, handles, state.iterations());
}

// Thrashed: cache on, but 64k distinct subjects cycle through 4096 entries,
// so nearly every match misses and pays for the claim and eviction too.
void bm_match_thrash(benchmark::State& state, int m) {
    auto& f = get(m, static_cast<std::uint32_t>(state.range(0)), default_cache_capacity);
    const auto before = f.trie->stats();
    std::uint64_t handles = 0, i = 0;
    for (auto _ : state) {
        const auto& r = f.trie->match(f.publish[i++ & 65535]);
        handles += r.plain.size();
        benchmark::DoNotOptimize(&r);
    }
    report_fanout(state, handles, state.iterations());
    const auto s = f.trie->stats();
    state.counters["hit_rate"] = static_cast<double>(s.cache_hits - before.cache_hits) /
                                 static_cast<double>(s.matches - before.matches);
}

// Builds a trie of n subscriptions per iteration; also measures the heap it
// takes (mallinfo2 delta, allocator overhead included) per subscription.
void bm_insert(benchmark::State& state, int m) {
    const auto n = static_cast<std::uint32_t>(state.range(0));
    const auto patterns = make_patterns(m, n);
    double bytes_per_sub = 0, estimate_per_sub = 0, fixed_bytes = 0;
    for (auto _ : state) {
        state.PauseTiming();
        const std::size_t heap_empty = mallinfo2().uordblks;
        auto t = std::make_unique<subject_trie>(default_cache_capacity);
        // Marginal cost per subscription: the empty trie (mostly the cache's
        // fixed arrays) is reported apart, as fixed_bytes.
        const std::size_t heap_before = mallinfo2().uordblks;
        const std::size_t estimate_before = t->memory_bytes();
        fixed_bytes = static_cast<double>(heap_before - heap_empty);
        state.ResumeTiming();
        for (std::uint32_t i = 0; i < n; ++i) t->insert(patterns[i], "", handle(i));
        state.PauseTiming();
        bytes_per_sub = static_cast<double>(mallinfo2().uordblks - heap_before) / n;
        estimate_per_sub = static_cast<double>(t->memory_bytes() - estimate_before) / n;
        t.reset();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * n);
    state.counters["bytes_per_sub"] = bytes_per_sub;
    state.counters["est_bytes_per_sub"] = estimate_per_sub;
    state.counters["fixed_bytes"] = fixed_bytes;
}

void bm_remove(benchmark::State& state, int m) {
    const auto n = static_cast<std::uint32_t>(state.range(0));
    const auto patterns = make_patterns(m, n);
    for (auto _ : state) {
        state.PauseTiming();
        auto t = std::make_unique<subject_trie>(default_cache_capacity);
        for (std::uint32_t i = 0; i < n; ++i) t->insert(patterns[i], "", handle(i));
        state.ResumeTiming();
        for (std::uint32_t i = 0; i < n; ++i) t->remove(patterns[i], "", handle(i));
        state.PauseTiming();
        t.reset();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * n);
}

// Interest map with n (pattern, queue) statements spread over 16 shards,
// a quarter of them queue groups.
void bm_interest_lookup(benchmark::State& state, bool cached) {
    const auto n = static_cast<std::uint32_t>(state.range(0));
    const auto patterns = make_patterns(star_heavy, n);
    interest_map map(cached ? default_cache_capacity : 0);
    rng r{5};
    for (std::uint32_t i = 0; i < n; ++i)
        map.apply(interest_delta{static_cast<std::uint16_t>(r.below(16)), patterns[i],
                                 i % 4 == 0 ? "workers" : "", 1 + r.below(3)});
    subject_list publish;
    publish.assign(random_literals(7, n));
    std::uint64_t i = 0, shards = 0;
    for (auto _ : state) {
        const auto& res = map.lookup(publish[i++ & (cached ? 1023 : 65535)]);
        shards += static_cast<std::uint64_t>(__builtin_popcountll(res.shards));
        benchmark::DoNotOptimize(&res);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["shards"] =
        static_cast<double>(shards) / static_cast<double>(state.iterations());
    state.counters["bytes_per_entry"] = static_cast<double>(map.memory_bytes()) / n;
}

void register_all() {
    for (int m : {literal, star_heavy, gt_heavy}) {
        for (std::int64_t n : {10000, 100000, 1000000}) {
            // Cache-on benchmarks share one build; the uncached one rebuilds.
            benchmark::RegisterBenchmark((std::string("match_cached/") + mix_name(m)).c_str(),
                                         bm_match_cached, m)
                ->Arg(n);
            benchmark::RegisterBenchmark((std::string("match_thrash/") + mix_name(m)).c_str(),
                                         bm_match_thrash, m)
                ->Arg(n);
            benchmark::RegisterBenchmark((std::string("match_uncached/") + mix_name(m)).c_str(),
                                         bm_match_uncached, m)
                ->Arg(n);
        }
    }
    for (int m : {literal, star_heavy, gt_heavy}) {
        benchmark::RegisterBenchmark((std::string("insert/") + mix_name(m)).c_str(), bm_insert, m)
            ->Arg(10000)
            ->Arg(100000)
            ->Arg(1000000)
            ->Unit(benchmark::kMillisecond)
            ->MinTime(0.2);
        benchmark::RegisterBenchmark((std::string("remove/") + mix_name(m)).c_str(), bm_remove, m)
            ->Arg(10000)
            ->Arg(100000)
            ->Arg(1000000)
            ->Unit(benchmark::kMillisecond)
            ->MinTime(0.2);
    }
    benchmark::RegisterBenchmark("interest_lookup_cached", bm_interest_lookup, true)->Arg(100000);
    benchmark::RegisterBenchmark("interest_lookup_uncached", bm_interest_lookup, false)
        ->Arg(100000);
}

} // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    g.trie.reset();
    return 0;
}
