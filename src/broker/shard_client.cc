// Client protocol semantics on a shard: what each parsed op does, exactly as
// nats-server 2.9 does it (see tests/conformance).
#include <natrix/broker/server.hh>
#include <natrix/broker/shard.hh>
#include <natrix/protocol/server_info.hh>
#include <natrix/protocol/writer.hh>
#include <natrix/subjects/subject.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

using protocol::proto_error;

void shard::append(client_connection& c, std::string_view bytes) {
    c.out.append(bytes);
    if (!c.dirty) {
        c.dirty = true;
        dirty_.push_back(&c);
    }
}

// Closes once everything queued (typically an -ERR) has been written.
void shard::close_after_flush(client_connection& c) {
    c.close_after_flush = true;
    if (!c.dirty) {
        c.dirty = true;
        dirty_.push_back(&c);
    }
}

void shard::send_err(client_connection& c, proto_error e) {
    char buf[128];
    const std::size_t n = protocol::write_err(buf, sizeof buf, e);
    append(c, std::string_view(buf, n));
}

void shard::send_info(client_connection& c, bool lame_duck) {
    protocol::server_info info;
    info.server_id = cfg_.server_id;
    info.server_name = cfg_.server_name.empty() ? cfg_.server_id : cfg_.server_name;
    info.version = server_version;
    info.go = server_go_field;
    info.host = cfg_.host;
    info.port = srv_.port();
    info.headers = true;
    info.max_payload = cfg_.max_payload;
    info.client_id = c.cid;
    info.client_ip = c.ip;
    info.ldm = lame_duck;
    info.auth_required = cfg_.auth && cfg_.auth->required();
    char buf[1024];
    std::size_t n = protocol::write_info(buf, sizeof buf, info);
    if (n <= sizeof buf) {
        append(c, std::string_view(buf, n));
    } else {
        std::string big(n, '\0');
        protocol::write_info(big.data(), big.size(), info);
        append(c, big);
    }
}

void shard::process_input(client_connection& c, std::string_view data) {
    c.last_activity = clock::now();
    // Before CONNECT, when auth is required, nats-server looks at the first
    // byte of the first op: anything but a CONNECT is an Authorization
    // Violation, unless no_auth_user binds the client to that user right away.
    if (c.auth_pending && !c.first_byte_seen && !data.empty()) {
        c.first_byte_seen = true;
        if (data[0] != 'C' && data[0] != 'c') {
            const std::string& nau = cfg_.auth->no_auth_user();
            if (nau.empty()) {
                LOG_WRN("%s:%d - cid:%llu - authentication error: operation before CONNECT",
                        c.ip.c_str(), c.port, static_cast<unsigned long long>(c.cid));
                send_err(c, proto_error::authorization_violation);
                close_after_flush(c);
                return;
            }
            c.auth_pending = false;
            c.auth_user = nau;
            c.bound_before_connect = true;
            c.connect_received = true;
        }
    }
    if (c.waiting_barrier) {
        c.parked_input.append(data);
        return;
    }
    protocol::parsed_op op;
    while (!c.closed && !c.close_after_flush) {
        if (c.waiting_barrier) {
            // A PING is waiting on the interest barrier: keep the rest for later.
            c.parked_input.assign(data);
            return;
        }
        const protocol::parse_status st = c.parser.next(data, op);
        if (st == protocol::parse_status::need_more) return;
        if (st == protocol::parse_status::error) {
            const char* detail = c.parser.error_detail();
            LOG_DBG("%s:%d - cid:%llu - protocol error: %s", c.ip.c_str(), c.port,
                    static_cast<unsigned long long>(c.cid), detail);
            switch (c.parser.error()) {
            case protocol::parse_error::unknown_op:
                send_err(c, proto_error::unknown_protocol_operation);
                break;
            case protocol::parse_error::max_control_line:
                send_err(c, proto_error::maximum_control_line_exceeded);
                break;
            case protocol::parse_error::max_payload:
                send_err(c, proto_error::maximum_payload_violation);
                break;
            default: break; // nats-server closes these without an -ERR
            }
            close_after_flush(c);
            return;
        }
        if (!handle_op(c, op)) return;
    }
}

