#pragma once
// /metrics: Prometheus text exposition (format 0.0.4) of the per-shard
// counters and gauges, labelled shard="N", and the sampled publish-to-write
// latency histogram in seconds. Pure rendering; any thread.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/broker/shard_view.hh>
#include <natrix/monitor/shard_figures.hh>

namespace natrix::monitor {

struct metrics_input {
    std::string server_id;
    std::string server_name;
    std::chrono::system_clock::time_point start;
    std::vector<shard_figures> shards;
    std::uint64_t resident_bytes = 0;
    std::chrono::nanoseconds cpu_time{0};
    bool lame_duck = false;
    std::vector<broker::route_info_view> routes; // empty without a cluster
};

inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

std::string render_metrics(const metrics_input& in);

// A Prometheus label value with \, " and newline escaped.
std::string escape_label_value(std::string_view v);

} // namespace natrix::monitor
