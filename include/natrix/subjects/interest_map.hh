#pragma once
// Replicated shard-interest map: which shards have subscriptions matching a
// published subject, and for each queue group how many members each shard
// has, so the publishing shard can send a queue message to exactly one shard
// (chosen by weight) and plain messages to every interested shard.
//
// Every shard holds its own copy and is its only user (single-threaded, no
// locks). Copies converge because every shard applies the same absolute
// interest_delta statements, each shard's in the order that shard sent them.
// All shards start together before any client connects, so no copy ever
// needs to catch up (docs/decisions/0003-interest-map.md).
//
// Granularity is the (pattern, queue) pair: memory grows with the number of
// distinct patterns subscribed server-wide, not with subscriptions. Inside,
// one subject_trie (cache off) indexes the entries and a bounded match_cache
// holds the aggregated results per published subject.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/subjects/interest_delta.hh>
#include <natrix/subjects/match_cache.hh>
#include <natrix/subjects/subject_trie.hh>
#include <natrix/util/gradual_map.hh>

namespace natrix::subjects {

struct shard_weight {
    std::uint16_t shard;
    std::uint32_t weight; // queue members on that shard (> 0)

    bool operator==(const shard_weight&) const = default;
};

struct queue_interest {
    std::string_view name;             // points into the map; valid as long as the result
    std::vector<shard_weight> weights; // ascending shard, only shards with members
    std::uint32_t total = 0;           // sum of weights (saturating)
};

struct interest_result {
    // Shards with at least one matching plain subscription. A shard that only
    // has queue members is not in here: it must not get a plain copy.
    std::uint64_t shards = 0;
    std::vector<queue_interest> queues; // one per queue group name

    bool empty() const noexcept { return shards == 0 && queues.empty(); }
};

// Picks one shard for a queue group, in proportion to its weights, from a
// uniformly random 64-bit value. Returns -1 when the group has no weight.
int pick_queue_shard(const queue_interest& q, std::uint64_t random) noexcept;
// The same among ids below `below` only (this server's shards, not routes).
int pick_queue_shard(const queue_interest& q, std::uint64_t random, std::uint16_t below) noexcept;

struct interest_stats {
    std::size_t entries = 0; // (pattern, queue) pairs with interest
    std::size_t cache_entries = 0;
    std::uint64_t applied = 0; // deltas that changed the map
    std::uint64_t ignored = 0; // no-op or invalid deltas
    std::uint64_t lookups = 0;
    std::uint64_t cache_hits = 0;
    std::uint64_t cache_misses = 0;
};

class interest_map {
public:
    // cache_capacity 0 disables the lookup cache.
    explicit interest_map(std::size_t cache_capacity = default_cache_capacity);
    interest_map(const interest_map&) = delete;
    interest_map& operator=(const interest_map&) = delete;

    // Sets shard d.shard's count on (d.subject_pattern, d.queue). Returns true
    // if the map changed; false for a repeat of the current state, a shard
    // >= max_shards or an invalid pattern (those are ignored).
    bool apply(const interest_delta& d);

    // The owning shard's own change: one more (delta > 0) or one fewer
    // subscription of `shard` on (pattern, queue), with one hash lookup.
    // Returns the new count, the absolute delta to announce. The pattern
    // must be valid (it was checked when subscribed).
    std::uint32_t adjust(std::uint16_t shard, std::string_view pattern, std::string_view queue,
                         int delta);

    // Current count of `shard` on (pattern, queue); 0 if none. The owning
    // shard can use it to build its next absolute delta.
    std::uint32_t count(std::uint16_t shard, std::string_view pattern,
                        std::string_view queue) const;

    // Interest in a published subject. The reference stays valid until the
    // next apply or lookup call on this map.
    const interest_result& lookup(std::string_view literal_subject);

    std::size_t entries() const noexcept { return entries_.size(); }
    interest_stats stats() const noexcept;

