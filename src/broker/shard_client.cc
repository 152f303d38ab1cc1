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
    // With no_auth_user a client may stay silent, so nats-server does not
    // advertise auth_required (the auth timer still runs).
    info.auth_required = cfg_.auth && cfg_.auth->required() && cfg_.auth->no_auth_user().empty();
    info.nonce = c.nonce;
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
            // (A reload may have removed authorization since accept: then
            // there is nothing to bind to, and apply_config cleared the flag.)
            auth::result r;
            if (cfg_.auth && !cfg_.auth->no_auth_user().empty()) r = cfg_.auth->bind_no_auth_user();
            if (!r.ok) {
                LOG_WRN("%s:%d - cid:%llu - authentication error: operation before CONNECT%s%s",
                        c.ip.c_str(), c.port, static_cast<unsigned long long>(c.cid),
                        r.reason.empty() ? "" : ": ", r.reason.c_str());
                send_err(c, proto_error::authorization_violation);
                close_after_flush(c);
                return;
            }
            const std::string& nau = cfg_.auth->no_auth_user();
            c.auth_pending = false;
            c.auth_user = nau;
            c.account = r.account;
            c.perms = std::move(r.perms);
            c.bound_before_connect = true;
            c.connect_received = true;
        }
    }
    if (c.waiting_barrier || c.auth_in_flight) {
        c.parked_input.append(data);
        return;
    }
    protocol::parsed_op op;
    while (!c.closed && !c.close_after_flush) {
        if (c.waiting_barrier || c.auth_in_flight) {
            // A PING is waiting on the interest barrier, or a CONNECT on its
            // credential check: keep the rest for later.
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
    case op_kind::hpub: return handle_pub(c, op);
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
    if (!cfg_.auth || !cfg_.auth->required()) {
        finish_connect(c, auth::result{true, auth::auth_method::none, {}, auth::global_account, nullptr, {}});
        return;
    }
    const bool use_nau = !c.bound_before_connect;
    if (cfg_.auth->expensive(c.opts, use_nau)) {
        // bcrypt takes tens of milliseconds: it runs on the auth worker so
        // that this shard's other clients are not held up. The client's
        // further input waits (parked) for the verdict.
        c.auth_in_flight = true;
        srv_.check_credentials_async(id_, c.slot, c.generation, cfg_.auth, c.opts, c.nonce, use_nau);
        return;
    }
    finish_connect(c, cfg_.auth->check(c.opts, c.nonce, use_nau));
}

void shard::complete_auth(std::uint32_t slot, std::uint32_t gen,
                          std::shared_ptr<const auth::authenticator> checked_by, auth::result r) {
    client_connection* c = lookup(slot, gen);
    if (!c || c->closed) return;
    c->auth_in_flight = false;
    // A reload replaced the authenticator meanwhile: judge again.
    if (checked_by != cfg_.auth && cfg_.auth) r = cfg_.auth->check(c->opts, c->nonce, !c->bound_before_connect);
    finish_connect(*c, std::move(r));
    if (c->closed || c->close_after_flush || c->auth_in_flight) return;
    std::string parked;
    parked.swap(c->parked_input);
    if (!parked.empty()) process_input(*c, parked);
}

void shard::finish_connect(client_connection& c, auth::result r) {
    if (cfg_.auth && cfg_.auth->required()) {
        if (!r.ok) {
            LOG_WRN("%s:%d - cid:%llu - authentication error: %s", c.ip.c_str(), c.port,
                    static_cast<unsigned long long>(c.cid), r.reason.c_str());
            send_err(c, proto_error::authorization_violation);
            close_after_flush(c);
            return;
        }
        if (r.account != c.account && !c.subs.empty()) {
            // A second CONNECT may not carry live subscriptions across accounts.
            LOG_WRN("%s:%d - cid:%llu - authentication error: CONNECT switches account with live "
                    "subscriptions",
                    c.ip.c_str(), c.port, static_cast<unsigned long long>(c.cid));
            send_err(c, proto_error::authorization_violation);
            close_after_flush(c);
            return;
        }
        c.auth_pending = false;
        c.auth_user = std::move(r.user);
        c.account = r.account;
        c.auth_method = r.method;
        if (c.perms != r.perms) {
            // A second CONNECT switched users: the new rules apply from now
            // on (live subscriptions stay, as in nats-server; wildcard ones
            // are filtered by the new deny list).
            c.perms = std::move(r.perms);
            c.pub_cache.clear();
            c.replies.clear();
            refresh_deny_filter(c);
        }
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

void shard::send_text_err(client_connection& c, std::string_view text) {
    char buf[1024];
    std::size_t n = protocol::write_err(buf, sizeof buf, text);
    if (n <= sizeof buf) {
        append(c, std::string_view(buf, n));
        return;
    }
    std::string big(n, '\0');
    protocol::write_err(big.data(), big.size(), text);
    append(c, big);
}

namespace {

// Reply prefixes only the server may hand out (nats-server isReservedReply).
bool reserved_reply(std::string_view r) {
    auto starts = [&](std::string_view p) { return r.size() > p.size() && r.substr(0, p.size()) == p; };
    return (r.size() > 3 && r.substr(0, 4) == "_R_.") || starts("$JS.ACK.") || starts("_GR_.");
}

template <typename Fmt, typename... Args>
std::string format_error(Fmt fmt, Args... args) {
    std::string text(256, '\0');
    std::size_t n = fmt(text.data(), text.size(), args...);
    if (n >= text.size()) {
        // Truncated: size it from the subject lengths (quoting at most 6x).
        text.assign(64 + 6 * (0 + ... + std::string_view(args).size()), '\0');
        n = fmt(text.data(), text.size(), args...);
    }
    text.resize(n);
    return text;
}

constexpr std::size_t k_pub_cache_limit = 128;     // nats-server maxPermCacheSize
constexpr std::size_t k_reply_allowance_limit = 4096; // nats-server replyPermLimit

} // namespace

bool shard::handle_pub(client_connection& c, const protocol::parsed_op& op) {
    ++c.in_msgs;
    c.in_bytes += op.payload.size();
    c.last_in = c.last_activity; // only messages count as activity for server PINGs
    stats_.in_msgs.add(1);
    stats_.in_bytes.add(op.payload.size());
    // nats-server's order: subject syntax (pedantic; the message still goes
    // out), the reserved _GR_. gateway prefix and permissions (the message is
    // dropped), reserved replies, then +OK, then delivery.
    if (c.opts.pedantic && !subjects::is_valid_literal_subject(op.subject))
        send_err(c, proto_error::invalid_publish_subject);
    const bool gnr = op.subject.size() > 5 && op.subject.substr(0, 5) == "_GR_.";
    if (gnr || (c.perms && c.perms->restricts_publish() && !publish_permitted(c, op.subject))) {
        LOG_WRN("%s:%d - cid:%llu - Publish Violation - User \"%s\", Subject \"%.*s\"", c.ip.c_str(),
                c.port, static_cast<unsigned long long>(c.cid), c.auth_user.c_str(),
                static_cast<int>(op.subject.size()), op.subject.data());
        send_text_err(c, format_error(protocol::format_pub_permission_violation, op.subject));
        return true;
    }
    if (!op.reply.empty() && reserved_reply(op.reply)) {
        LOG_WRN("%s:%d - cid:%llu - Publish Violation - User \"%s\", Reply \"%.*s\"", c.ip.c_str(),
                c.port, static_cast<unsigned long long>(c.cid), c.auth_user.c_str(),
                static_cast<int>(op.reply.size()), op.reply.data());
        send_text_err(c, format_error(protocol::format_reply_permission_violation, op.reply));
        return true;
    }
    if (c.opts.verbose) append(c, protocol::k_ok);
    publish(&c, c.account, op.subject, op.reply, op.payload, op.header_size, op.size_text,
            op.header_size_text);
    return true;
}

// The static allow/deny verdict (cached per subject), then, when that says
// no, the allowances allow_responses granted (never cached).
bool shard::publish_permitted(client_connection& c, std::string_view subject) {
    bool allowed;
    if (auto it = c.pub_cache.find(subject); it != c.pub_cache.end()) {
        allowed = it->second;
    } else {
        allowed = c.perms->publish_allowed(subject);
        if (c.pub_cache.size() >= k_pub_cache_limit) c.pub_cache.clear();
        c.pub_cache.emplace(std::string(subject), allowed);
    }
    if (allowed || !c.perms->responses()) return allowed;
    auto it = c.replies.find(subject);
    if (it == c.replies.end()) return false;
    const config::response_permission& rp = *c.perms->responses();
    ++it->second.sent;
    if ((rp.max_msgs > 0 && it->second.sent > rp.max_msgs) ||
        (rp.expires.count() > 0 && clock::now() - it->second.at > rp.expires)) {
        c.replies.erase(it);
        return false;
    }
    return true;
}

void shard::note_reply(client_connection& c, std::string_view reply) {
    const config::response_permission& rp = *c.perms->responses();
    if (c.replies.size() >= std::max(k_reply_allowance_limit, c.replies_prune_at)) {
        // nats-server's pruneReplyPerms: drop the used-up and the expired.
        // nats-server prunes on every insert past the limit, a full scan each
        // time when the allowances are all live; pruning again only once the
        // map has doubled keeps it amortised O(1).
        const clock::time_point now = clock::now();
        std::erase_if(c.replies, [&](const auto& kv) {
            return (rp.max_msgs > 0 && kv.second.sent >= rp.max_msgs) ||
                   (rp.expires.count() > 0 && now - kv.second.at > rp.expires);
        });
        c.replies_prune_at = 2 * c.replies.size();
    }
    c.replies[std::string(reply)] = client_connection::reply_allowance{clock::now(), 0};
}

void shard::handle_sub(client_connection& c, const protocol::parsed_op& op) {
    // nats-server's order: permissions, the subscription limit, a live sid
    // (silently kept), then the subject's syntax.
    if (op.queue == "_sys_" || (c.perms && !c.perms->subscribe_allowed(op.subject, op.queue))) {
        LOG_WRN("%s:%d - cid:%llu - Subscription Violation - User \"%s\", Subject \"%.*s\", SID %.*s",
                c.ip.c_str(), c.port, static_cast<unsigned long long>(c.cid), c.auth_user.c_str(),
                static_cast<int>(op.subject.size()), op.subject.data(), static_cast<int>(op.sid.size()),
                op.sid.data());
        send_text_err(c, format_error(protocol::format_sub_permission_violation, op.subject, op.queue));
        return;
    }
    std::string sid(op.sid);
    if (cfg_.max_subscriptions > 0 && c.subs.size() >= static_cast<std::size_t>(cfg_.max_subscriptions)) {
        send_err(c, proto_error::maximum_subscriptions_exceeded);
        return;
    }
    if (c.subs.count(sid)) {
        // A live sid is silently kept, even for another subject (2.9.10).
        if (c.opts.verbose) append(c, protocol::k_ok);
        return;
    }
    if (!subjects::is_valid_subject(op.subject)) {
        send_err(c, proto_error::invalid_subject);
        return;
    }
    if (c.perms && !c.deny_filter && c.perms->needs_delivery_filter(op.subject)) c.deny_filter = true;
    auto s = std::make_unique<subscription>();
    s->conn = &c;
    s->subject.assign(op.subject);
    s->queue.assign(op.queue);
    s->sid = sid;
    subscription* raw = s.get();
    space(c.account).trie.insert(raw->subject, raw->queue, raw);
    c.subs.emplace(std::move(sid), std::move(s));
    stats_.subscriptions.add(1);
    change_interest(c.account, raw->subject, raw->queue, +1);
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

// After a reload: a client whose credentials no longer pass is cut, as in
// nats-server; one that stays takes its user's new permissions and loses
// the subscriptions they no longer allow (each reported with its sid).
void shard::reauthorize(client_connection& c, const auth::authenticator* previous) {
    // A verdict in flight is judged again against the new authenticator when
    // it arrives (complete_auth / complete_reauth compare authenticators).
    if (c.auth_in_flight) return;
    const bool required = cfg_.auth && cfg_.auth->required();
    if (!c.connect_received) {
        if (required && !c.auth_pending) {
            // Connected while no auth was required and has not logged in:
            // nats-server closes it on the reload that requires auth.
            LOG_WRN("%s:%d - cid:%llu - authentication error after reload: no credentials",
                    c.ip.c_str(), c.port, static_cast<unsigned long long>(c.cid));
            send_err(c, proto_error::authorization_violation);
            close_after_flush(c);
        } else if (!required) {
            c.auth_pending = false; // nothing to wait for any more
        }
        return;
    }
    auth::result r;
    const bool nau_bound =
        c.bound_before_connect && c.opts.user.empty() && c.opts.nkey.empty() && c.opts.auth_token.empty();
    if (!required) {
        r = auth::result{true, auth::auth_method::none, {}, auth::global_account, nullptr, {}};
    } else if (nau_bound) {
        r = cfg_.auth->bind_no_auth_user();
    } else if (cfg_.auth->recheck_expensive(c.opts, !c.bound_before_connect, previous, c.auth_method,
                                            c.auth_user)) {
        // A changed bcrypt user: verified on the auth worker like a CONNECT;
        // the client's input waits for the verdict (complete_reauth).
        c.auth_in_flight = true;
        srv_.check_credentials_async(id_, c.slot, c.generation, cfg_.auth, c.opts, c.nonce,
                                     !c.bound_before_connect, true);
        return;
    } else {
        r = cfg_.auth->recheck(c.opts, c.nonce, !c.bound_before_connect, previous, c.auth_method,
                               c.auth_user);
    }
    apply_reauth(c, std::move(r));
}

void shard::complete_reauth(std::uint32_t slot, std::uint32_t gen,
                            std::shared_ptr<const auth::authenticator> checked_by, auth::result r) {
    client_connection* c = lookup(slot, gen);
    if (!c || c->closed) return;
    c->auth_in_flight = false;
    if (checked_by != cfg_.auth)
        reauthorize(*c, nullptr); // reloaded again meanwhile: judge against the newest
    else
        apply_reauth(*c, std::move(r));
    if (c->closed || c->close_after_flush || c->auth_in_flight) return;
    std::string parked;
    parked.swap(c->parked_input);
    if (!parked.empty()) process_input(*c, parked);
}

void shard::apply_reauth(client_connection& c, auth::result r) {
    if (!r.ok || r.account != c.account) {
        LOG_WRN("%s:%d - cid:%llu - authentication error after reload: %s", c.ip.c_str(), c.port,
                static_cast<unsigned long long>(c.cid),
                r.ok ? "the user moved to another account" : r.reason.c_str());
        send_err(c, proto_error::authorization_violation);
        close_after_flush(c);
        return;
    }
    c.auth_user = std::move(r.user);
    c.auth_method = r.method;
    c.perms = std::move(r.perms);
    c.pub_cache.clear();
    if (!c.perms) {
        c.deny_filter = false;
        return;
    }
    std::vector<subscription*> revoked;
    for (auto& [sid, s] : c.subs) {
        const bool ok = c.perms->subscribe_allowed(s->subject, {}) ||
                        (!s->queue.empty() && c.perms->subscribe_allowed(s->subject, s->queue));
        if (!ok) revoked.push_back(s.get());
    }
    for (subscription* s : revoked) {
        LOG_WRN("Removed sub \"%s\" (sid \"%s\") for user \"%s\" - not authorized", s->subject.c_str(),
                s->sid.c_str(), c.auth_user.c_str());
        send_text_err(c, format_error(protocol::format_sub_permission_revoked, std::string_view(s->subject),
                                      std::string_view(s->sid)));
        remove_subscription(c, s);
    }
    if (!revoked.empty() && nshards_ > 1) c.pushed_remote = true;
    refresh_deny_filter(c);
}

// Deliveries are filtered when some wildcard subscription covers a subject
// the client's permissions deny (nats-server's mperms).
void shard::refresh_deny_filter(client_connection& c) {
    c.deny_filter = false;
    if (!c.perms) return;
    for (const auto& [sid, sub] : c.subs)
        if (c.perms->needs_delivery_filter(sub->subject)) {
            c.deny_filter = true;
            return;
        }
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
    space(c.account).trie.remove(s->subject, s->queue, s);
    change_interest(c.account, s->subject, s->queue, -1);
    stats_.subscriptions.sub(1);
    c.subs.erase(s->sid); // destroys *s
}

} // namespace natrix::broker
