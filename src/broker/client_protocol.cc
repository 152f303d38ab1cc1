// Client protocol semantics: what each parsed op does, in nats-server 2.9's
// order and with its exact replies (tests/conformance holds the evidence).
#include <utility>

#include <natrix/broker/client_protocol.hh>
#include <natrix/broker/protocol_trace.hh>
#include <natrix/broker/session_actions.hh>
#include <natrix/broker/session_permissions.hh>
#include <natrix/protocol/writer.hh>
#include <natrix/subjects/subject.hh>
#include <natrix/util/log.hh>

#include "format_error.hh"

namespace natrix::broker {

using protocol::proto_error;

client_protocol::client_protocol(const deps& d)
    : shard_(d.shard)
    , nshards_(d.nshards)
    , cfg_(*d.cfg)
    , sessions_(*d.sessions)
    , router_(*d.routes)
    , mail_(*d.mail)
    , stats_(*d.stats)
    , auth_(d, [this](session& s) { resume_input(s); }) {}

void client_protocol::greet(session& s, bool info) {
    auth_.admit(s);
    if (info) send_info(s);
}

void client_protocol::send_info(session& s, bool lame_duck) {
    broker::send_info(sessions_, s, cfg_, port_, lame_duck, &connect_urls_);
}

void client_protocol::on_input(session& s, std::string_view data) {
    s.last_activity = clock::now();
    if (!auth_.check_first_byte(s, data)) return;
    if (s.input.held()) {
        s.input.parked.append(data);
        return;
    }
    const std::string_view rest = process(s, data);
    if (!rest.empty()) {
        s.input.parked.assign(rest);
        s.input.parked_from = 0;
    }
}

std::string_view client_protocol::process(session& s, std::string_view data) {
    if (s.input.turn != turn_) {
        s.input.turn = turn_;
        s.input.turn_started = clock::now();
    }
    protocol::parsed_op op;
    unsigned ops = 0;
    while (s.is_open()) {
        if (++ops % loop::budget_check_ops == 0 && !data.empty() &&
            clock::now() - s.input.turn_started >= input_budget) {
            // Its share of this turn is used up: the other clients go first.
            s.input.yielded = true;
            yielded_.push_back(&s);
        }
        // A PING waits on the barrier, a CONNECT on its credential check, or
        // the client yielded: the caller keeps the rest for later.
        if (s.input.held()) return data;
        const protocol::parse_status st = s.parser.next(data, op);
        if (st == protocol::parse_status::need_more) return {};
        if (st == protocol::parse_status::error) {
            LOG_DBG("%s:%d - cid:%llu - protocol error: %s", s.ip.c_str(), s.port,
                    static_cast<unsigned long long>(s.cid), s.parser.error_detail());
            // nats-server traces a line whose arguments it read before it fails.
            if (const auto& f = s.parser.failed_op();
                util::trace_enabled() && f.kind != protocol::op_kind::none)
                trace_in(s, f.kind, f.arg);
            switch (s.parser.error()) {
            case protocol::parse_error::unknown_op:
                send_err(sessions_, s, proto_error::unknown_protocol_operation);
                break;
            case protocol::parse_error::max_control_line:
                send_err(sessions_, s, proto_error::maximum_control_line_exceeded);
                break;
            case protocol::parse_error::max_payload:
                send_err(sessions_, s, proto_error::maximum_payload_violation);
                break;
            default:
                break; // nats-server closes these without an -ERR
            }
            sessions_.close_after_flush(s);
            return {};
        }
        if (util::trace_enabled()) trace_in(s, op.kind, op.arg);
        if (!handle_op(s, op)) return {};
    }
    return {};
}

// Carries on with the input parked behind a barrier or a credential check.
void client_protocol::resume_input(session& s) {
    if (!s.is_open() || s.input.held()) return;
    std::string parked;
    parked.swap(s.input.parked);
    const std::size_t from = std::exchange(s.input.parked_from, 0);
    if (parked.size() > from) {
        const std::string_view rest = process(s, std::string_view(parked).substr(from));
        if (!rest.empty()) {
            // Kept with an offset, not copied: a client that yields turn
            // after turn would otherwise copy its backlog each time.
            const std::size_t off = static_cast<std::size_t>(rest.data() - parked.data());
            parked.append(s.input.parked);
            s.input.parked = std::move(parked);
            s.input.parked_from = off;
        }
    }
    if (s.peer_done && !s.input.held()) sessions_.close_after_flush(s);
}

std::vector<session*> client_protocol::resume_yielded() {
    std::vector<session*> resumed;
    resumed.swap(yielded_);
    for (session* s : resumed) {
        s->input.yielded = false;
        resume_input(*s);
    }
    return resumed;
}

void client_protocol::peer_closed(session& s) {
    s.peer_done = true;
    s.close_reason = "Client Closed";
    // A PING waiting for the barrier or a CONNECT for its verdict: the close
    // comes once they are done (resume_input).
    if (!s.input.held()) sessions_.close_after_flush(s);
}

// Returns false once the connection is going away.
bool client_protocol::handle_op(session& s, const protocol::parsed_op& op) {
    using protocol::op_kind;
    switch (op.kind) {
    case op_kind::pub:
    case op_kind::hpub:
        return handle_pub(s, op);
    case op_kind::sub:
        handle_sub(s, op);
        return true;
    case op_kind::unsub:
        handle_unsub(s, op);
        return true;
    case op_kind::ping:
        handle_ping(s);
        return true;
    case op_kind::pong:
        s.ping.outstanding = 0;
        if (s.ping.sent != clock::time_point{}) {
            s.ping.rtt = clock::now() - s.ping.sent;
            s.ping.sent = {};
            s.ping.rtt_measured = true;
        }
        return true;
    case op_kind::connect:
        auth_.connect(s, op);
        return s.is_open();
    case op_kind::info:
        if (!protocol::is_valid_json(op.arg)) {
            sessions_.close_after_flush(s);
            return false;
        }
        return true;
    case op_kind::ok:
        return true;
    case op_kind::err:
        // nats-server closes a client that sends -ERR.
        sessions_.close_after_flush(s);
        return false;
    default:
        // Route ops never get past a client parser.
        sessions_.close_after_flush(s);
        return false;
    }
}

// In nats-server, once a client's PING is answered its earlier PUBs are in
// every subscriber's output queue and its SUBs are in effect for every
// publisher. Here both cross shards asynchronously, so the PONG waits until
// the other shards consumed what this client caused to be sent them.
void client_protocol::handle_ping(session& s) {
    if (s.barrier.pushed_remote) {
        s.barrier.pushed_remote = false;
        s.barrier.target = mail_.sent();
        if (!mail_.caught_up(s.barrier.target)) {
            s.input.barrier = true;
            barrier_waiters_.push_back(&s);
            return;
        }
    }
    const bool first = !s.ping.pong_sent;
    send_pong(sessions_, s);
    if (first && s.opts.protocol >= 1 && urls_changed_ != clock::time_point{} &&
        urls_changed_ >= s.start)
        send_info(s);
}

void client_protocol::resume_barrier_waiters() {
    std::vector<session*> waiting;
    waiting.swap(barrier_waiters_);
    for (session* s : waiting) {
        if (!mail_.caught_up(s->barrier.target)) {
            barrier_waiters_.push_back(s);
            continue;
        }
        s->input.barrier = false;
        send_pong(sessions_, *s);
        resume_input(*s);
    }
}

namespace {

// Reply prefixes only the server may hand out (nats-server isReservedReply).
bool reserved_reply(std::string_view r) {
    auto starts = [&](std::string_view p) {
        return r.size() > p.size() && r.substr(0, p.size()) == p;
    };
    return (r.size() > 3 && r.substr(0, 4) == "_R_.") || starts("$JS.ACK.") || starts("_GR_.");
}

constexpr std::string_view k_no_responders_hdr = "NATS/1.0 503\r\n\r\n";

} // namespace

bool client_protocol::handle_pub(session& s, const protocol::parsed_op& op) {
    ++s.counters.in_msgs;
    s.counters.in_bytes += op.payload.size();
    s.last_in = s.last_activity; // only messages count as activity for server PINGs
    stats_.in_msgs.add(1);
    stats_.in_bytes.add(op.payload.size());
    // nats-server's order: subject syntax (pedantic; the message still goes
    // out), the reserved _GR_. gateway prefix and permissions (the message is
    // dropped), reserved replies, then +OK, then delivery.
    if (s.opts.pedantic && !subjects::is_valid_literal_subject(op.subject))
        send_err(sessions_, s, proto_error::invalid_publish_subject);
    if (util::trace_enabled()) trace_payload(s, op.payload); // after that -ERR, as nats-server
    const bool gnr = op.subject.size() > 5 && op.subject.substr(0, 5) == "_GR_.";
    permission_state& p = s.perm;
    if (gnr || (p.perms && p.perms->restricts_publish() && !publish_permitted(p, op.subject))) {
        LOG_WRN("%s:%d - cid:%llu - Publish Violation - User \"%s\", Subject \"%.*s\"",
                s.ip.c_str(), s.port, static_cast<unsigned long long>(s.cid), s.auth.user.c_str(),
                static_cast<int>(op.subject.size()), op.subject.data());
        send_text_err(sessions_, s,
                      detail::format_error(protocol::format_pub_permission_violation, op.subject));
        return true;
    }
    if (!op.reply.empty() && reserved_reply(op.reply)) {
        LOG_WRN("%s:%d - cid:%llu - Publish Violation - User \"%s\", Reply \"%.*s\"", s.ip.c_str(),
                s.port, static_cast<unsigned long long>(s.cid), s.auth.user.c_str(),
                static_cast<int>(op.reply.size()), op.reply.data());
        send_text_err(sessions_, s,
                      detail::format_error(protocol::format_reply_permission_violation, op.reply));
        return true;
    }
    if (s.opts.verbose) send_ok(sessions_, s);
    message m{op.subject,          op.reply, op.payload, op.header_size, op.size_text,
              op.header_size_text, {}};
    if (sampler_.take()) m.sampled_at = clock::now();
    m.origin = session_table::token_of(s);
    m.origin_shard = static_cast<std::uint16_t>(shard_);
    if (s.gw_replies && !s.gw_replies->empty()) {
        // An answer to a request that came through a gateway: straight back
        // to the requester's cluster (nats-server's handleGWReplyMap).
        if (const std::string* routed = s.gw_replies->find(op.subject, clock::now())) {
            m.subject = *routed;
            if (router_.publish_gateway_reply(s.account, m)) return true;
            m.subject = op.subject; // that cluster's gateway went: deliver as usual
        }
    }
    const publish_result r = router_.publish(publisher{&s, s.opts.echo, s.ping.rtt}, s.account, m);
    if (r.crossed) s.barrier.pushed_remote = true;
    // A responder was told an RTT of 0: measure one now, for the next
    // requests (nats-server's getRTTValue and sendRTTPingLocked: clients with
    // a lang, once past their CONNECT+PING or 2 s after accept).
    if (r.told_rtt && !s.ping.rtt_measured && s.ping.outstanding == 0 && !s.opts.lang.empty() &&
        (s.ping.pong_sent || clock::now() - s.start > std::chrono::seconds(2))) {
        ++s.ping.outstanding;
        s.ping.sent = clock::now();
        send_ping(sessions_, s);
    }
    if (!r.delivered && s.opts.no_responders && !op.reply.empty()) {
        // Nobody will answer: the 503 status goes to the requester's own
        // subscription on its reply subject (nats-server 2.9.10's format).
        for (auto& [sid, sub] : s.subs) {
            if (!subjects::subject_matches(sub->subject, op.reply)) continue;
            char hdr[512];
            const std::size_t n =
                protocol::write_hmsg_header(hdr, op.reply, sub->sid, {}, k_no_responders_hdr.size(),
                                            k_no_responders_hdr.size());
            sessions_.append(s, std::string_view(hdr, n));
            sessions_.append(s, k_no_responders_hdr);
            sessions_.append(s, protocol::crlf);
            break;
        }
    }
    return true;
}

void client_protocol::handle_sub(session& s, const protocol::parsed_op& op) {
    // nats-server's order: permissions, the subscription limit, a live sid
    // (silently kept), then the subject's syntax.
    const auto& perms = s.perm.perms;
    if (op.queue == "_sys_" || (perms && !perms->subscribe_allowed(op.subject, op.queue))) {
        LOG_WRN(
            "%s:%d - cid:%llu - Subscription Violation - User \"%s\", Subject \"%.*s\", SID %.*s",
            s.ip.c_str(), s.port, static_cast<unsigned long long>(s.cid), s.auth.user.c_str(),
            static_cast<int>(op.subject.size()), op.subject.data(), static_cast<int>(op.sid.size()),
            op.sid.data());
        send_text_err(
            sessions_, s,
            detail::format_error(protocol::format_sub_permission_violation, op.subject, op.queue));
        return;
    }
    std::string sid(op.sid);
    if (cfg_.max_subscriptions > 0 &&
        s.subs.size() >= static_cast<std::size_t>(cfg_.max_subscriptions)) {
        send_err(sessions_, s, proto_error::maximum_subscriptions_exceeded);
        return;
    }
    if (s.subs.count(sid)) {
        // A live sid is silently kept, even for another subject (2.9.10).
        if (s.opts.verbose) send_ok(sessions_, s);
        return;
    }
    if (!subjects::is_valid_subject(op.subject)) {
        send_err(sessions_, s, proto_error::invalid_subject);
        return;
    }
    if (perms && !s.perm.deny_filter && perms->needs_delivery_filter(op.subject))
        s.perm.deny_filter = true;
    auto sub = std::make_unique<subscription>();
    sub->owner = &s;
    sub->subject.assign(op.subject);
    sub->queue.assign(op.queue);
    sub->sid = sid;
    subscription* raw = sub.get();
    s.subs.emplace(std::move(sid), std::move(sub));
    router_.subscribe(s.account, raw);
    stats_.subscriptions.add(1);
    if (nshards_ > 1) s.barrier.pushed_remote = true;
    if (s.opts.verbose) send_ok(sessions_, s);
}

void client_protocol::handle_unsub(session& s, const protocol::parsed_op& op) {
    // +OK before the subscription goes (nats-server's order; it shows in traces).
    if (s.opts.verbose) send_ok(sessions_, s);
    if (auto it = s.subs.find(std::string(op.sid)); it != s.subs.end()) {
        subscription* sub = it->second.get();
        if (op.max_msgs > 0 && static_cast<std::uint64_t>(op.max_msgs) > sub->delivered) {
            sub->max = op.max_msgs;
        } else {
            drop_subscription(router_, stats_, s, sub);
            // The next PONG must also vouch for this: a queue group's weights
            // elsewhere must no longer count the member that left.
            if (nshards_ > 1) s.barrier.pushed_remote = true;
        }
    }
}

void client_protocol::release(session& s) {
    if (s.input.barrier) {
        std::erase(barrier_waiters_, &s);
        s.input.barrier = false;
    }
    if (s.input.yielded) {
        std::erase(yielded_, &s);
        s.input.yielded = false;
    }
}

void client_protocol::tick(session& s, clock::time_point now, bool reading) {
    if (!s.is_open()) return;
    if (s.auth.pending && now >= s.auth.deadline) {
        LOG_WRN("%s:%d - cid:%llu - authentication timeout", s.ip.c_str(), s.port,
                static_cast<unsigned long long>(s.cid));
        send_err(sessions_, s, proto_error::authentication_timeout);
        sessions_.close_after_flush(s);
        return;
    }
    if (now < s.ping.next) return;
    s.ping.next = now + cfg_.ping_interval;
    if (!reading) {
        s.ping.outstanding = 0; // a paused publisher is not a stale one
        return;
    }
    // Recent traffic from the client proves it alive; skip the PING once an
    // RTT has been measured (nats-server's processPingTimer).
    if (s.ping.rtt_measured && now - s.last_in < cfg_.ping_interval) return;
    if (s.ping.outstanding + 1 > cfg_.ping_max) {
        stats_.stale_connections.add(1);
        LOG_DBG("cid:%llu - Stale Client Connection - Closing",
                static_cast<unsigned long long>(s.cid));
        send_err(sessions_, s, proto_error::stale_connection);
        sessions_.close_after_flush(s);
        return;
    }
    ++s.ping.outstanding;
    if (s.ping.sent == clock::time_point{}) s.ping.sent = now;
    send_ping(sessions_, s);
}

} // namespace natrix::broker
