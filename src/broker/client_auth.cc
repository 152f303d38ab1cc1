// Authentication of a client: the first byte before CONNECT, CONNECT itself
// (inline, or on the auth worker for bcrypt), and the re-check of connected
// clients after a reload. nats-server 2.9's rules and replies.
#include <natrix/auth/nkey.hh>
#include <natrix/broker/client_auth.hh>
#include <natrix/broker/session_actions.hh>
#include <natrix/broker/session_permissions.hh>
#include <natrix/protocol/writer.hh>
#include <natrix/util/log.hh>

#include "format_error.hh"

namespace natrix::broker {

using protocol::proto_error;

client_auth::client_auth(const deps& d, std::function<void(session&)> resume)
    : nshards_(d.nshards)
    , cfg_(*d.cfg)
    , sessions_(*d.sessions)
    , router_(*d.routes)
    , stats_(*d.stats)
    , auth_jobs_(d.auth_jobs)
    , home_(d.home)
    , resume_(std::move(resume))
    , rng_(std::random_device{}() ^ (0x9e3779b97f4a7c15ull * (d.shard + 1))) {}

void client_auth::admit(session& s) {
    // Until CONNECT, server PINGs run at ping_interval; CONNECT arms the
    // shorter first PING (finish_connect).
    s.ping.next = s.start + cfg_.ping_interval;
    // With auth required, the client has auth_timeout to pass a CONNECT.
    if (cfg_.auth && cfg_.auth->required()) {
        s.auth.pending = true;
        s.auth.deadline = s.start + cfg_.auth_timeout;
    }
    if (cfg_.auth && cfg_.auth->uses_nonce()) s.auth.nonce = auth::nkey::generate_nonce();
}

// The client only ever hears Authorization Violation; the reason is logged.
void client_auth::refuse(session& s) {
    send_err(sessions_, s, proto_error::authorization_violation);
    sessions_.close_after_flush(s);
}

// Before CONNECT, when auth is required, nats-server looks at the first byte
// of the first op: anything but a CONNECT is an Authorization Violation,
// unless no_auth_user binds the client to that user right away. False when
// the client is refused.
bool client_auth::check_first_byte(session& s, std::string_view data) {
    if (!s.auth.pending || s.auth.first_byte_seen || data.empty()) return true;
    s.auth.first_byte_seen = true;
    if (data[0] == 'C' || data[0] == 'c') return true;
    // (A reload may have removed authorization since accept: then there is
    // nothing to bind to, and reauthorize cleared `pending`.)
    auth::result r;
    if (cfg_.auth && !cfg_.auth->no_auth_user().empty()) r = cfg_.auth->bind_no_auth_user();
    if (!r.ok) {
        LOG_WRN("%s:%d - cid:%llu - authentication error: operation before CONNECT%s%s",
                s.ip.c_str(), s.port, static_cast<unsigned long long>(s.cid),
                r.reason.empty() ? "" : ": ", r.reason.c_str());
        refuse(s);
        return false;
    }
    s.auth.pending = false;
    s.auth.user = cfg_.auth->no_auth_user();
    s.account = r.account;
    s.perm.perms = std::move(r.perms);
    s.auth.bound_before_connect = true;
    s.connect_received = true;
    return true;
}

void client_auth::connect(session& s, const protocol::parsed_op& op) {
    // Like Go's json.Unmarshal into the client's existing options: a second
    // CONNECT changes only the fields it carries.
    std::string err;
    if (!protocol::parse_connect_options(op.arg, s.opts, &err)) {
        // nats-server closes without an -ERR here; the reason goes to the log.
        LOG_WRN("%s:%d - cid:%llu - %s", s.ip.c_str(), s.port,
                static_cast<unsigned long long>(s.cid), err.c_str());
        sessions_.close_after_flush(s);
        return;
    }
    // Every CONNECT is checked, a second one too (a valid one switches the
    // user); the client only ever hears Authorization Violation.
    if (!cfg_.auth || !cfg_.auth->required()) {
        finish_connect(
            s, auth::result{true, auth::auth_method::none, {}, auth::global_account, nullptr, {}});
        return;
    }
    // tls { verify_and_map }: the certificate names the user, whatever the
    // CONNECT says (nats-server's checkClientTLSCertSubject).
    if (cfg_.tls && cfg_.tls->config().verify_and_map && s.tls && s.tls->stream &&
        s.tls->stream->established()) {
        finish_connect(s, cfg_.auth->check_certificate(s.tls->stream->peer().candidates()));
        return;
    }
    const bool use_nau = !s.auth.bound_before_connect;
    if (cfg_.auth->expensive(s.opts, use_nau) && auth_jobs_) {
        // bcrypt takes tens of milliseconds: it runs on the auth worker so
        // that this shard's other clients are not held up. The client's
        // further input waits (parked) for the verdict.
        check_off_thread(s, use_nau, false);
        return;
    }
    finish_connect(s, cfg_.auth->check(s.opts, s.auth.nonce, use_nau));
}

void client_auth::check_off_thread(session& s, bool use_no_auth_user, bool reload) {
    s.input.auth = true;
    const std::uint64_t token = session_table::token_of(s);
    auth_jobs_->submit([this, token, auth = cfg_.auth, opts = s.opts, nonce = s.auth.nonce,
                        use_no_auth_user, reload]() mutable {
        auth::result r = auth->check(opts, nonce, use_no_auth_user);
        auth::nkey::wipe(opts.pass);
        home_->post([this, token, auth = std::move(auth), r = std::move(r), reload]() mutable {
            complete(token, std::move(auth), std::move(r), reload);
        });
    });
}

// The auth worker's verdict, back on this shard.
void client_auth::complete(std::uint64_t token,
                           std::shared_ptr<const auth::authenticator> checked_by, auth::result r,
                           bool reload) {
    session* s = sessions_.find(token);
    if (!s || !s->is_open()) return;
    s->input.auth = false;
    if (reload) {
        if (checked_by != cfg_.auth)
            reauthorize(*s, nullptr); // reloaded again meanwhile: judge against the newest
        else
            apply_reauth(*s, std::move(r));
    } else {
        // A reload replaced the authenticator meanwhile: judge again.
        if (checked_by != cfg_.auth && cfg_.auth)
            r = cfg_.auth->check(s->opts, s->auth.nonce, !s->auth.bound_before_connect);
        finish_connect(*s, std::move(r));
    }
    resume_(*s);
}

void client_auth::finish_connect(session& s, auth::result r) {
    if (cfg_.auth && cfg_.auth->required()) {
        if (!r.ok) {
            LOG_WRN("%s:%d - cid:%llu - authentication error: %s", s.ip.c_str(), s.port,
                    static_cast<unsigned long long>(s.cid), r.reason.c_str());
            refuse(s);
            return;
        }
        if (r.account != s.account && !s.subs.empty()) {
            // A second CONNECT may not carry live subscriptions across accounts.
            LOG_WRN("%s:%d - cid:%llu - authentication error: CONNECT switches account with live "
                    "subscriptions",
                    s.ip.c_str(), s.port, static_cast<unsigned long long>(s.cid));
            refuse(s);
            return;
        }
        s.auth.pending = false;
        s.auth.user = std::move(r.user);
        s.account = r.account;
        s.auth.method = r.method;
        if (s.perm.perms != r.perms) {
            // A second CONNECT switched users: the new rules apply from now
            // on (live subscriptions stay, as in nats-server; wildcard ones
            // are filtered by the new deny list).
            s.perm.perms = std::move(r.perms);
            s.perm.pub_cache.clear();
            s.perm.replies.clear();
            refresh_deny_filter(s);
        }
    }
    if (!s.opts.account.empty() || s.opts.new_account) {
        LOG_WRN("%s:%d - cid:%llu - CONNECT with legacy account fields rejected", s.ip.c_str(),
                s.port, static_cast<unsigned long long>(s.cid));
        refuse(s);
        return;
    }
    if (s.opts.protocol < 0 || s.opts.protocol > 1) {
        send_err(sessions_, s, proto_error::invalid_client_protocol);
        sessions_.close_after_flush(s);
        return;
    }
    if (s.opts.no_responders && !s.opts.headers) {
        send_err(sessions_, s, proto_error::no_responders_requires_headers);
        sessions_.close_after_flush(s);
        return;
    }
    if (!s.connect_received) {
        // First PING after min(ping_interval, 2s) plus up to 20% jitter
        // (nats-server's setFirstPingTimer, armed by CONNECT).
        auto first =
            std::min<std::chrono::nanoseconds>(cfg_.ping_interval, std::chrono::seconds(2));
        first +=
            std::chrono::nanoseconds(rng_() % (static_cast<std::uint64_t>(first.count()) / 5 + 1));
        s.ping.next = clock::now() + first;
    }
    s.connect_received = true;
    s.parser.set_headers(s.opts.headers);
    if (s.opts.verbose) send_ok(sessions_, s);
}

// After a reload: a client whose credentials no longer pass is cut, as in
// nats-server; one that stays takes its user's new permissions and loses the
// subscriptions they no longer allow (each reported with its sid).
void client_auth::reauthorize(session& s, const auth::authenticator* previous) {
    // A verdict in flight is judged again against the new authenticator when
    // it arrives (complete compares authenticators).
    if (s.input.auth || !s.is_open()) return;
    const bool required = cfg_.auth && cfg_.auth->required();
    if (!s.connect_received) {
        if (required && !s.auth.pending) {
            // Connected while no auth was required and has not logged in:
            // nats-server closes it on the reload that requires auth.
            LOG_WRN("%s:%d - cid:%llu - authentication error after reload: no credentials",
                    s.ip.c_str(), s.port, static_cast<unsigned long long>(s.cid));
            refuse(s);
        } else if (!required) {
            s.auth.pending = false; // nothing to wait for any more
        }
        return;
    }
    const bool use_nau = !s.auth.bound_before_connect;
    const bool nau_bound = s.auth.bound_before_connect && s.opts.user.empty() &&
                           s.opts.nkey.empty() && s.opts.auth_token.empty();
    auth::result r;
    if (!required) {
        r = auth::result{true, auth::auth_method::none, {}, auth::global_account, nullptr, {}};
    } else if (nau_bound) {
        r = cfg_.auth->bind_no_auth_user();
    } else if (auth_jobs_ && cfg_.auth->recheck_expensive(s.opts, use_nau, previous, s.auth.method,
                                                          s.auth.user)) {
        // A changed bcrypt user: verified on the auth worker like a CONNECT;
        // the client's input waits for the verdict.
        check_off_thread(s, use_nau, true);
        return;
    } else {
        r = cfg_.auth->recheck(s.opts, s.auth.nonce, use_nau, previous, s.auth.method, s.auth.user);
    }
    apply_reauth(s, std::move(r));
}

void client_auth::apply_reauth(session& s, auth::result r) {
    if (!r.ok || r.account != s.account) {
        LOG_WRN("%s:%d - cid:%llu - authentication error after reload: %s", s.ip.c_str(), s.port,
                static_cast<unsigned long long>(s.cid),
                r.ok ? "the user moved to another account" : r.reason.c_str());
        refuse(s);
        return;
    }
    s.auth.user = std::move(r.user);
    s.auth.method = r.method;
    s.perm.perms = std::move(r.perms);
    s.perm.pub_cache.clear();
    if (!s.perm.perms) {
        s.perm.deny_filter = false;
        return;
    }
    std::vector<subscription*> revoked;
    for (auto& [sid, sub] : s.subs) {
        const bool ok =
            s.perm.perms->subscribe_allowed(sub->subject, {}) ||
            (!sub->queue.empty() && s.perm.perms->subscribe_allowed(sub->subject, sub->queue));
        if (!ok) revoked.push_back(sub.get());
    }
    for (subscription* sub : revoked) {
        LOG_WRN("Removed sub \"%s\" (sid \"%s\") for user \"%s\" - not authorized",
                sub->subject.c_str(), sub->sid.c_str(), s.auth.user.c_str());
        send_text_err(sessions_, s,
                      detail::format_error(protocol::format_sub_permission_revoked,
                                           std::string_view(sub->subject),
                                           std::string_view(sub->sid)));
        drop_subscription(router_, stats_, s, sub);
    }
    if (!revoked.empty() && nshards_ > 1) s.barrier.pushed_remote = true;
    refresh_deny_filter(s);
}

} // namespace natrix::broker
