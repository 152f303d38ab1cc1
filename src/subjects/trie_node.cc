#include "trie_node.hh"

#include <cstring>
#include <new>

namespace natrix::subjects::detail {

// Moves every child into a fresh table of `capacity` (a power of two >= 4).
void child_table::rehash(std::uint32_t capacity) {
    slot* fresh = new slot[capacity]();
    const std::uint32_t mask = capacity - 1;
    const auto place = [&](const slot& s) {
        std::uint32_t j = static_cast<std::uint32_t>(s.hash) & mask;
        while (fresh[j].child) j = (j + 1) & mask;
        fresh[j] = s;
    };
    if (!mask_) {
        if (one_.child) place(one_);
    } else {
        for (std::uint32_t i = 0; i <= mask_; ++i)
            if (slots_[i].child) place(slots_[i]);
        delete[] slots_;
    }
    slots_ = fresh;
    mask_ = mask;
}

void child_table::insert(node* child, std::uint64_t hash) {
    if (!mask_ && !one_.child) {
        one_ = slot{hash, child};
        count_ = 1;
        return;
    }
    // Load factor at most 3/4.
    const std::uint32_t cap = mask_ ? mask_ + 1 : 1;
    if ((count_ + 1) * 4 > cap * 3) rehash(cap < 4 ? 4 : cap * 2);
    std::uint32_t i = static_cast<std::uint32_t>(hash) & mask_;
    while (slots_[i].child) i = (i + 1) & mask_;
    slots_[i] = slot{hash, child};
    ++count_;
}

void child_table::erase(const node* child, std::uint64_t hash) noexcept {
    if (!mask_) {
        if (one_.child == child) {
            one_ = slot{0, nullptr};
            count_ = 0;
        }
        return;
    }
    std::uint32_t i = static_cast<std::uint32_t>(hash) & mask_;
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
    if (count_ == 1) { // back to inline
        slot last{0, nullptr};
        for (std::uint32_t k = 0; k < cap; ++k)
            if (slots_[k].child) last = slots_[k];
        delete[] slots_;
        mask_ = 0;
        one_ = last;
    } else if (cap > 4 && count_ * 8 <= cap) {
        std::uint32_t fit = 4;
        while (count_ * 4 > fit * 3) fit *= 2;
        try {
            rehash(fit);
        } catch (...) { // keeping the bigger table is still correct
        }
    }
}

node* node::create(std::string_view token) {
    void* mem = ::operator new(sizeof(node) + token.size());
    node* n = new (mem) node();
    if (!token.empty())
        std::memcpy(reinterpret_cast<char*>(n) + sizeof(node), token.data(), token.size());
    n->token_len = static_cast<std::uint32_t>(token.size());
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
