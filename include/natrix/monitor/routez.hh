#pragma once
// /routez: the routes to other servers of the cluster, with nats-server's
// fields (Routez/RouteInfo), plus natrix's flow-control figures per route.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/broker/cluster_manager.hh>
#include <natrix/broker/shard_view.hh>

namespace natrix::monitor {

class json_writer;

// The fields /routez and /gatewayz share for a link: start, last_activity,
// rtt, uptime and idle; then (counters) in/out messages and bytes.
void write_link_activity(json_writer& w, const broker::route_info_view& r,
                         std::chrono::steady_clock::time_point steady_now,
                         std::chrono::system_clock::duration wall_offset);
void write_link_counters(json_writer& w, const broker::route_info_view& r);

// `registry` is the cluster manager's list (is_configured comes from it);
// `held` what the shards report for the routes they hold.
std::string render_routez(std::string_view server_id, std::chrono::system_clock::time_point now,
                          std::chrono::steady_clock::time_point steady_now,
                          std::chrono::system_clock::duration wall_offset,
                          const std::vector<broker::route_view>& registry,
                          std::vector<broker::route_info_view> held);

} // namespace natrix::monitor
