#pragma once
// What a session that is a route (to another server of the cluster) or a
// gateway (to a server of another cluster) carries besides a client's
// state: who the peer is, its interest id, the interest it told us (dropped
// when it goes), its partial input.
//
// Lives in its session, on the shard that adopted the link; only that
// shard's thread touches it. The cluster (or gateway) manager, on its own
// threads, knows the link by serial and reaches it only through shard::post.
#include <cstdint>
#include <string>

#include <natrix/protocol/route_info.hh>
#include <natrix/util/gradual_map.hh>

namespace natrix::broker {

// Routes and gateways share the data path (route_protocol); what differs is
// which way interest and messages flow (brief §2.1).
enum class link_kind : unsigned char {
    route,
    gateway_out, // we dialled a remote cluster: it tells us its interest, we send messages
    gateway_in,  // a remote cluster dialled us: we tell it our interest, it sends messages
};

struct route_link {
    link_kind kind = link_kind::route;
    std::uint16_t id = 0;      // interest id (routes, outbound gateways)
    std::uint64_t serial = 0;  // the cluster manager's name for this connection
    bool solicited = false;    // we dialled it
    std::string url;           // what we dialled (solicited)
    protocol::route_info peer; // its INFO
    std::string pending;       // a control line or payload split across reads
    // Interest learned from the peer: "account subject queue" → count
    // (1 for plain, the weight for a queue); all of it goes when it closes.
    util::gradual_map<std::string, std::uint32_t> learned;
    bool dropped = false; // its interest was taken back (closing)
    std::string gateway;  // gateways: the remote cluster's name

    bool is_gateway() const noexcept { return kind != link_kind::route; }
};

} // namespace natrix::broker
