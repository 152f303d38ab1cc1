#pragma once
// Bounded cache of match results keyed by published (literal) subject.
//
// Lives inside a subject_trie or an interest_map, so it is owned by one shard
// and touched only from that shard's thread.
//
// Layout: 4-way set-associative. A subject hashes to one set of 4 entries;
// the 4 tags (hash, generation, recency) share one cache line, so a lookup
// touches that line and then the matching entry. Capacity is fixed at
// construction, so a flood of unique subjects evicts (least recently used way
// of the set) instead of growing: the bound holds by construction, with no
// sweep pass. Entries keep their Result's buffers when reused, so a warm
// cache stops allocating.
//
// Invalidation is the owner's job and comes in two sizes:
//  - erase(key): one subject changed (a literal subscription was added or
//    removed, which can only affect the result for that very subject);
//  - invalidate_all(): O(1) generation bump (a wildcard subscription changed;
//    finding every affected key would cost a scan of the whole cache).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <natrix/subjects/subject_hash.hh>

namespace natrix::subjects {

inline constexpr std::size_t default_cache_capacity = 4096;

template <class Result>
class match_cache {
public:
    static constexpr std::size_t ways = 4;

    // capacity 0 disables the cache; otherwise it is rounded up to a power of
    // two number of sets of `ways` entries. The arrays are allocated on the
    // first claim(): a shard holds one trie and one interest map per account,
    // and accounts that never publish must not cost a cache each.
    explicit match_cache(std::size_t capacity = default_cache_capacity) {
        if (capacity == 0) return;
        std::size_t sets = 1;
        while (sets * ways < capacity) sets <<= 1;
        set_mask_ = sets - 1;
        planned_ = true;
    }

    match_cache(const match_cache&) = delete;
    match_cache& operator=(const match_cache&) = delete;

    bool enabled() const noexcept { return planned_; }
    std::size_t capacity() const noexcept { return enabled() ? (set_mask_ + 1) * ways : 0; }
    // Entries valid at the current generation.
    std::size_t size() const noexcept { return live_; }
    std::uint64_t evictions() const noexcept { return evictions_; }

    // The current result for key, or nullptr. Marks the entry recently used.
    const Result* find(std::string_view key, std::uint64_t hash) noexcept {
        if (!sets_) return nullptr;
        const std::size_t s = hash & set_mask_;
        set& st = sets_[s];
        for (std::size_t w = 0; w < ways; ++w) {
            tag& t = st.tags[w];
            if (t.hash == hash && t.gen == gen_) {
                entry& e = entries_[s * ways + w];
                if (e.key == key) {
                    t.last_use = ++clock_;
                    return &e.result;
                }
            }
        }
        return nullptr;
    }

    // Makes key current and returns its entry's result for the caller to
    // overwrite (the old contents are left in place so their buffers can be
    // reused). Evicts the least recently used way when the set is full.
    // Precondition: enabled().
    Result& claim(std::string_view key, std::uint64_t hash) {
        if (!sets_) {
            sets_ = std::make_unique<set[]>(set_mask_ + 1);
            entries_ = std::make_unique<entry[]>((set_mask_ + 1) * ways);
        }
        const std::size_t s = hash & set_mask_;
        set& st = sets_[s];
        std::size_t victim = ways;
        for (std::size_t w = 0; w < ways && victim == ways; ++w) { // present: refresh in place
            const tag& t = st.tags[w];
            if (t.gen == gen_ && t.hash == hash && entries_[s * ways + w].key == key) victim = w;
        }
        for (std::size_t w = 0; w < ways && victim == ways; ++w) { // a stale or empty way
            if (st.tags[w].gen != gen_) {
                victim = w;
                ++live_;
            }
        }
        if (victim == ways) { // full: evict the least recently used (ages survive clock wrap)
            victim = 0;
            for (std::size_t w = 1; w < ways; ++w) {
                if (std::uint32_t(clock_ - st.tags[w].last_use) >
                    std::uint32_t(clock_ - st.tags[victim].last_use))
                    victim = w;
            }
            ++evictions_;
        }
        tag& t = st.tags[victim];
        t.hash = hash;
        t.gen = gen_;
        t.last_use = ++clock_;
        entry& e = entries_[s * ways + victim];
        e.key.assign(key);
        return e.result;
    }

    // Drops key if present. Returns whether it was.
    bool erase(std::string_view key, std::uint64_t hash) noexcept {
        if (!sets_) return false;
        const std::size_t s = hash & set_mask_;
        for (std::size_t w = 0; w < ways; ++w) {
            tag& t = sets_[s].tags[w];
            if (t.hash == hash && t.gen == gen_ && entries_[s * ways + w].key == key) {
                t.gen = 0;
                --live_;
                return true;
            }
        }
        return false;
    }

    // Every entry becomes stale in O(1). On the (rare) wrap of the 32-bit
    // generation all tags are cleared so no stale tag can look current.
    void invalidate_all() noexcept {
        live_ = 0;
        if (!sets_) return;
        if (++gen_ == 0) {
            for (std::size_t s = 0; s <= set_mask_; ++s)
                for (auto& t : sets_[s].tags) t.gen = 0;
            gen_ = 1;
        }
    }

    // Fixed arrays plus the keys' heap; result_bytes(const Result&) adds what
    // each result holds on the heap.
    template <class F>
    std::size_t memory_bytes(F result_bytes) const {
        if (!sets_) return 0;
        const std::size_t n = capacity();
        std::size_t bytes = (set_mask_ + 1) * sizeof(set) + n * sizeof(entry);
        for (std::size_t i = 0; i < n; ++i) {
            const entry& e = entries_[i];
            if (e.key.capacity() > 15) bytes += e.key.capacity() + 1;
            bytes += result_bytes(e.result);
        }
        return bytes;
    }

    // Test hook: overrides the generation counter to exercise its wrap.
    void set_generation_for_test(std::uint32_t gen) noexcept { gen_ = gen; }

private:
    struct tag {
        std::uint64_t hash = 0;
        std::uint32_t gen = 0; // 0: empty; valid only when equal to gen_
        std::uint32_t last_use = 0;
    };
    struct alignas(64) set {
        tag tags[ways];
    };
    struct entry {
        std::string key;
        Result result;
    };

    std::unique_ptr<set[]> sets_;
    std::unique_ptr<entry[]> entries_;
    std::size_t set_mask_ = 0;
    bool planned_ = false; // capacity > 0; arrays come with the first claim()
    std::size_t live_ = 0;
    std::uint64_t evictions_ = 0;
    std::uint32_t gen_ = 1;
    std::uint32_t clock_ = 0;
};

} // namespace natrix::subjects
