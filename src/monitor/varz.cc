#include <natrix/broker/server.hh>
#include <natrix/monitor/go_format.hh>
#include <natrix/monitor/json_writer.hh>
#include <natrix/monitor/varz.hh>

namespace natrix::monitor {

std::uint64_t latency_quantile_upper_ns(const broker::latency_histogram::snapshot& h, double q) {
    if (h.count == 0) return 0;
    std::uint64_t total = 0;
    for (auto b : h.buckets) total += b;
    if (total == 0) return 0;
    const double want = q * static_cast<double>(total);
    std::uint64_t seen = 0;
    constexpr unsigned n = broker::latency_histogram::bucket_count;
    for (unsigned i = 0; i < n; ++i) {
        seen += h.buckets[i];
        if (static_cast<double>(seen) >= want && h.buckets[i] > 0)
            return i + 1 < n ? broker::latency_histogram::bucket_upper_ns(i) : (1ull << i);
    }
    return 1ull << (n - 1);
}

namespace {

double seconds(std::chrono::nanoseconds d) {
    return std::chrono::duration<double>(d).count();
}

void write_shard(json_writer& w, const shard_figures& f) {
    w.begin_object();
    w.field("id", f.shard);
    w.field("connections", f.connections);
    w.field("total_connections", f.total_connections);
    w.field("subscriptions", f.subscriptions);
    w.field("in_msgs", f.in_msgs);
    w.field("out_msgs", f.out_msgs);
    w.field("in_bytes", f.in_bytes);
    w.field("out_bytes", f.out_bytes);
    w.field("slow_consumers", f.slow_consumers);
    w.field("stale_connections", f.stale_connections);
    w.field("ring_records_out", f.ring_records_out);
    w.field("ring_full", f.ring_full);
    w.field("wakeups_sent", f.wakeups_sent);
    w.field("ring_bytes_in_use", f.ring_bytes_in_use);
    w.field("overflow_bytes", f.overflow_bytes);
    w.field("subject_cache_entries", static_cast<std::uint64_t>(f.trie.cache_entries));
    w.field("subject_matches", f.trie.matches);
    w.field("subject_cache_hits", f.trie.cache_hits);
    w.key("publish_to_write").begin_object();
    w.field("samples", f.latency.count);
    w.field("mean_ns", f.latency.count ? f.latency.sum_ns / f.latency.count : 0);
    w.field("p50_le_ns", latency_quantile_upper_ns(f.latency, 0.50));
    w.field("p99_le_ns", latency_quantile_upper_ns(f.latency, 0.99));
    w.field("p999_le_ns", latency_quantile_upper_ns(f.latency, 0.999));
    w.end_object();
    w.end_object();
}

} // namespace

std::string render_varz(const varz_input& in) {
    const shard_figures t = sum_figures(in.shards);
    const broker::broker_config& c = in.cfg;
    json_writer w;
    w.begin_object();
    w.field("server_id", in.id.server_id);
    w.field("server_name", c.server_name.empty() ? in.id.server_id : c.server_name);
    w.field("version", broker::server_version);
    w.field("proto", 1);
    w.field("go", broker::server_go_field);
    w.field("host", in.id.host);
    w.field("port", in.id.port);
    // As nats-server's INFO: no_auth_user lets silent clients in.
    if (c.auth && c.auth->required() && c.auth->no_auth_user().empty())
        w.field("auth_required", true);
    if (c.tls && !c.allow_non_tls) w.field("tls_required", true);
    if (c.tls && c.tls->config().requires_client_cert()) w.field("tls_verify", true);
    w.field("max_connections", c.max_connections);
    if (c.max_subscriptions > 0) w.field("max_subscriptions", c.max_subscriptions);
    // Go marshals time.Duration as integer nanoseconds.
    w.field("ping_interval", static_cast<std::int64_t>(c.ping_interval.count()));
    w.field("ping_max", c.ping_max);
    w.field("http_host", in.id.http_host);
    w.field("http_port", in.id.http_port);
    w.field("http_base_path", "");
    w.field("https_port", 0);
    w.field("auth_timeout", in.id.auth_timeout_s);
    w.field("max_control_line", static_cast<std::uint64_t>(c.max_control_line));
    w.field("max_payload", c.max_payload);
    w.field("max_pending", c.max_pending);
    if (c.cluster.enabled) {
        w.key("cluster").begin_object();
        w.field("name", in.cluster_name);
        w.field("addr", c.cluster.host);
        w.field("cluster_port", in.cluster_port);
        w.field("auth_timeout", std::chrono::duration<double>(c.cluster.auth_timeout).count());
        if (!c.cluster.routes.empty()) {
            w.key("urls").begin_array();
            for (const auto& r : c.cluster.routes) w.value(r.host + ":" + std::to_string(r.port));
            w.end_array();
        }
        w.field("tls_timeout", seconds(c.cluster.tls.timeout));
        if (c.cluster.tls.enabled) w.field("tls_required", true);
        w.end_object();
    } else {
        w.key("cluster").begin_object().end_object();
    }
    if (c.gateway.enabled) {
        w.key("gateway").begin_object();
        w.field("name", c.gateway.name);
        w.field("host", c.gateway.host);
        w.field("port", in.gateway_port);
        w.field("auth_timeout", std::chrono::duration<double>(c.gateway.auth_timeout).count());
        w.field("tls_timeout", seconds(c.gateway.tls.timeout));
        if (c.gateway.tls.enabled) w.field("tls_required", true);
        if (!c.gateway.advertise.empty()) w.field("advertise", c.gateway.advertise);
        w.field("connect_retries", c.gateway.connect_retries);
        if (!c.gateway.gateways.empty()) {
            w.key("gateways").begin_array();
            for (const auto& g : c.gateway.gateways) {
                w.begin_object();
                w.field("name", g.name);
                w.key("urls").begin_array();
                for (const auto& u : g.urls) w.value(u.host + ":" + std::to_string(u.port));
                w.end_array();
                w.end_object();
            }
            w.end_array();
        }
        w.field("reject_unknown", c.gateway.reject_unknown);
        w.end_object();
    } else {
        w.key("gateway").begin_object().end_object();
    }
    for (const char* empty : {"leaf", "mqtt", "websocket", "jetstream"})
        w.key(empty).begin_object().end_object();
    w.field("tls_timeout", c.tls ? seconds(c.tls->config().timeout) : 2.0);
    w.field("write_deadline", static_cast<std::int64_t>(c.write_deadline.count()));
    w.field("start", format_rfc3339_nano(in.start));
    w.field("now", format_rfc3339_nano(in.now));
    w.field("uptime", format_uptime(in.now - in.start));
    w.field("mem", in.mem);
    w.field("cores", in.cores);
    // Go's GOMAXPROCS: how many threads run the server's work at once; for
    // natrix that is the shard count.
    w.field("gomaxprocs", in.id.shards);
    w.field("cpu", in.cpu);
    w.field("connections", t.connections);
    w.field("total_connections", t.total_connections);
    w.field("routes", in.routes);
    w.field("remotes", in.routes);
    if (!in.connect_urls.empty()) {
        w.key("connect_urls").begin_array();
        for (const std::string& u : in.connect_urls) w.value(u);
        w.end_array();
    }
    w.field("leafnodes", 0);
    w.field("in_msgs", t.in_msgs);
    w.field("out_msgs", t.out_msgs);
    w.field("in_bytes", t.in_bytes);
    w.field("out_bytes", t.out_bytes);
    w.field("slow_consumers", t.slow_consumers);
    w.field("subscriptions", t.subscriptions);
    w.key("http_req_stats").begin_object();
    for (const auto& [path, n] : in.http_req_stats) w.field(path, n);
    w.end_object();
    w.field("config_load_time", format_rfc3339_nano(in.config_load_time));

    w.key("natrix").begin_object();
    w.field("version", broker::natrix_version);
    w.field("shards", in.id.shards);
    w.field("idle_strategy", in.id.idle_strategy);
    // Memory: "mem" (resident) against what malloc has handed out and not
    // had back; the rest is freed heap kept for reuse, given back to the OS
    // after a mass teardown (broker/memory_trim.hh).
    if (in.heap.known) {
        w.field("heap_in_use", in.heap.in_use);
        w.field("heap_free", in.heap.free);
    }
    w.field("heap_trims", in.heap_trims.trims);
    w.field("heap_released", in.heap_trims.released_bytes);
    w.field("lame_duck_mode", in.lame_duck);
    w.field("stale_connections", t.stale_connections);
    w.field("latency_sample_every", broker::latency_histogram::sample_every);
    // What the config asked for that natrix does not do (cluster,
    // jetstream, ...), for dashboards; [] when nothing is ignored.
    w.key("ignored_config_keys").begin_array();
    for (const std::string& k : in.ignored_config_keys) w.value(k);
    w.end_array();
    w.key("shard").begin_array();
    for (const shard_figures& f : in.shards) write_shard(w, f);
    w.end_array();
    w.end_object();
    w.end_object();
    return w.take();
}

} // namespace natrix::monitor
