#include <string>

#include <natrix/broker/server_identity.hh>
#include <natrix/broker/session_actions.hh>
#include <natrix/protocol/server_info.hh>
#include <natrix/protocol/writer.hh>

namespace natrix::broker {

void send_err(session_table& t, session& s, protocol::proto_error e) {
    char buf[128];
    const std::size_t n = protocol::write_err(buf, sizeof buf, e);
    t.append(s, std::string_view(buf, n));
}

void send_text_err(session_table& t, session& s, std::string_view text) {
    char buf[1024];
    const std::size_t n = protocol::write_err(buf, sizeof buf, text);
    if (n <= sizeof buf) {
        t.append(s, std::string_view(buf, n));
        return;
    }
    std::string big(n, '\0');
    protocol::write_err(big.data(), big.size(), text);
    t.append(s, big);
}

void send_info(session_table& t, session& s, const broker_config& cfg, int port, bool lame_duck) {
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
    // With no_auth_user a client may stay silent, so nats-server does not
    // advertise auth_required (the auth timer still runs).
    info.auth_required = cfg.auth && cfg.auth->required() && cfg.auth->no_auth_user().empty();
    info.nonce = s.auth.nonce;
    char buf[1024];
    const std::size_t n = protocol::write_info(buf, sizeof buf, info);
    if (n <= sizeof buf) {
        t.append(s, std::string_view(buf, n));
        return;
    }
    std::string big(n, '\0');
    protocol::write_info(big.data(), big.size(), info);
    t.append(s, big);
}

void drop_subscription(router& r, shard_stats& stats, session& s, subscription* sub) {
    r.unsubscribe(s.account, sub);
    stats.subscriptions.sub(1);
    s.subs.erase(sub->sid); // destroys *sub
}

} // namespace natrix::broker
