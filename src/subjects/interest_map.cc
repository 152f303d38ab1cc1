#include <algorithm>
#include <array>
#include <limits>

#include <natrix/subjects/interest_map.hh>
#include <natrix/subjects/subject.hh>
#include <natrix/subjects/subject_hash.hh>

namespace natrix::subjects {

namespace {

constexpr std::uint32_t saturating_add(std::uint32_t a, std::uint64_t b) noexcept {
    const std::uint64_t s = a + b;
    return s > std::numeric_limits<std::uint32_t>::max() ? std::numeric_limits<std::uint32_t>::max()
                                                         : static_cast<std::uint32_t>(s);
}

std::size_t result_bytes(const interest_result& r) {
    std::size_t b = r.queues.capacity() * sizeof(queue_interest);
    for (const auto& q : r.queues) b += q.weights.capacity() * sizeof(shard_weight);
    return b;
}

} // namespace

int pick_queue_shard(const queue_interest& q, std::uint64_t random) noexcept {
    if (q.total == 0 || q.weights.empty()) return -1;
    // Scale to [0, total) by a multiply-high: no modulo bias worth noting and no division.
    std::uint64_t r =
        static_cast<std::uint64_t>((static_cast<unsigned __int128>(random) * q.total) >> 64);
    for (const auto& w : q.weights) {
        if (r < w.weight) return w.shard;
        r -= w.weight;
    }
    return q.weights.back().shard;
}

int pick_queue_shard(const queue_interest& q, std::uint64_t random, std::uint16_t below) noexcept {
    std::uint64_t total = 0;
    for (const auto& w : q.weights) {
        if (w.shard >= below) break; // ascending shard
        total += w.weight;
    }
    if (total == 0) return -1;
    std::uint64_t r =
        static_cast<std::uint64_t>((static_cast<unsigned __int128>(random) * total) >> 64);
    for (const auto& w : q.weights) {
        if (r < w.weight) return w.shard;
        r -= w.weight;
    }
    return -1; // not reached: r < total
}

interest_map::interest_map(std::size_t cache_capacity)
    : cache_(cache_capacity) {}

const std::string& interest_map::key_of(std::string_view pattern, std::string_view queue) const {
    // One reused buffer: a lookup allocates nothing once it has grown.
    key_.assign(pattern).push_back(' ');
    key_.append(queue);
    return key_;
}

void interest_map::invalidate(std::string_view pattern) noexcept {
    if (!cache_.enabled()) return;
    if (is_literal(pattern)) {
        cache_.erase(pattern, hash_subject(pattern));
    } else {
        cache_.invalidate_all();
    }
}

bool interest_map::apply(const interest_delta& d) {
    if (d.shard >= max_shards || !is_valid_subject(d.subject_pattern)) {
        ++ignored_;
        return false;
    }
    const bool changed = set_count(d.shard, d.subject_pattern, d.queue, d.count);
    ++(changed ? applied_ : ignored_);
    return changed;
}

std::uint32_t interest_map::adjust(std::uint16_t shard, std::string_view pattern,
                                   std::string_view queue, int delta) {
    auto it = entries_.find(key_of(pattern, queue));
    const std::uint32_t now = it == entries_.end() ? 0 : count_in(it->second, shard);
    const std::uint32_t next = delta > 0 ? now + 1 : (now ? now - 1 : 0);
    if (next != now) {
        set_count(it, shard, pattern, queue, next);
        ++applied_;
    }
    return next;
}

std::uint32_t interest_map::count_in(const entry& e, std::uint16_t shard) noexcept {
    for (const auto& w : e.counts)
        if (w.shard == shard) return w.weight;
    return 0;
}

bool interest_map::set_count(std::uint16_t shard, std::string_view pattern, std::string_view queue,
                             std::uint32_t count) {
    return set_count(entries_.find(key_of(pattern, queue)), shard, pattern, queue, count);
}

std::uint32_t interest_map::local_total(const entry& e) const noexcept {
    std::uint32_t t = 0;
    for (const auto& w : e.counts) {
        if (w.shard >= local_limit_) break; // ascending shard
        t = saturating_add(t, w.weight);
    }
    return t;
}

bool interest_map::set_count(entry_map::iterator it, std::uint16_t shard, std::string_view pattern,
                             std::string_view queue, std::uint32_t count) {
    const bool local = observer_ && shard < local_limit_;
    const bool cluster = cluster_observer_ && ((cluster_mask_ >> shard) & 1);
    if (!local && !cluster) return set_count_only(it, shard, pattern, queue, count);
    // Only this shard's count changes: the new total follows from the old
    // one (local counts are subscriptions, far from saturating).
    const std::uint32_t before = it == entries_.end() ? 0 : local_total(it->second);
    const std::uint32_t old = it == entries_.end() ? 0 : count_in(it->second, shard);
    const bool had = it != entries_.end() && (it->second.mask & cluster_mask_);
    if (!set_count_only(it, shard, pattern, queue, count)) return false;
    const std::uint32_t after = before - old + count;
    if (local && before != after) observer_(pattern, queue, before, after);
    if (cluster) {
        // The entry may have been created or erased: look it up again.
        const auto now = entries_.find(key_of(pattern, queue));
        const bool has = now != entries_.end() && (now->second.mask & cluster_mask_);
        if (had != has) cluster_observer_(pattern, queue, has);
    }
    return true;
}

bool interest_map::set_count_only(entry_map::iterator it, std::uint16_t shard,
                                  std::string_view pattern, std::string_view queue,
                                  std::uint32_t count) {
    const std::uint64_t bit = std::uint64_t{1} << shard;
    const auto by_shard = [](const shard_weight& w, std::uint16_t s) { return w.shard < s; };
    if (count == 0) {
        if (it == entries_.end() || !(it->second.mask & bit)) return false;
        entry& e = it->second;
        e.counts.erase(std::lower_bound(e.counts.begin(), e.counts.end(), shard, by_shard));
        e.mask &= ~bit;
        if (e.counts.empty()) {
            index_.remove(e.pattern, e.queue, &e);
            entries_.erase(it);
        }
        invalidate(pattern);
        return true;
    }
    if (it == entries_.end()) {
        it = entries_.emplace(key_of(pattern, queue), entry{}).first;
        entry& e = it->second;
        const std::string_view key = it->first;
        e.pattern = key.substr(0, pattern.size());
        e.queue = key.substr(pattern.size() + 1);
        index_.insert(e.pattern, e.queue, &e);
    }
    entry& e = it->second;
    auto pos = std::lower_bound(e.counts.begin(), e.counts.end(), shard, by_shard);
    if (pos != e.counts.end() && pos->shard == shard) {
        if (pos->weight == count) return false;
        pos->weight = count;
    } else {
        e.counts.insert(pos, shard_weight{shard, count});
    }
    const bool new_shard = !(e.mask & bit);
    e.mask |= bit;
    // A plain entry's count does not show in lookups, only its mask does.
    if (new_shard || !queue.empty()) invalidate(pattern);
    return true;
}

std::uint32_t interest_map::count(std::uint16_t shard, std::string_view pattern,
                                  std::string_view queue) const {
    const auto it = entries_.find(key_of(pattern, queue));
    return it == entries_.end() ? 0 : count_in(it->second, shard);
}

void interest_map::aggregate(const match_result& m, interest_result& out) const {
    out.shards = 0;
    out.queues.clear();
    for (const sub_handle h : m.plain) out.shards |= static_cast<const entry*>(h)->mask;
    for (const auto& g : m.queues) {
        queue_interest& q = out.queues.emplace_back();
        q.name = g.name;
        if (g.members.size() == 1) {
            q.weights = static_cast<const entry*>(g.members.front())->counts;
        } else {
            // The same group under several matching patterns: sum per shard.
            std::array<std::uint64_t, max_shards> sum{};
            std::uint64_t mask = 0;
            for (const sub_handle h : g.members) {
                const auto* e = static_cast<const entry*>(h);
                mask |= e->mask;
                for (const auto& w : e->counts) sum[w.shard] += w.weight;
            }
            for (; mask; mask &= mask - 1) {
                const auto s = static_cast<std::uint16_t>(__builtin_ctzll(mask));
                q.weights.push_back(shard_weight{s, saturating_add(0, sum[s])});
            }
        }
        for (const auto& w : q.weights) q.total = saturating_add(q.total, w.weight);
    }
}

const interest_result& interest_map::lookup(std::string_view literal_subject) {
    ++lookups_;
    std::uint64_t h = 0;
    if (cache_.enabled()) {
        h = hash_subject(literal_subject);
        if (const interest_result* hit = cache_.find(literal_subject, h)) {
            ++cache_hits_;
            return *hit;
        }
    }
    const match_result& m = index_.match(literal_subject);
    interest_result& out = cache_.enabled() ? cache_.claim(literal_subject, h) : scratch_;
    aggregate(m, out);
    return out;
}

interest_stats interest_map::stats() const noexcept {
    interest_stats s;
    s.entries = entries_.size();
    s.cache_entries = cache_.size();
    s.applied = applied_;
    s.ignored = ignored_;
    s.lookups = lookups_;
    s.cache_hits = cache_hits_;
    s.cache_misses = lookups_ - cache_hits_;
    return s;
}

std::size_t interest_map::memory_bytes() const {
    // libstdc++ hash node: next pointer, value, cached hash.
    constexpr std::size_t node_overhead = 2 * sizeof(void*);
    std::size_t bytes = sizeof(*this) + entries_.bucket_count() * sizeof(void*);
    for (const auto& [key, e] : entries_) {
        bytes += node_overhead + sizeof(std::pair<const std::string, entry>) +
                 e.counts.capacity() * sizeof(shard_weight);
        if (key.capacity() > 15) bytes += key.capacity() + 1;
    }
    return bytes + index_.memory_bytes() - sizeof(index_) + result_bytes(scratch_) +
           cache_.memory_bytes(result_bytes);
}

} // namespace natrix::subjects