// Returns false once the connection is going away.
bool shard::handle_op(client_connection& c, const protocol::parsed_op& op) {
    using protocol::op_kind;
    switch (op.kind) {
    case op_kind::pub:
    case op_kind::hpub: {
        ++c.in_msgs;
        c.in_bytes += op.payload.size();
        c.last_in = c.last_activity; // only messages count as activity for server PINGs
        stats_.in_msgs.add(1);
        stats_.in_bytes.add(op.payload.size());
        // nats-server checks, then acknowledges, then delivers (even after an
        // Invalid Publish Subject).
        if (c.opts.pedantic && !subjects::is_valid_literal_subject(op.subject))
            send_err(c, proto_error::invalid_publish_subject);
        if (c.opts.verbose) append(c, protocol::k_ok);
        publish(&c, op.subject, op.reply, op.payload, op.header_size, op.size_text,
                op.header_size_text);
        return true;
    }
    case op_kind::sub: handle_sub(c, op); return true;
    case op_kind::unsub: handle_unsub(c, op); return true;
    case op_kind::ping:
        if (c.pushed_remote) {
            c.pushed_remote = false;
            c.barrier_target = sent_seq_;
            if (!peers_caught_up(c.barrier_target)) {
                c.waiting_barrier = true;
                barrier_waiters_.push_back(&c);
                return true;
            }
        }
        append(c, protocol::k_pong);
        return true;
    case op_kind::pong:
        c.pings_out = 0;
        if (c.ping_sent != clock::time_point{}) {
            c.rtt = clock::now() - c.ping_sent;
            c.ping_sent = {};
            c.rtt_measured = true;
        }
        return true;
    case op_kind::connect: handle_connect(c, op); return !c.close_after_flush;
    case op_kind::info:
        if (!protocol::is_valid_json(op.arg)) {
            close_after_flush(c);
            return false;
        }
        return true;
    case op_kind::ok: return true;
    case op_kind::err:
        // nats-server closes a client that sends -ERR.
        close_after_flush(c);
        return false;
    default:
        // Route ops never get past a client parser.
        close_after_flush(c);
        return false;
    }
}

void shard::handle_connect(client_connection& c, const protocol::parsed_op& op) {
    // Like Go's json.Unmarshal into the client's existing options: a second
    // CONNECT changes only the fields it carries.
    std::string err;
    if (!protocol::parse_connect_options(op.arg, c.opts, &err)) {
        // nats-server closes without an -ERR here; the reason goes to the log.
        LOG_WRN("%s:%d - cid:%llu - %s", c.ip.c_str(), c.port, static_cast<unsigned long long>(c.cid),
                err.c_str());
        close_after_flush(c);
        return;
    }
    // Every CONNECT is checked, a second one too (a valid one switches the
    // user); the client only ever hears Authorization Violation.
    if (cfg_.auth && cfg_.auth->required()) {
        auth::result r = cfg_.auth->check(c.opts, !c.bound_before_connect);
        if (!r.ok) {
            LOG_WRN("%s:%d - cid:%llu - authentication error: %s", c.ip.c_str(), c.port,
                    static_cast<unsigned long long>(c.cid), r.reason.c_str());
            send_err(c, proto_error::authorization_violation);
            close_after_flush(c);
            return;
        }
        c.auth_pending = false;
        c.auth_user = std::move(r.user);
    }
    if (!c.opts.account.empty() || c.opts.new_account) {
        LOG_WRN("%s:%d - cid:%llu - CONNECT with legacy account fields rejected", c.ip.c_str(),
                c.port, static_cast<unsigned long long>(c.cid));
        send_err(c, proto_error::authorization_violation);
        close_after_flush(c);
        return;
    }
    if (c.opts.protocol < 0 || c.opts.protocol > 1) {
        send_err(c, proto_error::invalid_client_protocol);
        close_after_flush(c);
        return;
    }
    if (c.opts.no_responders && !c.opts.headers) {
        send_err(c, proto_error::no_responders_requires_headers);
        close_after_flush(c);
        return;
    }
    if (!c.connect_received) {
        // First PING after min(ping_interval, 2s) plus up to 20% jitter
        // (nats-server's setFirstPingTimer, armed by CONNECT).
        auto first = std::min<std::chrono::nanoseconds>(cfg_.ping_interval, std::chrono::seconds(2));
        first += std::chrono::nanoseconds(rng_() % (static_cast<std::uint64_t>(first.count()) / 5 + 1));
        c.next_ping = clock::now() + first;
    }
    c.connect_received = true;
    c.parser.set_headers(c.opts.headers);
    if (c.opts.verbose) append(c, protocol::k_ok);
}

