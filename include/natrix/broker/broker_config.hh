#pragma once
// The settings one broker instance runs with, fixed for the life of its
// shards (reload of the mutable ones comes with the operations issue).
// Built by the control thread from config::server_options; each shard keeps
// a const reference.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <natrix/auth/authenticator.hh>
#include <natrix/cluster/cluster_config.hh>
#include <natrix/cluster/gateway_config.hh>
#include <natrix/tls/tls_context.hh>

namespace natrix::broker {

enum class idle_strategy { spin, backoff, sleep };
// What a subscriber that cannot keep up costs: its publishers slow down to its
// pace (throttle), or it is cut at max_pending and publishers never wait (evict).
enum class slow_consumer_policy { throttle, evict };
// automatic: io_uring where the kernel and seccomp allow it, else epoll (WRN).
enum class io_mode { automatic, uring, epoll };

struct broker_config {
    std::string host = "0.0.0.0";
    int port = 4222;
    std::string server_id;   // generated when empty
    std::string server_name; // server_id when empty
    std::int64_t max_payload = 1 << 20;
    std::int64_t max_pending = 64 << 20;
    int max_connections = 65536;
    int max_subscriptions = 0;
    std::uint32_t max_control_line = 4096;
    std::chrono::nanoseconds ping_interval = std::chrono::minutes(2);
    int ping_max = 2;
    std::chrono::nanoseconds write_deadline = std::chrono::seconds(10);
    slow_consumer_policy slow_consumer = slow_consumer_policy::throttle;
    // throttle: a subscriber over the high watermark whose socket takes no
    // bytes for this long is cut (docs/decisions/0009-flow-control.md).
    std::chrono::nanoseconds stall_timeout = std::chrono::seconds(2);

    unsigned shards = 0; // 0: one per usable cpu
    std::vector<int> cpus;
    idle_strategy idle = idle_strategy::backoff;
    std::chrono::microseconds spin = std::chrono::microseconds(50);
    std::size_t ring_bytes = 4 << 20; // per ordered shard pair
    std::uint32_t recv_buffer_size = 64 * 1024;
    std::uint32_t recv_buffer_count = 256;
    io_mode io = io_mode::automatic; // server::start resolves automatic for the shards

    // Client authentication; null means none. Immutable and shared by all
    // shards; fixed for the life of the process (not reloaded yet).
    std::shared_ptr<const auth::authenticator> auth;
    std::chrono::nanoseconds auth_timeout = std::chrono::seconds(2);

    // client_advertise: the URL other servers' clients are told (connect_urls);
    // empty: the listen address (every non-loopback address for 0.0.0.0).
    std::string client_advertise;
    cluster::cluster_config cluster;
    cluster::gateway_config gateway;
    // Client TLS: null without it. A reload brings a new context (new
    // certificates) for new connections; open ones keep theirs.
    std::shared_ptr<const tls::tls_context> tls;
    bool allow_non_tls = false;
};

} // namespace natrix::broker
