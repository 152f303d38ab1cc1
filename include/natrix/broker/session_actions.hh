#pragma once
#include <string>
#include <vector>
// What more than one part of the client protocol does to a session: write
// the server's replies in nats-server's exact form, and drop a subscription.
//
// Called on the session's shard only.
#include <string_view>

#include <natrix/broker/broker_config.hh>
#include <natrix/broker/router.hh>
#include <natrix/broker/session_table.hh>
#include <natrix/broker/shard_stats.hh>
#include <natrix/protocol/errors.hh>

namespace natrix::broker {

// +OK, PING, PONG and -ERR, each traced (->> [OK]) when tracing is on.
void send_ok(session_table& t, session& s);
void send_ping(session_table& t, session& s);
void send_pong(session_table& t, session& s);
void send_err(session_table& t, session& s, protocol::proto_error e);
void send_text_err(session_table& t, session& s, std::string_view text);
// INFO as nats-server 2.9.10 writes it; `port` is the client port shards listen on.
void send_info(session_table& t, session& s, const broker_config& cfg, int port,
               bool lame_duck = false, const std::vector<std::string>* connect_urls = nullptr);

// Takes the subscription out of the router (interest deltas go to the other
// shards) and destroys it; traced as <-> [DELSUB sid].
void drop_subscription(router& r, shard_stats& stats, session& s, subscription* sub);
void drop_subscription(router& r, shard_stats& stats, session& s,
                       session::subscription_map::iterator it);

} // namespace natrix::broker
