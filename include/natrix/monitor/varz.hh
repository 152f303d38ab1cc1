#pragma once
// /varz: server identity, settings and totals with nats-server's field names,
// types and order, plus a "natrix" object with per-shard figures. Pure
// rendering from gathered data; any thread.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <natrix/broker/broker_config.hh>
#include <natrix/broker/memory_trim.hh>
#include <natrix/monitor/shard_figures.hh>

namespace natrix::monitor {

// What does not change while the process runs.
struct server_identity {
    std::string server_id;
    std::string host; // client listener
    int port = 0;
    std::string http_host;
    int http_port = 0;
    double auth_timeout_s = 2;
    unsigned shards = 0;
    std::string idle_strategy;
};

struct varz_input {
    server_identity id;
    broker::broker_config cfg; // the settings in force (they change on reload)
    std::chrono::system_clock::time_point start, now, config_load_time;
    std::vector<shard_figures> shards;
    std::uint64_t mem = 0;               // resident bytes ("mem", as nats-server)
    broker::heap_usage heap;             // natrix.heap_in_use / heap_free: live data vs mem
    broker::heap_trim_totals heap_trims; // natrix.heap_trims / heap_released
    int cores = 0;
    double cpu = 0;
    std::map<std::string, std::uint64_t> http_req_stats;
    bool lame_duck = false;
    // Clusters: the route listener and name in force, routes up, the
    // client URLs of the cluster (empty without a cluster).
    int cluster_port = 0;
    int gateway_port = 0; // the bound gateway port (0: no gateways)
    std::string cluster_name;
    std::size_t routes = 0;
    std::vector<std::string> connect_urls;
    // Config keys and flags accepted but ignored (natrix.ignored_config_keys;
    // always present, [] when none).
    std::vector<std::string> ignored_config_keys;
};

std::string render_varz(const varz_input& in);

// Upper bound in ns of the bucket holding quantile q (0..1) of the samples;
// 0 without samples. The last (open) bucket reports its lower bound.
std::uint64_t latency_quantile_upper_ns(const broker::latency_histogram::snapshot& h, double q);

} // namespace natrix::monitor
