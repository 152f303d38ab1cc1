#pragma once
// Private to the subjects module: one node of the subject trie, and the
// open-addressing table of its literal children.
//
// A node is at once a token position (its subscriptions) and the level below
// it (children, plus dedicated '*' and '>' slots, as in nats-server). The
// token's bytes are stored right after the node in the same allocation, so a
// node costs one allocation. Children are found by (hash, token) with linear
// probing; the hash is stored in the slot so a probe reads the child only on a
// hash hit. A single child is kept inline. Owned by a subject_trie: single-threaded, like its
// owner.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "handle_list.hh"

namespace natrix::subjects::detail {

struct node;

class child_table {
public:
    child_table() noexcept
        : one_{0, nullptr} {}
    ~child_table() {
        if (mask_) delete[] slots_; // the trie owns and frees the children
    }
    child_table(const child_table&) = delete;
    child_table& operator=(const child_table&) = delete;

    std::uint32_t size() const noexcept { return count_; }
    inline node* find(std::string_view token, std::uint64_t hash) const noexcept;
    // First child whose slot hash equals `hash`, without reading any child:
    // lets a match start fetching the child while it explores a '*' branch.
    // The caller confirms the token (find() settles the rare collision).
    inline node* candidate(std::uint64_t hash) const noexcept;
    // Precondition: no child with the same token is present.
    void insert(node* child, std::uint64_t hash);
    void erase(const node* child, std::uint64_t hash) noexcept;

    template <class F>
    void for_each(F&& f) const {
        if (!mask_) {
            if (one_.child) f(one_.child);
            return;
        }
        for (std::uint32_t i = 0; i <= mask_; ++i)
            if (slots_[i].child) f(slots_[i].child);
    }
    std::size_t heap_bytes() const noexcept { return mask_ ? (mask_ + 1) * sizeof(slot) : 0; }

private:
    struct slot {
        std::uint64_t hash;
        node* child; // nullptr: empty
    };
    void rehash(std::uint32_t capacity);

    // A single child is stored inline: deep levels of real subject spaces are
    // mostly single-child chains, and this saves a dependent cache miss (and
    // an allocation) per such level.
    union {
        slot one_;    // mask_ == 0
        slot* slots_; // mask_ != 0: capacity mask_ + 1, a power of two >= 4
    };
    std::uint32_t mask_ = 0;
    std::uint32_t count_ = 0;
};

struct queue_group {
    std::string name;
    handle_list members;
};

// Fields used only at the last token (subscriptions) come first; the fields
// every descent reads (children, wildcard slots, token) sit together with the
// token bytes that follow the struct.
struct node {
    handle_list plain;
    std::unique_ptr<std::vector<queue_group>> queues; // null when there are none
    child_table children;
    node* pwc = nullptr; // child for a '*' token
    node* fwc = nullptr; // child for a '>' token (a leaf)
    std::uint32_t token_len = 0;

    std::string_view token() const noexcept {
        return {reinterpret_cast<const char*>(this) + sizeof(node), token_len};
    }
    bool has_subscriptions() const noexcept { return !plain.empty() || queues != nullptr; }
    bool prunable() const noexcept {
        return !has_subscriptions() && children.size() == 0 && !pwc && !fwc;
    }
    queue_group* find_queue(std::string_view name) noexcept {
        if (!queues) return nullptr;
        for (auto& g : *queues)
            if (g.name == name) return &g;
        return nullptr;
    }

    static node* create(std::string_view token);
    static void destroy(node* n) noexcept;
    std::size_t bytes() const noexcept;
};

node* child_table::find(std::string_view token, std::uint64_t hash) const noexcept {
    if (!mask_) {
        return one_.child && one_.hash == hash && one_.child->token() == token ? one_.child
                                                                               : nullptr;
    }
    for (std::uint32_t i = static_cast<std::uint32_t>(hash) & mask_;; i = (i + 1) & mask_) {
        const slot& s = slots_[i];
        if (!s.child) return nullptr;
        if (s.hash == hash && s.child->token() == token) return s.child;
    }
}

node* child_table::candidate(std::uint64_t hash) const noexcept {
    if (!mask_) return one_.hash == hash ? one_.child : nullptr;
    for (std::uint32_t i = static_cast<std::uint32_t>(hash) & mask_;; i = (i + 1) & mask_) {
        const slot& s = slots_[i];
        if (!s.child || s.hash == hash) return s.child;
    }
}

} // namespace natrix::subjects::detail
