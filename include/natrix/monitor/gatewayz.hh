#pragma once
// /gatewayz: this server's gateway connections to other clusters, with
// nats-server's fields (Gatewayz/RemoteGatewayz/ConnInfo), plus natrix's
// flow-control figure per connection.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/broker/gateway_manager.hh>
#include <natrix/broker/shard_view.hh>

namespace natrix::monitor {

struct gatewayz_input {
    std::string server_id, name, host;
    int port = 0;
    bool enabled = false;
    std::vector<broker::gateway_view> registry; // the gateway manager's list
    std::vector<broker::route_info_view> held;  // what the shards report (gateway links only)
};

std::string render_gatewayz(const gatewayz_input& in, std::chrono::system_clock::time_point now,
                            std::chrono::steady_clock::time_point steady_now,
                            std::chrono::system_clock::duration wall_offset);

} // namespace natrix::monitor
