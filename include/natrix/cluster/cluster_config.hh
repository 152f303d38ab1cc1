#pragma once
// The `cluster {}` block and the --cluster/--routes flags, as nats-server
// 2.9 reads them (docs/clustering.md). Built by the config module, carried in
// broker_config, read by the cluster manager (control plane) and, for what
// INFO says, by the shards.
#include <chrono>
#include <string>
#include <vector>

#include <natrix/tls/tls_config.hh>

namespace natrix::cluster {

// nats-route://[user:pass@]host:port
struct route_url {
    std::string user, password; // from the URL's userinfo; empty: none
    std::string host;
    int port = 0;
    std::string text; // as configured, for logs and /routez
};

struct cluster_config {
    bool enabled = false; // a cluster block (or --cluster) with a listen port
    std::string name;     // empty: generated at start (cluster_dynamic)
    std::string host = "0.0.0.0";
    int port = 0; // 0 with enabled: pick a free port (tests); -1 in nats-server means random too
    std::vector<route_url> routes;
    // authorization { user, password, timeout }: one user, as nats-server
    // (a bcrypt hash in password is accepted, as nats-server accepts it).
    std::string user, password;
    std::chrono::nanoseconds auth_timeout = std::chrono::seconds(2);
    // cluster_advertise / advertise: host:port put in route INFO.
    std::string advertise;
    bool no_advertise = false; // routes do not share client connect_urls
    int connect_retries = 0;   // implicit routes: extra attempts after the first
    int pool_size = 0;         // accepted for 2.10 configs; natrix runs one route per peer
    // tls {}: TLS first on every route, mutual (a peer must present a
    // certificate ca_file verifies, as nats-server forces for routes).
    tls::tls_config tls;
};

} // namespace natrix::cluster
