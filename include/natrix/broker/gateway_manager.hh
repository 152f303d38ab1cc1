#pragma once
// The supercluster's control plane (docs/clustering.md, "Superclusters";
// brief §2): the gateway listener, one outbound connection per remote
// cluster (to a random URL of it, redialled a second apart), the handshake
// (INFO, CONNECT, INFO; names, auth, reject_unknown_cluster), inbound
// registration, implicit gateways from inbound connections and from gossip
// (over gateways and over this cluster's routes), and the cluster's gateway
// URLs.
//
// Runs on its own threads, never on a shard: a gateway's data path is its
// shard's (route_protocol, gateway_links.cc). It reaches shards only through
// `post`; shards reach it through route_events, which lock its registry.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <natrix/broker/broker_config.hh>
#include <natrix/broker/control_listener.hh>
#include <natrix/broker/control_plane.hh>
#include <natrix/broker/route_protocol.hh>

namespace natrix::broker {

class shard;

// What the cluster's control plane tells the gateways' (and asks of it).
class gateway_gossip {
public:
    virtual ~gateway_gossip() = default;
    // A route peer's INFO carried its gateway URL ("host:port").
    virtual void cluster_gateway_url(std::string url) = 0;
    // A route relayed a gateway gossip INFO (gateway_cmd 1): another cluster.
    virtual void remote_gossip(protocol::route_info info) = 0;
    // The gossip INFOs a new route gets: every remote cluster we reach.
    virtual std::vector<std::string> route_greeting() = 0;
    // This server's gateway URL, for its route INFO.
    virtual std::string own_url() const = 0;
};

// The cluster's side, as the gateways need it.
class route_broadcast {
public:
    virtual ~route_broadcast() = default;
    virtual void send_to_all_routes(const std::string& line) = 0;
};

// One gateway connection, as /gatewayz shows it.
struct gateway_view {
    std::string name; // the remote cluster
    bool outbound = false;
    bool configured = false;
    std::uint64_t serial = 0;
    std::string remote_id;
};

class gateway_manager final : public control_plane, public route_events, public gateway_gossip {
public:
    using poster = std::function<void(unsigned index, std::function<void(shard&)>)>;
    gateway_manager(const broker_config& cfg, unsigned nshards, poster post);
    ~gateway_manager() override;

    bool open(std::string* error); // binds the listener
    void start();                  // accepts and dials (once the shards run)
    void stop();
    const std::string& name() const noexcept { return gw_.name; }
    void set_routes(route_broadcast* r) noexcept { routes_ = r; } // before start

    // route_events (shards call these for gateway links)
    void route_info(std::uint64_t serial, protocol::route_info info) override;
    void route_closed(std::uint64_t serial, std::string reason) override;
    // gateway_gossip (the cluster manager calls these)
    void cluster_gateway_url(std::string url) override;
    void remote_gossip(protocol::route_info info) override;
    std::vector<std::string> route_greeting() override;
    std::string own_url() const override { return own_url_; }

    std::vector<gateway_view> gateways() const;

private:
    struct remote {
        std::vector<cluster::route_url> urls;
        bool configured = false;
        bool dialling = false;
        int failures = 0; // implicit ones are dropped past connect_retries
        std::chrono::steady_clock::time_point next;
        std::uint64_t serial = 0; // the outbound connection; 0: none
        unsigned shard = 0;
        std::string server_id;
    };
    struct inbound {
        std::string name, server_id;
        unsigned shard = 0;
    };
    struct handshake : control::link_io { // the socket, and its TLS session (gateway tls)
        std::string ip;
        int port = 0;
        protocol::route_info info;
        std::string leftover;
    };

    void manager_loop();
    void dial(std::string name, std::vector<cluster::route_url> urls);
    void greet_inbound(int fd, std::string ip, int port);
    bool solicit(const std::string& name, const cluster::route_url& url, handshake& h,
                 std::string* why);
    bool accept_handshake(handshake& h, std::string* why);
    void adopt(handshake& h, link_kind kind, const std::string& name, std::uint64_t serial,
               unsigned shard);
    unsigned pick_shard_locked();
    void implicit_locked(const std::string& name, const std::vector<std::string>& urls);
    std::string our_info_locked() const;
    std::string gossip_line(const std::string& name, const std::vector<std::string>& urls) const;
    static std::vector<std::string> url_strings(const std::vector<cluster::route_url>& urls);

    broker_config cfg_;
    cluster::gateway_config gw_;
    unsigned nshards_;
    poster post_;
    route_broadcast* routes_ = nullptr;
    // gateway tls: dialling remotes that have their own tls block.
    std::map<std::string, std::shared_ptr<const tls::tls_context>> tls_remote_;
    std::string own_url_; // host:port others dial for this server

    std::map<std::string, remote> remotes_; // by cluster name
    std::map<std::uint64_t, inbound> inbound_;
    std::vector<std::string> cluster_urls_; // this cluster's gateway URLs, ours first
    std::vector<unsigned> links_per_shard_;
    std::uint64_t next_serial_ = 1;
    std::mt19937_64 rng_{std::random_device{}()};
};

} // namespace natrix::broker
