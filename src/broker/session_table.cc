#include <natrix/broker/session_table.hh>

namespace natrix::broker {

session& session_table::add(const protocol::parser_config& pc) {
    std::uint32_t slot;
    if (!free_.empty()) {
        slot = free_.back();
        free_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(slots_.size());
        slots_.emplace_back();
    }
    const std::uint32_t gen = slots_[slot] ? slots_[slot]->generation + 1 : 1;
    slots_[slot] = std::make_unique<session>(pc);
    session& s = *slots_[slot];
    s.slot = slot;
    s.generation = gen;
    return s;
}

session* session_table::find(std::uint64_t token) const noexcept {
    const auto slot = static_cast<std::uint32_t>(token);
    if (slot >= slots_.size()) return nullptr;
    session* s = slots_[slot].get();
    if (!s || s->is_closed() || s->generation != static_cast<std::uint32_t>(token >> 32))
        return nullptr;
    return s;
}

void session_table::end_turn() {
    for (std::uint32_t slot : retired_) {
        // The session object stays until the slot is reused: nothing points
        // into a freed one, and its generation keeps stale tokens out.
        free_.push_back(slot);
    }
    retired_.clear();
}

std::size_t session_table::open_count() const noexcept {
    std::size_t n = 0;
    for (const auto& s : slots_)
        if (s && !s->is_closed() && !s->is_route()) ++n;
    return n;
}

} // namespace natrix::broker
