#pragma once
// The INFO and CONNECT a route peer exchanges, shaped as nats-server 2.9.10's
// (../shared/reference/nats-cluster-protocol.md §1.2-1.3): only the fields a
// 2.9 peer sends, so that 2.10+ peers treat natrix as a no-pool, no-compression
// peer. Unknown fields in what a peer sends are ignored.
#include <string>
#include <string_view>
#include <vector>

namespace natrix::protocol {

struct route_info {
    std::string server_id, server_name, version, go;
    std::string host;
    int port = 0;
    std::string ip; // "nats-route://h:p/": how to dial this server (gossip)
    bool auth_required = false;
    bool tls_required = false; // TLS first, mutual: INFO then also says tls_verify
    bool headers = true;
    std::int64_t max_payload = 0;
    std::string cluster;
    bool cluster_dynamic = false;
    std::vector<std::string> connect_urls;
    bool ldm = false;
    // Read, never written: a 2.10 peer's pinned-account or pooled dial.
    std::string route_account;
    int route_pool_size = 0;
    // Gateways (brief §2.2): a gateway INFO, or a route INFO that carries
    // this server's gateway URL ("host:port") to the rest of its cluster.
    std::string gateway_url;
    std::string gateway; // the sender's cluster name among gateways (set: a gateway INFO)
    std::vector<std::string> gateway_urls; // "host:port" of every gateway of that cluster
    bool gateway_nrp = false;              // uses the _GR_. reply prefix
    bool gateway_iom = false;              // interest-only from the start (2.9+)
    int gateway_cmd = 0;                   // 1 gossip, 2 all subs start, 3 all subs complete
    std::string gateway_cmd_payload;       // decoded from base64: an account name
};

struct route_connect {
    std::string name; // the dialler's server id
    std::string cluster;
    bool cluster_dynamic = false;
    std::string user, pass;
    bool headers = true;
    bool tls_required = false;
    std::string lang;    // set: a client dialled the route port
    std::string gateway; // set: a gateway dialled the route port
};

// "INFO {json}\r\n" (routes have no space before CRLF, unlike clients).
std::string write_route_info(const route_info& i);
// "CONNECT {json}\r\n"
std::string write_route_connect(const route_connect& c);
// A gateway's INFO: only the fields nats-server's gateway INFO carries, and
// for a command (gateway_cmd set) only the command's. "INFO {json}\r\n".
std::string write_gateway_info(const route_info& i);
// A gateway's CONNECT (echo false, name = server id, gateway = our name).
std::string write_gateway_connect(const route_connect& c);

// The JSON after "INFO " / "CONNECT "; false with a reason when it is not
// a JSON object or a known field has the wrong type.
bool parse_route_info(std::string_view json, route_info& out, std::string* error);
bool parse_route_connect(std::string_view json, route_connect& out, std::string* error);

} // namespace natrix::protocol
