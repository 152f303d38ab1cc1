#pragma once
// Flow control between publishers and the subscribers they feed
// (docs/decisions/0009-flow-control.md). When a subscriber's pending output
// passes the high watermark, the publishers whose messages it receives stop
// being read (their TCP windows close; nothing is dropped, no thread blocks);
// once it drains below the low watermark they are read again. A publisher on
// another shard is paused and resumed by a flow record through the rings. A
// publisher is read only when no subscriber holds it paused and the shard's
// mailbox is not congested: this part alone decides who is read.
//
// Lives on a shard; only its thread touches it. Connection kinds other than
// clients (routes, gateways) pause and resume through the same calls.
#include <string>
#include <string_view>

#include <natrix/broker/broker_config.hh>
#include <natrix/broker/mailbox.hh>
#include <natrix/broker/message.hh>
#include <natrix/broker/session_table.hh>
#include <natrix/broker/shard_stats.hh>
#include <natrix/io/backend.hh>

namespace natrix::broker {

class flow_control {
public:
    flow_control(unsigned shard, session_table& sessions, mailbox& mail, shard_stats& stats)
        : shard_(shard)
        , sessions_(sessions)
        , mail_(mail)
        , stats_(stats) {}

    void attach(io::backend* b) noexcept { backend_ = b; }
    // Watermarks follow max_pending: high at a quarter (the rings and the
    // overflow still deliver what was sent before the pause took effect, and
    // must fit under max_pending), low at an eighth.
    void configure(slow_consumer_policy policy, std::int64_t max_pending,
                   std::chrono::nanoseconds stall);

    // `sub` got a message: past the high watermark, its publisher waits.
    void delivered(session& sub, const message& m);
    // A send of `sub` completed with `sent` bytes (progress); below the low
    // watermark, its publishers go on.
    void sent(session& sub, std::size_t sent, clock::time_point now);
    // A session leaves: the publishers it paused go on, and it stops counting
    // as a paused publisher.
    void release(session& s);
    // A subscriber over the watermark that the kernel took nothing from for
    // the stall timeout: it has stopped reading, and is to be cut.
    bool stalled(const session& s, clock::time_point now) const noexcept {
        return s.flow.congested && now - s.flow.last_progress > stall_;
    }

    // A flow record from another shard.
    void on_record(std::string_view body);

    // Reading: a new session, and the shard-wide pause while the mailbox is
    // congested (ring memory; decision 0009 says why both exist).
    void admit(session& s) { update_reading(s); }
    // Reads from the client unless the shard, one of its subscribers, or its
    // own yielded input (client_protocol::input_budget) holds it.
    void update_reading(session& s);
    void set_shard_paused(bool paused);
    // Whether we read from `s` now. While we do not, its PONGs wait unread in
    // its socket, so pings cannot tell a live peer from a dead one.
    bool reading(const session& s) const noexcept {
        return !shard_paused_ && s.flow.pausers == 0 && !s.input.held();
    }

private:
    void request(std::uint16_t shard, std::uint64_t token, bool pause);
    void pause_local(std::uint64_t token);
    void resume_local(std::uint64_t token);
    void resume_all(session& sub);
    void end_pause(session& s); // the publisher is no longer paused: stats

    unsigned shard_;
    session_table& sessions_;
    mailbox& mail_;
    shard_stats& stats_;
    io::backend* backend_ = nullptr;
    slow_consumer_policy policy_ = slow_consumer_policy::throttle;
    std::size_t high_ = 16 << 20, low_ = 8 << 20;
    std::chrono::nanoseconds stall_ = std::chrono::seconds(2);
    bool shard_paused_ = false;
    std::string scratch_;
};

} // namespace natrix::broker