void shard::handle_sub(client_connection& c, const protocol::parsed_op& op) {
    if (!subjects::is_valid_subject(op.subject)) {
        send_err(c, proto_error::invalid_subject);
        return;
    }
    std::string sid(op.sid);
    // The limit is checked before the duplicate sid (2.9.10 order).
    if (cfg_.max_subscriptions > 0 && c.subs.size() >= static_cast<std::size_t>(cfg_.max_subscriptions)) {
        send_err(c, proto_error::maximum_subscriptions_exceeded);
        return;
    }
    if (c.subs.count(sid)) {
        // A live sid is silently kept, even for another subject (2.9.10).
        if (c.opts.verbose) append(c, protocol::k_ok);
        return;
    }
    auto s = std::make_unique<subscription>();
    s->conn = &c;
    s->subject.assign(op.subject);
    s->queue.assign(op.queue);
    s->sid = sid;
    subscription* raw = s.get();
    trie_.insert(raw->subject, raw->queue, raw);
    c.subs.emplace(std::move(sid), std::move(s));
    stats_.subscriptions.add(1);
    change_interest(raw->subject, raw->queue, +1);
    if (nshards_ > 1) c.pushed_remote = true;
    if (c.opts.verbose) append(c, protocol::k_ok);
}

void shard::handle_unsub(client_connection& c, const protocol::parsed_op& op) {
    auto it = c.subs.find(std::string(op.sid));
    if (it != c.subs.end()) {
        subscription* s = it->second.get();
        if (op.max_msgs > 0 && static_cast<std::uint64_t>(op.max_msgs) > s->delivered) {
            s->max = op.max_msgs;
        } else {
            remove_subscription(c, s);
            // The next PONG must also vouch for this: a queue group's weights
            // elsewhere must no longer count the member that left.
            if (nshards_ > 1) c.pushed_remote = true;
        }
    }
    if (c.opts.verbose) append(c, protocol::k_ok);
}

// Answers the PINGs that waited for their SUBs to reach every shard, then
// carries on with the input parked behind them.
void shard::resume_barrier_waiters() {
    if (barrier_waiters_.empty()) return;
    std::vector<client_connection*> waiting;
    waiting.swap(barrier_waiters_);
    for (client_connection* c : waiting) {
        if (c->closed) continue;
        if (!peers_caught_up(c->barrier_target)) {
            barrier_waiters_.push_back(c);
            continue;
        }
        c->waiting_barrier = false;
        append(*c, protocol::k_pong);
        std::string parked;
        parked.swap(c->parked_input);
        if (!parked.empty()) process_input(*c, parked);
    }
}

void shard::remove_subscription(client_connection& c, subscription* s) {
    trie_.remove(s->subject, s->queue, s);
    change_interest(s->subject, s->queue, -1);
    stats_.subscriptions.sub(1);
    c.subs.erase(s->sid); // destroys *s
}

} // namespace natrix::broker
