#pragma once
// The URL format of the `gateway {}` block's remote gateways, as nats-server
// 2.9 reads it (opts.go parseGateways). The block itself is mapped with the
// rest of the config (server_options.hh). Pure function; any thread.
#include <string>
#include <string_view>

#include <natrix/cluster/cluster_config.hh>

namespace natrix::config {

// A remote gateway URL: nats://[user:password@]host:port (also tls:// and
// nats-route://; the scheme is not used to choose a transport).
bool parse_gateway_url(std::string_view text, cluster::route_url* out, std::string* why);

} // namespace natrix::config
