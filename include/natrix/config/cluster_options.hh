#pragma once
// The text formats of the `cluster {}` block and the cluster flags
// (--routes, --cluster, --cluster_advertise, --client_advertise), as
// nats-server 2.9 reads them (opts.go parseCluster/parseURL/overrideCluster,
// util.go parseHostPort). The block itself is mapped with the rest of the
// config (server_options.hh); these are the pieces the flags share with it.
// Pure functions; any thread. Each returns false with a reason in *why (no
// position, no credentials).
#include <string>
#include <string_view>

#include <natrix/cluster/cluster_config.hh>

namespace natrix::config {

// A route: nats-route://[user:password@]host:port, or nats://..., with
// surrounding spaces trimmed. The userinfo is percent-decoded (Go's
// url.Parse); an IPv6 host is written [addr]:port and stored without the
// brackets. A port is required (1-65535); a trailing "/" is accepted, any
// other path, query or fragment is not. `text` keeps the trimmed URL as
// written, password included: log it through redact_url.
bool parse_route_url(std::string_view text, cluster::route_url* out, std::string* why);

// The --cluster/--cluster_listen URL: scheme://[user:password@]host:port,
// any scheme, as nats-server's overrideCluster. Port -1 is any free port
// (stored as 0, with *port_given -1), port 0 disables clustering. An empty
// host is 0.0.0.0. A user without a password is an error ("expected cluster
// password to be set"); with_user says whether the URL had a userinfo.
struct cluster_listen {
    std::string host = "0.0.0.0";
    int port = 0; // -1 = any free port, 0 = clustering off (as written)
    bool with_user = false;
    std::string user, password;
};
bool parse_cluster_listen(std::string_view text, cluster_listen* out, std::string* why);

// cluster_advertise / client_advertise: "host", "host:port", "[v6]" or
// "[v6]:port" (net.SplitHostPort; a missing port means the listen port).
// nats-server checks this at start and exits; natrix checks it on load so
// that -t reports it.
bool check_advertise(std::string_view text, std::string* why);

// The URL with its password replaced by "xxxxx", as nats-server logs route
// URLs; text that is not a URL with a password is returned unchanged.
std::string redact_url(std::string_view text);

} // namespace natrix::config
