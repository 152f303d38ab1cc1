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
    cfg_.tls = n.tls;
    cfg_.allow_non_tls = n.allow_non_tls;
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
        if (auth_changed && !s.is_route()) protocol_.reauthorize(s, previous.get());
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

void shard::adopt_route(int fd, std::unique_ptr<route_link> link, std::string_view leftover,
                        const std::string& ip, int port, SSL* ssl) {
    // Owned from here: freed with its stream, or now if the route goes.
    std::shared_ptr<tls::tls_stream> stream = ssl ? tls::tls_stream::adopt(ssl, nullptr) : nullptr;
    const std::uint64_t serial = link->serial;
    const bool gateway = link->is_gateway();
    route_events* events = gateway ? env_.gateways : env_.cluster;
    const int id = routes_.allocate_id(link->kind);
    if (id < 0 || shutting_down_) {
        LOG_ERR("%s:%d - rid:%llu - no route slot left on shard %u (at most %zu interest ids)",
                ip.c_str(), port, static_cast<unsigned long long>(serial), id_,
                subjects::max_shards);
        ::close(fd);
        if (events) events->route_closed(serial, "No Route Slot");
        return;
    }
    protocol::parser_config pc;
    session& s = sessions_.add(pc);
    s.cid = serial;
    s.ip = ip;
    s.port = port;
    s.start = s.last_in = s.last_activity = clock::now();
    s.admitted = true; // routes are not counted against max_connections
    link->id = static_cast<std::uint16_t>(id);
    s.route = std::move(link);
    if (stream) {
        s.tls = std::make_unique<tls_link>();
        s.tls->at = tls_link::phase::established;
        s.tls->stream = std::move(stream);
    }
    s.io = backend_->adopt(fd, session_table::token_of(s));
    if (!s.io) {
        s.state = session_state::closed;
        sessions_.retire(s);
        if (events) events->route_closed(serial, "Adopt Failed");
        return;
    }
    flow_.admit(s);
    routes_.start(s, leftover);
}

void shard::close_route(std::uint64_t serial, const char* reason, bool gateway) {
    if (session* s = routes_.find_serial(serial, gateway)) close_session(*s, reason);
}

void shard::send_to_route(std::uint64_t serial, const std::string& bytes, bool gateway) {
    if (session* s = routes_.find_serial(serial, gateway)) routes_.send_raw(*s, bytes);
}

void shard::set_connect_urls(std::vector<std::string> urls) {
    protocol_.set_connect_urls(std::move(urls));
    // nats-server's sendAsyncInfoToClients: protocol >= 1 clients past
    // their first PONG; the others get it after that PONG.
    sessions_.for_each([&](session& s) {
        if (!s.is_route() && s.connect_received && s.opts.protocol >= 1 && s.ping.pong_sent)
            protocol_.send_info(s, lame_duck_);
    });
}

std::vector<route_info_view> shard::routes() const {
    std::vector<route_info_view> out;
    sessions_.for_each([&](const session& s) {
        if (!s.is_route()) return;
        route_info_view r;
        r.kind = s.route->kind == link_kind::route         ? 'r'
                 : s.route->kind == link_kind::gateway_out ? 'o'
                                                           : 'i';
        r.gateway = s.route->gateway;
        r.serial = s.route->serial;
        r.remote_id = s.route->peer.server_id;
        r.remote_name = s.route->peer.server_name;
        r.ip = s.ip;
        r.port = s.port;
        r.solicited = s.route->solicited;
        r.start = s.start;
        r.last_activity = s.last_activity;
        r.rtt = s.ping.rtt;
        r.pending_bytes = s.out.pending();
        r.in_msgs = s.counters.in_msgs;
        r.out_msgs = s.counters.out_msgs;
        r.in_bytes = s.counters.in_bytes;
        r.out_bytes = s.counters.out_bytes;
        r.subscriptions = s.route->learned.size();
        r.pausers = s.flow.pausers;
        out.push_back(std::move(r));
    });
    return out;
}

const std::string& shard::account_name(auth::account_id a) const noexcept {
    return router_.accounts().at(a).name;
}

std::vector<connection_info> shard::connections(std::uint64_t cid) const {
    std::vector<connection_info> out;
    sessions_.for_each([&](const session& s) {
        if (s.is_route() || (cid && s.cid != cid)) return;
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
        if (s.is_route()) return;
        for (const auto& [sid, sub] : s.subs) {
            if (!test.empty() && !subjects::subject_matches(sub->subject, test)) continue;
            out.push_back({sub->subject, sub->queue, sub->sid, sub->delivered, sub->max, s.cid,
                           account_name(s.account)});
        }
    });
    return out;
}

} // namespace natrix::broker
