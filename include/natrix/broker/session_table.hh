#pragma once
// A shard's sessions by slot, and the list of sessions with output to flush
// this loop turn. A slot is reused with a new generation, so a late event for
// a closed session (its token names the old generation) finds nothing.
//
// Lives on a shard; only its thread touches it.
#include <memory>
#include <string_view>
#include <vector>

#include <natrix/broker/session.hh>

namespace natrix::broker {

class session_table {
public:
    // A new session in a free slot.
    session& add(const protocol::parser_config& pc);
    // The session a backend token names; null once it closed.
    session* find(std::uint64_t token) const noexcept;
    static std::uint64_t token_of(const session& s) noexcept {
        return (std::uint64_t(s.generation) << 32) | s.slot;
    }

    // Queues bytes for the client; they go out at the end of the turn.
    void append(session& s, std::string_view bytes) {
        s.out.queued.append(bytes);
        mark_for_flush(s);
    }
    void mark_for_flush(session& s) {
        if (s.out.in_flush_list) return;
        s.out.in_flush_list = true;
        flush_.push_back(&s);
    }
    // Closes once everything queued (typically an -ERR) has been written.
    void close_after_flush(session& s) {
        if (s.state == session_state::open) s.state = session_state::closing;
        mark_for_flush(s);
    }
    // Sessions touched this turn; the caller clears in_flush_list as it goes.
    std::vector<session*> take_flush_list() {
        std::vector<session*> l;
        l.swap(flush_);
        return l;
    }
    // The session's socket is gone: its slot is freed at the end of the turn
    // (pointers to it may still sit in this turn's lists).
    void retire(session& s) { retired_.push_back(s.slot); }
    void end_turn();

    template <typename Fn>
    void for_each(Fn&& fn) {
        for (auto& s : slots_)
            if (s && !s->is_closed()) fn(*s);
    }
    template <typename Fn>
    void for_each(Fn&& fn) const {
        for (const auto& s : slots_)
            if (s && !s->is_closed()) fn(static_cast<const session&>(*s));
    }
    std::size_t open_count() const noexcept; // clients only: routes are not counted

private:
    std::vector<std::unique_ptr<session>> slots_;
    std::vector<std::uint32_t> free_;
    std::vector<std::uint32_t> retired_;
    std::vector<session*> flush_;
};

} // namespace natrix::broker