    // Clusters (docs/clustering.md): ids below `local_limit` are this
    // server's shards, ids from it up are routes to other servers. The
    // observer hears every change of the local total (the sum over this
    // server's shards) of a (pattern, queue) pair, which is what routes are
    // told; route counts never reach it. Unset: no cost.
    using local_observer = std::function<void(std::string_view pattern, std::string_view queue,
                                              std::uint32_t before, std::uint32_t after)>;
    void observe_local(std::uint16_t local_limit, local_observer fn) {
        local_limit_ = local_limit;
        observer_ = std::move(fn);
    }
    // The local total of (pattern, queue): its count summed over this server's shards.
    std::uint32_t local_count(std::string_view pattern, std::string_view queue) const {
        const auto it = entries_.find(key_of(pattern, queue));
        return it == entries_.end() ? 0 : local_total(it->second);
    }
    // Every (pattern, queue) with a local total above zero.
    template <typename Fn>
    void for_each_local(Fn&& fn) const {
        for (const auto& [key, e] : entries_)
            if (const std::uint32_t t = local_total(e)) fn(e.pattern, e.queue, t);
    }
    // Superclusters: ids from `cluster_limit` up are gateways to other
    // clusters. The observer hears when a (pattern, queue) pair gains its
    // first or loses its last count below that limit (this server's shards
    // and its routes: the cluster-wide interest inbound gateways are told,
    // brief §2.4). Unset: no cost.
    using presence_observer =
        std::function<void(std::string_view pattern, std::string_view queue, bool present)>;
    void observe_cluster(std::uint16_t cluster_limit, presence_observer fn) {
        cluster_mask_ = cluster_limit >= 64 ? ~0ull : (1ull << cluster_limit) - 1;
        cluster_observer_ = std::move(fn);
    }
    // Every (pattern, queue) with a count below the cluster limit.
    template <typename Fn>
    void for_each_cluster(Fn&& fn) const {
        for (const auto& [key, e] : entries_)
            if (e.mask & cluster_mask_) fn(e.pattern, e.queue);
    }
    std::size_t memory_bytes() const;

private:
    struct entry {
        std::string_view pattern; // views into the map key (node-stable)
        std::string_view queue;
        std::uint64_t mask = 0;           // shards with count > 0
        std::vector<shard_weight> counts; // ascending shard, count > 0
    };

    // Grows gradually: a million patterns must not rehash in one go.
    using entry_map = util::gradual_map<std::string, entry>;

    const std::string& key_of(std::string_view pattern, std::string_view queue) const;
    static std::uint32_t count_in(const entry& e, std::uint16_t shard) noexcept;
    std::uint32_t local_total(const entry& e) const noexcept;
    bool set_count(std::uint16_t shard, std::string_view pattern, std::string_view queue,
                   std::uint32_t count);
    bool set_count(entry_map::iterator it, std::uint16_t shard, std::string_view pattern,
                   std::string_view queue, std::uint32_t count);
    bool set_count_only(entry_map::iterator it, std::uint16_t shard, std::string_view pattern,
                        std::string_view queue, std::uint32_t count);
    void invalidate(std::string_view pattern) noexcept;
    void aggregate(const match_result& m, interest_result& out) const;

    // Key: pattern, ' ', queue. A valid pattern has no space, so the first
    // space splits the key unambiguously whatever the queue holds.
    entry_map entries_;
    mutable std::string key_; // key_of's buffer
    subject_trie index_{0};
    match_cache<interest_result> cache_;
    interest_result scratch_;
    std::uint64_t applied_ = 0;
    std::uint64_t ignored_ = 0;
    std::uint64_t lookups_ = 0;
    std::uint64_t cache_hits_ = 0;
    std::uint16_t local_limit_ = max_shards;
    local_observer observer_;
    std::uint64_t cluster_mask_ = ~0ull;
    presence_observer cluster_observer_;
};

} // namespace natrix::subjects
