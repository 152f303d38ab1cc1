#pragma once
// One shard's local subscriptions, indexed by subject for publish routing.
//
// Lives on a shard; only that shard's thread may touch it (no locks inside).
//
// A trie over '.'-separated tokens: each node has its literal children in a
// hash table keyed by token, and dedicated slots for '*' and '>' children, as
// in nats-server's sublist. A node holds its plain subscribers and, per queue
// group name, that group's members. Values are opaque handles (the engine
// stores subscription pointers). insert/remove cost O(tokens); remove prunes
// nodes left empty.
//
// match() on a literal subject is served from a bounded match_cache when it
// can be. Invalidation: inserting or removing a literal subscription erases
// the one cache entry it can affect (key == that subject); a wildcard change
// bumps the cache generation, invalidating everything in O(1). nats-server
// instead patches every matching cache entry on each change, which costs a
// scan of the whole cache per wildcard change; we pay lazily, only for the
// subjects that are published again.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <natrix/subjects/match_cache.hh>

namespace natrix::subjects {

using sub_handle = const void*;

namespace detail {
struct node;
}

struct queue_group_result {
    std::string_view name; // points into the trie; valid as long as the result
    std::vector<sub_handle> members;
};

struct match_result {
    std::vector<sub_handle> plain;
    // One entry per queue group name; members gathered from every matching
    // pattern (nats-server merges groups by name the same way).
    std::vector<queue_group_result> queues;

    bool empty() const noexcept { return plain.empty() && queues.empty(); }
};

struct trie_stats {
    std::size_t subscriptions = 0;
    std::size_t cache_entries = 0;
    std::uint64_t inserts = 0;
    std::uint64_t removes = 0;
    std::uint64_t matches = 0;
    std::uint64_t cache_hits = 0;
    std::uint64_t cache_misses = 0;
    std::uint64_t cache_evictions = 0;

    trie_stats& operator+=(const trie_stats& o) noexcept {
        subscriptions += o.subscriptions;
        cache_entries += o.cache_entries;
        inserts += o.inserts;
        removes += o.removes;
        matches += o.matches;
        cache_hits += o.cache_hits;
        cache_misses += o.cache_misses;
        cache_evictions += o.cache_evictions;
        return *this;
    }
};

class subject_trie {
public:
    // cache_capacity 0 disables the match cache.
    explicit subject_trie(std::size_t cache_capacity = default_cache_capacity);
    ~subject_trie();
    subject_trie(const subject_trie&) = delete;
    subject_trie& operator=(const subject_trie&) = delete;

    // Adds the entry (subject, queue, h); an empty queue means a plain
    // subscription. Returns false, changing nothing, when the subject is not a
    // valid SUB subject or the same entry is already present.
    bool insert(std::string_view subject, std::string_view queue, sub_handle h);
    // Removes the entry; false when it is not present (or the subject is invalid).
    bool remove(std::string_view subject, std::string_view queue, sub_handle h);

    // Every entry whose pattern matches the published subject. A handle
    // appears once per matching entry (twice if it was inserted under two
    // matching patterns). A subject with an empty token matches nothing.
    // The reference stays valid until the next insert, remove or match call
    // on this trie.
    const match_result& match(std::string_view literal_subject);

    std::size_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    trie_stats stats() const noexcept;
    // Estimate of heap and object bytes held (nodes, tables, cache). Walks
    // the trie: O(nodes), meant for monitoring, not the hot path.
    std::size_t memory_bytes() const;
    // Nodes below the root; lets tests check that removal prunes.
    std::size_t node_count() const;
    std::size_t cache_capacity() const noexcept { return cache_.capacity(); }

private:
    void collect(const detail::node* n, const std::string_view* tokens, std::size_t remaining,
                 match_result& out) const;
    void invalidate(std::string_view subject) noexcept;

    detail::node* root_;
    match_cache<match_result> cache_;
    match_result scratch_; // result storage when the cache is off
    std::size_t count_ = 0;
    std::uint64_t inserts_ = 0;
    std::uint64_t removes_ = 0;
    std::uint64_t matches_ = 0;
    std::uint64_t cache_hits_ = 0;
};

} // namespace natrix::subjects
