#include <string>

#include <natrix/broker/protocol_trace.hh>
#include <natrix/broker/server_identity.hh>
#include <natrix/broker/session_actions.hh>
#include <natrix/protocol/server_info.hh>
#include <natrix/protocol/writer.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

void send_ok(session_table& t, session& s) {
    if (util::trace_enabled()) trace_out(s, "OK");
    t.append(s, protocol::ok_line);
}

void send_ping(session_table& t, session& s) {
    if (util::trace_enabled()) trace_out(s, "PING");
    t.append(s, protocol::ping_line);
}

void send_pong(session_table& t, session& s) {
    if (util::trace_enabled()) trace_out(s, "PONG");
    s.ping.pong_sent = true;
    t.append(s, protocol::pong_line);
}

void send_err(session_table& t, session& s, protocol::proto_error e) {
    if (util::trace_enabled()) trace_out(s, "-ERR", protocol::error_text(e));
    char buf[128];
    const std::size_t n = protocol::write_err(buf, sizeof buf, e);
    t.append(s, std::string_view(buf, n));
}

namespace {

// `write(out, cap)` returns the bytes it needs and writes at most `cap`:
// a stack buffer serves the usual case, a string the long one.
template <typename Write>
void append_written(session_table& t, session& s, Write write) {
    char buf[1024];
    const std::size_t n = write(buf, sizeof buf);
    if (n <= sizeof buf) {
        t.append(s, std::string_view(buf, n));
        return;
    }
    std::string big(n, '\0');
    write(big.data(), big.size());
    t.append(s, big);
}

} // namespace

void send_text_err(session_table& t, session& s, std::string_view text) {
    if (util::trace_enabled()) trace_out(s, "-ERR", text);
    append_written(t, s,
                   [&](char* out, std::size_t cap) { return protocol::write_err(out, cap, text); });
}

void send_info(session_table& t, session& s, const broker_config& cfg, int port, bool lame_duck,
               const std::vector<std::string>* connect_urls) {
    protocol::server_info info;
    info.server_id = cfg.server_id;
    info.server_name = cfg.server_name.empty() ? cfg.server_id : cfg.server_name;
    info.version = server_version;
    info.go = server_go_field;
    info.host = cfg.host;
    info.port = port;
    info.headers = true;
    info.max_payload = cfg.max_payload;
    info.client_id = s.cid;
    info.client_ip = s.ip;
    info.ldm = lame_duck;
    if (connect_urls) info.connect_urls = *connect_urls;
    // With no_auth_user a client may stay silent, so nats-server does not
    // advertise auth_required (the auth timer still runs).
    info.auth_required = cfg.auth && cfg.auth->required() && cfg.auth->no_auth_user().empty();
    info.nonce = s.auth.nonce;
    if (cfg.tls) { // brief §3.1; INFO inside TLS (handshake_first) always says required
        const bool inside = s.tls && s.tls->at == tls_link::phase::established;
        info.tls_required = !cfg.allow_non_tls || inside;
        info.tls_available = cfg.allow_non_tls && !inside;
        info.tls_verify = cfg.tls->config().requires_client_cert();
    }
    append_written(
        t, s, [&](char* out, std::size_t cap) { return protocol::write_info(out, cap, info); });
}

void drop_subscription(router& r, shard_stats& stats, session& s, subscription* sub) {
    drop_subscription(r, stats, s, s.subs.find(sub->sid));
}

void drop_subscription(router& r, shard_stats& stats, session& s,
                       session::subscription_map::iterator it) {
    if (util::trace_enabled()) trace_delsub(s, it->second->sid);
    r.unsubscribe(s.account, it->second.get());
    stats.subscriptions.sub(1);
    s.subs.erase(it); // destroys the subscription
}

} // namespace natrix::broker
