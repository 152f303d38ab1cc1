// The gateway half of route_protocol (brief §2.3-2.6): what an inbound
// gateway is told (per account: INFO cmd 2, RS+ for the cluster's interest,
// INFO cmd 3; then RS± on each first and last), what an outbound gateway's
// INFOs mean, and where a gateway's messages and _GR_. replies go.
#include <natrix/broker/protocol_trace.hh>
#include <natrix/broker/route_protocol.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

void route_protocol::start_inbound_gateway(session& s) {
    inbound_.push_back(&s);
    // Interest-only from the start, for every account (nats-server 2.9's
    // switchAccountToInterestMode on an inbound's first INFO).
    const auth::account_set& accounts = router_.accounts();
    for (std::size_t a = 0; a < accounts.size(); ++a) {
        const auto acct = static_cast<auth::account_id>(a);
        protocol::route_info cmd;
        cmd.gateway = cfg_.gateway.name;
        cmd.gateway_cmd_payload = accounts.at(acct).name;
        cmd.gateway_cmd = 2;
        s.out.queued += protocol::write_gateway_info(cmd);
        router_.for_each_cluster_interest(acct, [&](std::string_view p, std::string_view q) {
            write_interest(s, acct, p, q, 1); // a gateway's queue weight is always 1
        });
        cmd.gateway_cmd = 3;
        s.out.queued += protocol::write_gateway_info(cmd);
    }
}

void route_protocol::send_gateway_interest(std::uint16_t account, std::string_view pattern,
                                           std::string_view queue, bool present) {
    for (session* s : inbound_) {
        if (!s->is_open()) continue;
        write_interest(*s, account, pattern, queue, present ? 1 : 0);
        sessions_.mark_for_flush(*s);
    }
}

bool route_protocol::gateway_info(session& s, std::string_view line) {
    protocol::route_info info;
    std::string err;
    if (!protocol::parse_route_info(line, info, &err)) {
        LOG_WRN("%s:%d - gid:%llu - %s", s.ip.c_str(), s.port,
                static_cast<unsigned long long>(s.cid), err.c_str());
        return true;
    }
    if (info.gateway_cmd == 2 || info.gateway_cmd == 3) {
        // The remote switches an account to interest-only: so do we from
        // the start (an account it never named has no interest), so there
        // is nothing to change; only a command without its account is wrong.
        if (info.gateway_cmd_payload.empty()) {
            fail(s, info.gateway_cmd == 2
                        ? "Account absent from receive-all-subscriptions-start command"
                        : "Account absent from receive-all-subscriptions-complete command");
            return false;
        }
        return true;
    }
    // Gossip of another cluster's gateways, or this cluster's new URLs.
    if (gateway_events_) gateway_events_->route_info(s.route->serial, std::move(info));
    return true;
}

void route_protocol::gateway_msg(session& s, std::uint16_t account, message& m) {
    if (gateway_replies::is_routed(m.subject) && routed_reply(s, account, m)) return;
    // This server publishes it in its cluster: its shards and its routes.
    router_.publish_from_gateway(account, m, queues_);
}

// A message to "_GR_.<cluster>.<server>.<reply>" (brief §2.6): an answer
// to a request made in this cluster. Another cluster's is dropped; another
// server's goes on over the route to it; ours is delivered bare.
bool route_protocol::routed_reply(session& s, std::uint16_t account, message& m) {
    const std::string& own = router_.reply_prefix(); // "_GR_.<cluster>.<server>."
    if (m.subject.substr(5, 6) != std::string_view(own).substr(5, 6)) return true;
    const std::string_view server = m.subject.substr(12, 6);
    if (s.route->is_gateway() && server != std::string_view(own).substr(12, 6)) {
        if (const std::uint16_t id = router_.route_for_hash(server)) {
            router_.to_link(id, account, m);
            return true;
        }
    }
    m.subject.remove_prefix(gateway_replies::prefix_len);
    if (s.route->is_gateway())
        router_.publish_from_gateway(account, m, queues_);
    else
        router_.publish_routed(account, m, queues_);
    return true;
}

} // namespace natrix::broker
