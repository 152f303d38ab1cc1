#include <array>

#include <natrix/subjects/subject.hh>
#include <natrix/subjects/subject_hash.hh>
#include <natrix/subjects/subject_trie.hh>

#include "trie_node.hh"

namespace natrix::subjects {

using detail::node;

namespace {

// Visits every node (root included) without recursion, so a subject with
// thousands of tokens cannot exhaust the stack. F may destroy the node it is
// given: children are read first.
template <class F>
void walk(node* root, F&& f) {
    std::vector<node*> stack{root};
    while (!stack.empty()) {
        node* n = stack.back();
        stack.pop_back();
        n->children.for_each([&](node* c) { stack.push_back(c); });
        if (n->pwc) stack.push_back(n->pwc);
        if (n->fwc) stack.push_back(n->fwc);
        f(n);
    }
}

void add_node(const node* n, match_result& out) {
    if (!n->plain.empty()) out.plain.insert(out.plain.end(), n->plain.begin(), n->plain.end());
    if (!n->queues) return;
    for (const auto& g : *n->queues) {
        queue_group_result* slot = nullptr;
        for (auto& r : out.queues) {
            if (r.name == g.name) {
                slot = &r;
                break;
            }
        }
        if (!slot) {
            slot = &out.queues.emplace_back();
            slot->name = g.name;
        }
        slot->members.insert(slot->members.end(), g.members.begin(), g.members.end());
    }
}

std::size_t result_bytes(const match_result& r) {
    std::size_t b =
        r.plain.capacity() * sizeof(sub_handle) + r.queues.capacity() * sizeof(queue_group_result);
    for (const auto& q : r.queues) b += q.members.capacity() * sizeof(sub_handle);
    return b;
}

// Path buffer for insert/remove: on the stack for the common case.
class node_path {
public:
    explicit node_path(std::size_t levels) {
        if (levels > inline_.size()) heap_.resize(levels);
        data_ = levels > inline_.size() ? heap_.data() : inline_.data();
    }
    node*& operator[](std::size_t i) noexcept { return data_[i]; }

private:
    std::array<node*, token_list::inline_capacity + 1> inline_;
    std::vector<node*> heap_;
    node** data_;
};

} // namespace

subject_trie::subject_trie(std::size_t cache_capacity)
    : root_(node::create({}))
    , cache_(cache_capacity) {}

subject_trie::~subject_trie() {
    walk(root_, [](node* n) { node::destroy(n); });
}

void subject_trie::invalidate(std::string_view subject) noexcept {
    if (!cache_.enabled()) return;
    if (is_literal(subject)) {
        cache_.erase(subject, hash_subject(subject));
    } else {
        cache_.invalidate_all();
    }
}

bool subject_trie::insert(std::string_view subject, std::string_view queue, sub_handle h) {
    if (!is_valid_subject(subject)) return false;
    token_list tokens;
    tokens.split(subject);
    node* n = root_;
    for (const std::string_view t : tokens) {
        if (is_single_wildcard(t)) {
            if (!n->pwc) n->pwc = node::create(t);
            n = n->pwc;
        } else if (is_full_wildcard(t)) {
            if (!n->fwc) n->fwc = node::create(t);
            n = n->fwc;
        } else {
            const std::uint64_t th = hash_subject(t);
            node* c = n->children.find(t, th);
            if (!c) {
                c = node::create(t);
                n->children.insert(c, th);
            }
            n = c;
        }
    }
    if (queue.empty()) {
        if (!n->plain.insert(h)) return false;
    } else {
        detail::queue_group* g = n->find_queue(queue);
        if (!g) {
            if (!n->queues) n->queues = std::make_unique<std::vector<detail::queue_group>>();
            g = &n->queues->emplace_back();
            g->name.assign(queue);
        }
        if (!g->members.insert(h)) return false;
    }
    ++count_;
    ++inserts_;
    invalidate(subject);
    return true;
}

bool subject_trie::remove(std::string_view subject, std::string_view queue, sub_handle h) {
    if (!is_valid_subject(subject)) return false;
    token_list tokens;
    tokens.split(subject);
    const std::size_t depth = tokens.size();
    node_path path(depth + 1);
    path[0] = root_;
    for (std::size_t i = 0; i < depth; ++i) {
        node* n = path[i];
        const std::string_view t = tokens[i];
        node* c;
        if (is_single_wildcard(t)) {
            c = n->pwc;
        } else if (is_full_wildcard(t)) {
            c = n->fwc;
        } else {
            c = n->children.find(t, hash_subject(t));
        }
        if (!c) return false;
        path[i + 1] = c;
    }
    node* leaf = path[depth];
    if (queue.empty()) {
        if (!leaf->plain.erase(h)) return false;
    } else {
        detail::queue_group* g = leaf->find_queue(queue);
        if (!g || !g->members.erase(h)) return false;
        if (g->members.empty()) {
            auto& groups = *leaf->queues;
            if (g != &groups.back()) *g = std::move(groups.back());
            groups.pop_back();
            if (groups.empty()) leaf->queues.reset();
        }
    }
    // Prune from the leaf up while nodes hold nothing.
    for (std::size_t i = depth; i > 0; --i) {
        node* c = path[i];
        if (!c->prunable()) break;
        node* parent = path[i - 1];
        if (c == parent->pwc) {
            parent->pwc = nullptr;
        } else if (c == parent->fwc) {
            parent->fwc = nullptr;
        } else {
            parent->children.erase(c, hash_subject(c->token()));
        }
        node::destroy(c);
    }
    --count_;
    ++removes_;
    invalidate(subject);
    return true;
}

void subject_trie::collect(const node* n, const std::string_view* tokens, std::size_t remaining,
                           match_result& out) const {
    // Literal descent is a loop; only the '*' branch recurses.
    for (;;) {
        if (remaining == 0) {
            add_node(n, out);
            return;
        }
        if (n->fwc) add_node(n->fwc, out); // '>' takes every remaining token (at least one)
        if (!n->pwc) {
            if (n->children.size() == 0) return;
            const node* c = n->children.find(*tokens, hash_subject(*tokens));
            if (!c) return;
            n = c;
        } else {
            // Both branches: locate the literal child first and let its cache
            // line load while the '*' branch is walked.
            const node* c = nullptr;
            std::uint64_t h = 0;
            if (n->children.size() != 0) {
                h = hash_subject(*tokens);
                c = n->children.candidate(h);
                if (c) {
                    __builtin_prefetch(c);
                    __builtin_prefetch(reinterpret_cast<const char*>(c) + 64);
                }
            }
            collect(n->pwc, tokens + 1, remaining - 1, out);
            if (!c) return;
            if (c->token() != *tokens && !(c = n->children.find(*tokens, h))) return;
            n = c;
        }
        ++tokens;
        --remaining;
    }
}

const match_result& subject_trie::match(std::string_view literal_subject) {
    ++matches_;
    std::uint64_t h = 0;
    if (cache_.enabled()) {
        h = hash_subject(literal_subject);
        if (const match_result* hit = cache_.find(literal_subject, h)) {
            ++cache_hits_;
            return *hit;
        }
    }
    token_list tokens;
    if (!tokens.split(literal_subject)) {
        scratch_.plain.clear();
        scratch_.queues.clear();
        return scratch_;
    }
    match_result& out = cache_.enabled() ? cache_.claim(literal_subject, h) : scratch_;
    out.plain.clear();
    out.queues.clear();
    collect(root_, tokens.data(), tokens.size(), out);
    return out;
}

trie_stats subject_trie::stats() const noexcept {
    trie_stats s;
    s.subscriptions = count_;
    s.cache_entries = cache_.size();
    s.inserts = inserts_;
    s.removes = removes_;
    s.matches = matches_;
    s.cache_hits = cache_hits_;
    s.cache_misses = matches_ - cache_hits_;
    s.cache_evictions = cache_.evictions();
    return s;
}

std::size_t subject_trie::memory_bytes() const {
    std::size_t bytes = sizeof(*this) + result_bytes(scratch_) + cache_.memory_bytes(result_bytes);
    walk(root_, [&](node* n) { bytes += n->bytes(); });
    return bytes;
}

std::size_t subject_trie::node_count() const {
    std::size_t n = 0;
    walk(root_, [&](node*) { ++n; });
    return n - 1;
}

} // namespace natrix::subjects
