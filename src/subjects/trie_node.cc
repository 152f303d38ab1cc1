#include "trie_node.hh"

#include <cstring>
#include <new>

namespace natrix::subjects::detail {

void child_table::rehash(std::uint32_t capacity) {
    slot* old = slots_;
    const std::uint32_t old_cap = old ? mask_ + 1 : 0;
    slots_ = new slot[capacity]();
    mask_ = capacity - 1;
    for (std::uint32_t i = 0; i < old_cap; ++i) {
        if (!old[i].child) continue;
        std::uint32_t j = static_cast<std::uint32_t>(old[i].hash) & mask_;
        while (slots_[j].child) j = (j + 1) & mask_;
        slots_[j] = old[i];
    }
    delete[] old;
}

void child_table::insert(node* child) {
    // Load factor at most 3/4; a single child fits a table of 2.
    const std::uint32_t cap = slots_ ? mask_ + 1 : 0;
    if ((count_ + 1) * 4 > cap * 3) rehash(cap ? cap * 2 : 2);
    std::uint32_t i = static_cast<std::uint32_t>(child->hash) & mask_;
    while (slots_[i].child) i = (i + 1) & mask_;
    slots_[i] = slot{child->hash, child};
    ++count_;
}

void child_table::erase(const node* child) noexcept {
    if (!slots_) return;
    std::uint32_t i = static_cast<std::uint32_t>(child->hash) & mask_;
    while (slots_[i].child != child) {
        if (!slots_[i].child) return; // not here
        i = (i + 1) & mask_;
    }
    // Backward-shift deletion: no tombstones, so probes stay short under churn.
    for (std::uint32_t j = (i + 1) & mask_; slots_[j].child; j = (j + 1) & mask_) {
        const std::uint32_t home = static_cast<std::uint32_t>(slots_[j].hash) & mask_;
        // Move slot j into the hole at i unless its home lies cyclically in (i, j].
        const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            slots_[i] = slots_[j];
            i = j;
        }
    }
    slots_[i] = slot{0, nullptr};
    --count_;
    const std::uint32_t cap = mask_ + 1;
    if (count_ == 0) {
        delete[] slots_;
        slots_ = nullptr;
        mask_ = 0;
    } else if (cap > 4 && count_ * 8 <= cap) {
        std::uint32_t fit = 2;
        while (count_ * 4 > fit * 3) fit *= 2;
        try {
            rehash(fit);
        } catch (...) { // keeping the bigger table is still correct
        }
    }
}

node* node::create(std::string_view token, std::uint64_t hash) {
    void* mem = ::operator new(sizeof(node) + token.size());
    node* n = new (mem) node();
    if (!token.empty()) std::memcpy(reinterpret_cast<char*>(n) + sizeof(node), token.data(), token.size());
    n->token_len = static_cast<std::uint32_t>(token.size());
    n->hash = hash;
    return n;
}

void node::destroy(node* n) noexcept {
    n->~node();
    ::operator delete(n);
}

std::size_t node::bytes() const noexcept {
    std::size_t b = sizeof(node) + token_len + children.heap_bytes() + plain.heap_bytes();
    if (queues) {
        b += sizeof(*queues) + queues->capacity() * sizeof(queue_group);
        for (const auto& g : *queues) {
            if (g.name.capacity() > 15) b += g.name.capacity() + 1;
            b += g.members.heap_bytes();
        }
    }
    return b;
}

} // namespace natrix::subjects::detail
