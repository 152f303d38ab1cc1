// Control tasks on a shard's own thread: reload, lame duck, and the copies
// monitoring reads.
#include <unistd.h>

#include <natrix/broker/shard.hh>
#include <natrix/subjects/subject.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

void shard::apply_config(const broker_config& n) {
    // Listener, shard count, cpus, backend and buffer sizes are fixed for the
    // life of the process; everything else applies to new work right away.
    cfg_.server_name = n.server_name;
    cfg_.max_payload = n.max_payload;
    cfg_.max_pending = n.max_pending;
    cfg_.max_connections = n.max_connections;
    cfg_.max_subscriptions = n.max_subscriptions;
    cfg_.max_control_line = n.max_control_line;
    cfg_.ping_interval = n.ping_interval;
    cfg_.ping_max = n.ping_max;
    cfg_.write_deadline = n.write_deadline;
    cfg_.idle = n.idle;
    cfg_.spin = n.spin;
    cfg_.auth_timeout = n.auth_timeout;
    cfg_.slow_consumer = n.slow_consumer;
    cfg_.stall_timeout = n.stall_timeout;
    delivery_.set_max_pending(cfg_.max_pending);
    flow_.configure(cfg_.slow_consumer, cfg_.max_pending, cfg_.stall_timeout);
    loop_.set_idle(cfg_.idle, cfg_.spin);
    const bool auth_changed = n.auth != cfg_.auth;
    std::shared_ptr<const auth::authenticator> previous = cfg_.auth;
    if (auth_changed) {
        cfg_.auth = n.auth;
        // Same accounts (server::reload checks), maybe other imports/exports.
        if (cfg_.auth) router_.set_accounts(cfg_.auth->shared_accounts());
    }
    // Existing clients take the new limits too (nats-server's reload does).
    sessions_.for_each([&](session& s) {
        s.parser.set_max_payload(n.max_payload);
        s.parser.set_max_control_line(n.max_control_line);
        if (auth_changed) protocol_.reauthorize(s, previous.get());
    });
}

void shard::enter_lame_duck(clock::time_point close_from, clock::time_point close_until) {
    if (lame_duck_) return;
    lame_duck_ = true;
    ldm_close_from_ = close_from;
    ldm_close_until_ = close_until;
    stop_accepting();
    // Clients that take async INFO learn to reconnect elsewhere.
    sessions_.for_each([&](session& s) {
        if (s.connect_received && s.opts.protocol >= 1) protocol_.send_info(s, true);
    });
}

const std::string& shard::account_name(auth::account_id a) const noexcept {
    return router_.accounts().at(a).name;
}

std::vector<connection_info> shard::connections(std::uint64_t cid) const {
    std::vector<connection_info> out;
    sessions_.for_each([&](const session& s) {
        if (cid && s.cid != cid) return;
        connection_info ci;
        ci.cid = s.cid;
        ci.ip = s.ip;
        ci.port = s.port;
        ci.start = s.start;
        ci.last_activity = s.last_activity;
        ci.rtt = s.ping.rtt;
        ci.pending_bytes = s.out.pending();
        ci.in_msgs = s.counters.in_msgs;
        ci.out_msgs = s.counters.out_msgs;
        ci.in_bytes = s.counters.in_bytes;
        ci.out_bytes = s.counters.out_bytes;
        ci.num_subs = static_cast<std::uint32_t>(s.subs.size());
        ci.name = s.opts.name;
        ci.lang = s.opts.lang;
        ci.version = s.opts.version;
        ci.user = s.auth.user;
        if (s.account != auth::global_account) ci.account = account_name(s.account);
        ci.handle = session_table::token_of(s);
        out.push_back(std::move(ci));
    });
    return out;
}

std::vector<subscription_info> shard::subscriptions_of(const connection_info& c) const {
    std::vector<subscription_info> out;
    const session* s = sessions_.find(c.handle);
    if (!s) return out;
    out.reserve(s->subs.size());
    for (const auto& [sid, sub] : s->subs)
        out.push_back({sub->subject, sub->queue, sub->sid, sub->delivered, sub->max, s->cid,
                       account_name(s->account)});
    return out;
}

std::vector<subscription_info> shard::subscriptions(std::string_view test) const {
    std::vector<subscription_info> out;
    sessions_.for_each([&](const session& s) {
        for (const auto& [sid, sub] : s.subs) {
            if (!test.empty() && !subjects::subject_matches(sub->subject, test)) continue;
            out.push_back({sub->subject, sub->queue, sub->sid, sub->delivered, sub->max, s.cid,
                           account_name(s.account)});
        }
    });
    return out;
}

} // namespace natrix::broker
