#include <cstdio>

#include <natrix/broker/server.hh>
#include <natrix/monitor/json_writer.hh>
#include <natrix/monitor/metrics.hh>

namespace natrix::monitor {

std::string escape_label_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

namespace {

void header(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void sample(std::string& out, const char* name, const std::string& labels, std::uint64_t v) {
    out += name;
    if (!labels.empty()) out += "{" + labels + "}";
    out += ' ';
    out += std::to_string(v);
    out += '\n';
}

void sample_double(std::string& out, const char* name, const std::string& labels, double v) {
    out += name;
    if (!labels.empty()) out += "{" + labels + "}";
    out += ' ';
    out += format_json_number(v); // shortest round-trip form
    out += '\n';
}

std::string shard_label(const shard_figures& f) {
    return "shard=\"" + std::to_string(f.shard) + "\"";
}

struct per_shard_metric {
    const char* name;
    const char* type;
    const char* help;
    std::uint64_t (*get)(const shard_figures&);
};

const per_shard_metric per_shard[] = {
    {"natrix_in_msgs_total", "counter", "Messages received from clients.",
     [](const shard_figures& f) { return f.in_msgs; }},
    {"natrix_in_bytes_total", "counter", "Payload bytes received from clients.",
     [](const shard_figures& f) { return f.in_bytes; }},
    {"natrix_out_msgs_total", "counter", "Messages delivered to clients.",
     [](const shard_figures& f) { return f.out_msgs; }},
    {"natrix_out_bytes_total", "counter", "Payload bytes delivered to clients.",
     [](const shard_figures& f) { return f.out_bytes; }},
    {"natrix_slow_consumers_total", "counter", "Clients closed as slow consumers.",
     [](const shard_figures& f) { return f.slow_consumers; }},
    {"natrix_slow_consumers_max_pending_total", "counter",
     "Slow consumers cut because their pending output would pass max_pending.",
     [](const shard_figures& f) { return f.cut_max_pending; }},
    {"natrix_slow_consumers_write_deadline_total", "counter",
     "Slow consumers cut because one write took longer than write_deadline.",
     [](const shard_figures& f) { return f.cut_write_deadline; }},
    {"natrix_slow_consumers_stalled_total", "counter",
     "Slow consumers cut because they read nothing for stall_timeout while publishers waited for "
     "them.",
     [](const shard_figures& f) { return f.cut_stalled; }},
    {"natrix_paused_publishers", "gauge",
     "Publishers not read now because a subscriber they feed is behind.",
     [](const shard_figures& f) { return f.paused_publishers; }},
    {"natrix_stale_connections_total", "counter", "Clients closed for unanswered PINGs.",
     [](const shard_figures& f) { return f.stale_connections; }},
    {"natrix_connections", "gauge", "Open client connections.",
     [](const shard_figures& f) { return f.connections; }},
    {"natrix_connections_accepted_total", "counter", "Client connections accepted.",
     [](const shard_figures& f) { return f.total_connections; }},
    {"natrix_subscriptions", "gauge", "Subscriptions held by the shard's clients.",
     [](const shard_figures& f) { return f.subscriptions; }},
    {"natrix_ring_bytes_in_use", "gauge", "Bytes waiting in the shard's inbound SPSC rings.",
     [](const shard_figures& f) { return f.ring_bytes_in_use; }},
    {"natrix_ring_overflow_bytes", "gauge",
     "Bytes waiting for space in full rings to other shards.",
     [](const shard_figures& f) { return f.overflow_bytes; }},
    {"natrix_ring_records_out_total", "counter", "Records written to rings towards other shards.",
     [](const shard_figures& f) { return f.ring_records_out; }},
    {"natrix_ring_full_total", "counter",
     "Records that found their ring full and went to overflow.",
     [](const shard_figures& f) { return f.ring_full; }},
    {"natrix_ring_indirect_total", "counter",
     "Records larger than a ring holds, sent as a pointer to a heap copy.",
     [](const shard_figures& f) { return f.ring_indirect; }},
    {"natrix_wakeups_sent_total", "counter", "Wakeups paid to sleeping shards.",
     [](const shard_figures& f) { return f.wakeups_sent; }},
    {"natrix_subject_matches_total", "counter", "Subject trie matches.",
     [](const shard_figures& f) { return f.trie.matches; }},
    {"natrix_subject_cache_hits_total", "counter",
     "Subject trie matches served by the match cache.",
     [](const shard_figures& f) { return f.trie.cache_hits; }},
};

} // namespace

std::string render_metrics(const metrics_input& in) {
    std::string out;
    out.reserve(4096 + in.shards.size() * 4096);
    header(out, "natrix_info", "gauge", "Server identity; always 1.");
    sample(out, "natrix_info",
           "server_id=\"" + escape_label_value(in.server_id) + "\",server_name=\"" +
               escape_label_value(in.server_name) + "\",version=\"" + broker::natrix_version +
               "\",nats_protocol=\"" + broker::server_version + "\"",
           1);
    header(out, "natrix_start_time_seconds", "gauge",
           "Start time of the server, in seconds since the epoch.");
    sample_double(out, "natrix_start_time_seconds", "",
                  std::chrono::duration<double>(in.start.time_since_epoch()).count());
    header(out, "natrix_lame_duck", "gauge", "1 while the server is in lame duck mode.");
    sample(out, "natrix_lame_duck", "", in.lame_duck ? 1 : 0);
    header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    sample(out, "process_resident_memory_bytes", "", in.resident_bytes);
    header(out, "process_cpu_seconds_total", "counter",
           "User and system CPU time spent in seconds.");
    sample_double(out, "process_cpu_seconds_total", "",
                  std::chrono::duration<double>(in.cpu_time).count());

    // Routes (docs/clustering.md): one series per peer server.
    header(out, "natrix_routes", "gauge", "Routes to other servers of the cluster.");
    sample(out, "natrix_routes", "", in.routes.size());
    struct route_metric {
        const char* name;
        const char* type;
        const char* help;
        std::uint64_t (*get)(const broker::route_info_view&);
    };
    static constexpr route_metric per_route[] = {
        {"natrix_route_pending_bytes", "gauge", "Bytes queued for the route, not yet written.",
         [](const broker::route_info_view& r) { return r.pending_bytes; }},
        {"natrix_route_paused", "gauge",
         "1 while local subscribers behind hold the route's input (flow control).",
         [](const broker::route_info_view& r) -> std::uint64_t { return r.pausers > 0; }},
        {"natrix_route_in_msgs_total", "counter", "Messages received from the route.",
         [](const broker::route_info_view& r) { return r.in_msgs; }},
        {"natrix_route_out_msgs_total", "counter", "Messages sent on the route.",
         [](const broker::route_info_view& r) { return r.out_msgs; }},
        {"natrix_route_in_bytes_total", "counter", "Payload bytes received from the route.",
         [](const broker::route_info_view& r) { return r.in_bytes; }},
        {"natrix_route_out_bytes_total", "counter", "Payload bytes sent on the route.",
         [](const broker::route_info_view& r) { return r.out_bytes; }},
        {"natrix_route_subscriptions", "gauge", "Interest entries learned from the route.",
         [](const broker::route_info_view& r) { return r.subscriptions; }},
    };
    for (const route_metric& m : per_route) {
        if (in.routes.empty()) break;
        header(out, m.name, m.type, m.help);
        for (const broker::route_info_view& r : in.routes)
            sample(out, m.name,
                   "remote_id=\"" + escape_label_value(r.remote_id) + "\",remote_name=\"" +
                       escape_label_value(r.remote_name) + "\"",
                   m.get(r));
    }

    for (const per_shard_metric& m : per_shard) {
        header(out, m.name, m.type, m.help);
        for (const shard_figures& f : in.shards) sample(out, m.name, shard_label(f), m.get(f));
    }

    header(out, "natrix_publisher_paused_seconds_total", "counter",
           "Time publishers spent paused by flow control (ended pauses).");
    for (const shard_figures& f : in.shards)
        sample_double(out, "natrix_publisher_paused_seconds_total", shard_label(f),
                      static_cast<double>(f.paused_ns) * 1e-9);

    constexpr const char* h = "natrix_publish_to_write_seconds";
    header(out, h, "histogram",
           "Sampled time from parsing a PUB (or taking it off a ring) to submitting the send that "
           "delivers it.");
    const std::string bucket = std::string(h) + "_bucket";
    const std::string sum = std::string(h) + "_sum";
    const std::string count = std::string(h) + "_count";
    constexpr unsigned n = broker::latency_histogram::bucket_count;
    for (const shard_figures& f : in.shards) {
        const std::string sl = shard_label(f);
        std::uint64_t cumulative = 0, total = 0;
        for (auto b : f.latency.buckets) total += b;
        // The last bucket is open-ended: it only shows in +Inf.
        for (unsigned i = 0; i + 1 < n; ++i) {
            cumulative += f.latency.buckets[i];
            char le[48];
            std::snprintf(le, sizeof le, "%.9g",
                          static_cast<double>(broker::latency_histogram::bucket_upper_ns(i)) *
                              1e-9);
            sample(out, bucket.c_str(), sl + ",le=\"" + le + "\"", cumulative);
        }
        sample(out, bucket.c_str(), sl + ",le=\"+Inf\"", total);
        sample_double(out, sum.c_str(), sl, static_cast<double>(f.latency.sum_ns) * 1e-9);
        sample(out, count.c_str(), sl, total);
    }
    return out;
}

} // namespace natrix::monitor
