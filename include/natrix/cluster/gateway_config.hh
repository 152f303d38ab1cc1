#pragma once
// The `gateway {}` block, as nats-server 2.9 reads it (opts.go parseGateway;
// docs/clustering.md, "Superclusters"). Built by the config module, carried
// in broker_config, read by the gateway manager (control plane) and by the
// shards for the _GR_ reply prefix.
#include <chrono>
#include <string>
#include <vector>

#include <natrix/cluster/cluster_config.hh>

namespace natrix::cluster {

// One remote cluster: its name and the gateway URLs of its servers.
struct remote_gateway {
    std::string name;
    std::vector<route_url> urls;
    tls::tls_config tls; // its own tls block; not enabled: the gateway block's
};

struct gateway_config {
    bool enabled = false; // a gateway block with a name and a listen port
    std::string name;     // this cluster's name among gateways
    std::string host = "0.0.0.0";
    int port = 0; // 0 with enabled: any free port (tests)
    std::vector<remote_gateway> gateways;
    // authorization { user, password, timeout }: what inbound gateways must
    // present, and what we present where a remote URL has no userinfo.
    std::string user, password;
    std::chrono::nanoseconds auth_timeout = std::chrono::seconds(2);
    std::string advertise; // host:port put in gateway INFO
    int connect_retries = 0;
    bool reject_unknown = false; // refuse inbound gateways from unconfigured clusters
    tls::tls_config tls;         // TLS first on every gateway connection, mutual
};

} // namespace natrix::cluster
