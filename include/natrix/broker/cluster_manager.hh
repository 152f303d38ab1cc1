#pragma once
// The cluster's control plane (docs/clustering.md): the route listener, dials
// to configured and gossiped routes with retries, the handshake (INFO and
// CONNECT, auth, cluster name, routes to ourselves), the registry of peers by
// server id (one route per peer: duplicates are resolved the same way on both
// sides), gossip of new peers, and the client connect_urls.
//
// Runs on its own threads, never on a shard: a route's data path is its
// shard's (route_protocol). It reaches shards only through `post`, and
// shards reach it only through route_events, which lock its registry.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <natrix/broker/broker_config.hh>
#include <natrix/broker/control_plane.hh>
#include <natrix/broker/control_workers.hh>
#include <natrix/broker/gateway_manager.hh>
#include <natrix/broker/route_link.hh>
#include <natrix/broker/route_protocol.hh>

namespace natrix::broker {

class shard;

// One registered route, as /routez shows it.
struct route_view {
    std::uint64_t serial = 0;
    unsigned shard = 0;
    std::string remote_id, remote_name, ip;
    int port = 0;
    bool solicited = false, configured = false;
    std::vector<std::string> connect_urls;
};

class cluster_manager final : public control_plane, public route_events, public route_broadcast {
public:
    using poster = std::function<void(unsigned index, std::function<void(shard&)>)>;
    cluster_manager(const broker_config& cfg, unsigned nshards, int client_port, poster post);
    ~cluster_manager() override;

    // Binds the route listener (before the shards listen to clients, so that a
    // node that answers clients also answers routes); false with a reason.
    bool open(std::string* error);
    // Starts accepting and dialling (once the shards run).
    void start();
    void stop();
    void set_client_port(int p) noexcept { client_port_ = p; } // before start
    std::string name() const {
        std::lock_guard lock(mu_);
        return name_;
    }

    // Superclusters: gateway URLs and gossip travel over the routes (before start).
    void set_gateways(gateway_gossip* g) noexcept { gateways_ = g; }
    void send_to_all_routes(const std::string& line) override;

    // route_events (shards call these)
    void route_info(std::uint64_t serial, protocol::route_info info) override;
    void route_closed(std::uint64_t serial, std::string reason) override;

    // Control thread.
    std::vector<route_view> routes() const;
    void enter_lame_duck();
    // SIGHUP: routes added are dialled, routes removed are closed.
    void reload(const cluster::cluster_config& c);
    // The URLs clients are told (own first, then the peers').
    std::vector<std::string> client_urls() const;

private:
    struct peer {
        std::uint64_t serial = 0;
        unsigned shard = 0;
        bool solicited = false;
        std::string url; // the configured or gossiped URL we dialled
        std::string remote_ip;
        int remote_port = 0;
        protocol::route_info info;
    };
    struct configured_route {
        cluster::route_url url;
        std::string server_id; // who answered there last (empty: not known yet)
        bool self = false;     // it is us: never dialled again
        bool dialling = false;
        std::chrono::steady_clock::time_point next;
    };
    struct handshake : control::link_io { // the socket, and its TLS session (cluster tls)
        bool solicited = false;
        std::string url;
        cluster::route_url creds;
        std::string remote_ip;
        int remote_port = 0;
        protocol::route_info info;
        std::string leftover;
    };

    void manager_loop();
    void spawn(std::function<void()> fn);
    void dial(std::string url, cluster::route_url target, bool implicit, int attempts_left);
    void greet_inbound(int fd, std::string ip, int port);
    bool exchange(handshake& h, std::string* why);
    void register_route(handshake h);
    std::string our_info(bool ldm = false) const;
    std::vector<std::string> own_client_urls() const;
    void publish_client_urls_locked();
    bool is_configured_locked(const std::string& host, int port) const;

    broker_config cfg_;
    cluster::cluster_config cl_;
    unsigned nshards_;
    int client_port_;
    poster post_;
    gateway_gossip* gateways_ = nullptr;
    std::string name_;
    bool dynamic_name_ = false;

    std::map<std::string, peer> peers_; // by server id
    std::vector<configured_route> configured_;
    std::vector<std::string> implicit_dialling_; // server ids being dialled from gossip
    std::vector<unsigned> routes_per_shard_;
    std::vector<std::string> last_urls_;
    bool lame_duck_ = false;
    std::uint64_t next_serial_ = 1;
    std::mt19937_64 rng_{std::random_device{}()};
};

} // namespace natrix::broker
