// /varz, /subsz and /metrics rendering from gathered figures, and the
// latency histogram they report.
#include <map>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <natrix/monitor/metrics.hh>
#include <natrix/monitor/subsz.hh>
#include <natrix/monitor/varz.hh>

namespace natrix::monitor {
namespace {

using broker::latency_histogram;

shard_figures figures(unsigned shard, std::uint64_t base) {
    shard_figures f;
    f.shard = shard;
    f.in_msgs = base + 1;
    f.in_bytes = base + 2;
    f.out_msgs = base + 3;
    f.out_bytes = base + 4;
    f.connections = base + 5;
    f.total_connections = base + 6;
    f.subscriptions = base + 7;
    f.slow_consumers = base + 8;
    f.ring_bytes_in_use = base + 9;
    f.overflow_bytes = base + 10;
    f.ring_full = base + 11;
    f.wakeups_sent = base + 12;
    f.latency.buckets[10] = 3; // [1024, 2048) ns
    f.latency.buckets[12] = 1; // [4096, 8192) ns
    f.latency.count = 4;
    f.latency.sum_ns = 3 * 1500 + 5000;
    return f;
}

TEST(latency_histogram, buckets_are_log2_nanoseconds) {
    EXPECT_EQ(latency_histogram::bucket_of(0), 0u);
    EXPECT_EQ(latency_histogram::bucket_of(1), 0u);
    EXPECT_EQ(latency_histogram::bucket_of(2), 1u);
    EXPECT_EQ(latency_histogram::bucket_of(1023), 9u);
    EXPECT_EQ(latency_histogram::bucket_of(1024), 10u);
    EXPECT_EQ(latency_histogram::bucket_of(~0ull), latency_histogram::bucket_count - 1);
    EXPECT_EQ(latency_histogram::bucket_upper_ns(10), 2048u);
    latency_histogram h;
    h.record(1500);
    h.record(1500);
    h.record(100000);
    const auto s = h.read();
    EXPECT_EQ(s.count, 3u);
    EXPECT_EQ(s.sum_ns, 103000u);
    EXPECT_EQ(s.buckets[10], 2u);
    EXPECT_EQ(s.buckets[16], 1u);
}

TEST(latency_histogram, quantile_upper_bounds) {
    const shard_figures f = figures(0, 0);
    EXPECT_EQ(latency_quantile_upper_ns(f.latency, 0.5), 2048u);
    EXPECT_EQ(latency_quantile_upper_ns(f.latency, 0.75), 2048u);
    EXPECT_EQ(latency_quantile_upper_ns(f.latency, 0.99), 8192u);
    EXPECT_EQ(latency_quantile_upper_ns(latency_histogram::snapshot{}, 0.5), 0u);
}

// The fields nats-server 2.9.10's /varz has for a server without TLS,
// clustering or a system account, in its order.
const char* const nats_varz_fields[] = {
    "server_id",
    "server_name",
    "version",
    "proto",
    "go",
    "host",
    "port",
    "max_connections",
    "ping_interval",
    "ping_max",
    "http_host",
    "http_port",
    "http_base_path",
    "https_port",
    "auth_timeout",
    "max_control_line",
    "max_payload",
    "max_pending",
    "cluster",
    "gateway",
    "leaf",
    "mqtt",
    "websocket",
    "jetstream",
    "tls_timeout",
    "write_deadline",
    "start",
    "now",
    "uptime",
    "mem",
    "cores",
    "gomaxprocs",
    "cpu",
    "connections",
    "total_connections",
    "routes",
    "remotes",
    "leafnodes",
    "in_msgs",
    "out_msgs",
    "in_bytes",
    "out_bytes",
    "slow_consumers",
    "subscriptions",
    "http_req_stats",
    "config_load_time",
};

TEST(varz_render, fields_order_and_sums) {
    varz_input in;
    in.id.server_id = "NID";
    in.id.host = "127.0.0.1";
    in.id.port = 4222;
    in.id.http_host = "127.0.0.1";
    in.id.http_port = 8222;
    in.id.shards = 2;
    in.id.idle_strategy = "backoff";
    in.cfg.max_payload = 2048;
    in.cfg.ping_interval = std::chrono::minutes(2);
    in.cfg.write_deadline = std::chrono::seconds(10);
    in.start = std::chrono::system_clock::now() - std::chrono::seconds(125);
    in.now = std::chrono::system_clock::now();
    in.config_load_time = in.start;
    in.shards = {figures(0, 0), figures(1, 100)};
    in.mem = 1 << 20;
    in.cores = 2;
    in.cpu = 1.5;
    in.http_req_stats = {{"/varz", 3}, {"/connz", 1}};
    const std::string s = render_varz(in);
    simdjson::dom::parser p;
    simdjson::dom::element d;
    ASSERT_EQ(p.parse(s).get(d), simdjson::SUCCESS) << s;
    simdjson::dom::object obj = d;
    std::vector<std::string_view> keys;
    for (auto [k, v] : obj) keys.push_back(k);
    std::size_t at = 0;
    for (const char* f : nats_varz_fields) {
        auto it = std::find(keys.begin(), keys.end(), f);
        ASSERT_NE(it, keys.end()) << f;
        const std::size_t pos = static_cast<std::size_t>(it - keys.begin());
        EXPECT_GE(pos, at) << f << " out of nats-server's order";
        at = pos;
    }
    EXPECT_EQ(std::string_view(d["server_name"]), "NID"); // defaults to the id
    EXPECT_EQ(std::int64_t(d["ping_interval"]), 120000000000);
    EXPECT_EQ(std::int64_t(d["write_deadline"]), 10000000000);
    EXPECT_EQ(std::int64_t(d["max_payload"]), 2048);
    EXPECT_EQ(d["max_subscriptions"].error(), simdjson::NO_SUCH_FIELD); // omitempty
    EXPECT_EQ(std::string_view(d["uptime"]), "2m5s");
    EXPECT_EQ(std::uint64_t(d["in_msgs"]), 1u + 101u);
    EXPECT_EQ(std::uint64_t(d["out_bytes"]), 4u + 104u);
    EXPECT_EQ(std::uint64_t(d["connections"]), 5u + 105u);
    EXPECT_EQ(std::uint64_t(d["subscriptions"]), 7u + 107u);
    EXPECT_EQ(std::uint64_t(d["slow_consumers"]), 8u + 108u);
    EXPECT_EQ(double(d["cpu"]), 1.5);
    EXPECT_EQ(std::uint64_t(d["http_req_stats"]["/varz"]), 3u);
    simdjson::dom::element nx = d["natrix"];
    EXPECT_EQ(std::uint64_t(nx["shards"]), 2u);
    simdjson::dom::element s1 = nx["shard"].at(1);
    EXPECT_EQ(std::uint64_t(s1["id"]), 1u);
    EXPECT_EQ(std::uint64_t(s1["ring_full"]), 111u);
    EXPECT_EQ(std::uint64_t(s1["publish_to_write"]["samples"]), 4u);
    EXPECT_EQ(std::uint64_t(s1["publish_to_write"]["p50_le_ns"]), 2048u);
    in.cfg.max_subscriptions = 10;
    in.cfg.server_name = "named";
    ASSERT_EQ(p.parse(render_varz(in)).get(d), simdjson::SUCCESS);
    EXPECT_EQ(std::int64_t(d["max_subscriptions"]), 10);
    EXPECT_EQ(std::string_view(d["server_name"]), "named");
}

TEST(varz_render, heap_against_resident) {
    varz_input in;
    in.id.server_id = "NID";
    in.mem = 900u << 20;
    in.heap = {true, 300u << 20, 500u << 20, 16u << 20};
    in.heap_trims = {1, 2, 700u << 20, 400'000'000};
    simdjson::dom::parser p;
    simdjson::dom::element d;
    std::string s = render_varz(in);
    ASSERT_EQ(p.parse(s).get(d), simdjson::SUCCESS) << s;
    EXPECT_EQ(std::uint64_t(d["mem"]), 900u << 20);
    simdjson::dom::element nx = d["natrix"];
    EXPECT_EQ(std::uint64_t(nx["heap_in_use"]), 300u << 20);
    EXPECT_EQ(std::uint64_t(nx["heap_free"]), 500u << 20);
    EXPECT_EQ(std::uint64_t(nx["heap_trims"]), 2u);
    EXPECT_EQ(std::uint64_t(nx["heap_released"]), 700u << 20);
    // Not glibc's malloc (sanitizers): no heap figures rather than zeros.
    in.heap = {};
    s = render_varz(in);
    ASSERT_EQ(p.parse(s).get(d), simdjson::SUCCESS) << s;
    EXPECT_EQ(d["natrix"]["heap_in_use"].error(), simdjson::NO_SUCH_FIELD);
    EXPECT_EQ(d["natrix"]["heap_free"].error(), simdjson::NO_SUCH_FIELD);
    EXPECT_EQ(std::uint64_t(d["natrix"]["heap_trims"]), 2u);
}

TEST(subsz_options, parse) {
    query_params q = query_params::parse("subs=1&offset=1&limit=2&test=foo.bar");
    subsz_options o;
    std::string err;
    ASSERT_TRUE(parse_subsz_options(q, &o, &err)) << err;
    EXPECT_TRUE(o.subs);
    EXPECT_EQ(o.offset, 1u);
    EXPECT_EQ(o.limit, 2u);
    EXPECT_EQ(o.test, "foo.bar");
    q = query_params::parse("test=foo.*");
    EXPECT_FALSE(parse_subsz_options(q, &o, &err));
    EXPECT_EQ(err, "invalid test subject, must be valid publish subject: foo.*");
}

TEST(subsz_render, stats_summed_and_list_paged) {
    shard_subscriptions a, b;
    a.stats.subscriptions = 2;
    a.stats.matches = 8;
    a.stats.cache_hits = 6;
    a.stats.cache_entries = 1;
    a.stats.inserts = 3;
    a.stats.removes = 1;
    a.subs = {{"foo", "", "1", 5, 0, 3, "$G"}, {"bar", "q", "2", 1, 0, 3, "$G"}};
    b.stats.subscriptions = 1;
    b.stats.matches = 2;
    b.stats.cache_hits = 0;
    b.subs = {{"foo.*", "", "1", 0, 0, 2, "$G"}};
    subsz_options o;
    std::string s = render_subsz("NID", std::chrono::system_clock::now(), o, {a, b});
    simdjson::dom::parser p;
    simdjson::dom::element d;
    ASSERT_EQ(p.parse(s).get(d), simdjson::SUCCESS) << s;
    EXPECT_EQ(std::uint64_t(d["num_subscriptions"]), 3u);
    EXPECT_EQ(std::uint64_t(d["num_matches"]), 10u);
    EXPECT_EQ(double(d["cache_hit_rate"]), 0.6);
    // Without subs=1 nats-server answers the statistics only.
    EXPECT_EQ(d["server_id"].error(), simdjson::NO_SUCH_FIELD);
    EXPECT_EQ(d["subscriptions_list"].error(), simdjson::NO_SUCH_FIELD);
    o.subs = true;
    o.offset = 1;
    o.limit = 1;
    s = render_subsz("NID", std::chrono::system_clock::now(), o, {a, b});
    ASSERT_EQ(p.parse(s).get(d), simdjson::SUCCESS) << s;
    EXPECT_EQ(std::string_view(d["server_id"]), "NID");
    // nats-server's "total" is the size of the page (sz.Total = len(sz.Subs)).
    EXPECT_EQ(std::uint64_t(d["total"]), 1u);
    EXPECT_EQ(std::uint64_t(d["offset"]), 1u);
    EXPECT_EQ(std::uint64_t(d["limit"]), 1u);
    simdjson::dom::array list = d["subscriptions_list"];
    ASSERT_EQ(list.size(), 1u);
    // Ordered by cid then sid: (2,"1"), (3,"1"), (3,"2") -> offset 1 is cid 3 sid 1.
    EXPECT_EQ(std::string_view(list.at(0)["subject"]), "foo");
    EXPECT_EQ(std::string_view(list.at(0)["account"]), "$G");
    EXPECT_EQ(std::uint64_t(list.at(0)["msgs"]), 5u);
    o.limit = 1024;
    s = render_subsz("NID", std::chrono::system_clock::now(), o, {a, b});
    ASSERT_EQ(p.parse(s).get(d), simdjson::SUCCESS) << s;
    EXPECT_EQ(std::uint64_t(d["total"]), 2u);
    // An empty page (offset past the end): the statistics alone, as
    // nats-server marshals only its SublistStats then.
    o.offset = 3;
    s = render_subsz("NID", std::chrono::system_clock::now(), o, {a, b});
    ASSERT_EQ(p.parse(s).get(d), simdjson::SUCCESS) << s;
    EXPECT_EQ(std::uint64_t(d["num_subscriptions"]), 3u);
    for (const char* f : {"server_id", "now", "total", "offset", "limit", "subscriptions_list"})
        EXPECT_EQ(d[f].error(), simdjson::NO_SUCH_FIELD) << f;
}

TEST(subsz_options, negative_paging_reads_as_the_defaults) {
    const query_params q = query_params::parse("subs=1&offset=-1&limit=-1");
    subsz_options o;
    std::string err;
    ASSERT_TRUE(parse_subsz_options(q, &o, &err)) << err;
    EXPECT_EQ(o.offset, 0u);
    EXPECT_EQ(o.limit, 1024u);
    EXPECT_FALSE(parse_subsz_options(query_params::parse("subs=x&limit=y"), &o, &err));
    EXPECT_EQ(
        err, "Error decoding boolean for 'subs': strconv.ParseBool: parsing \"x\": invalid syntax");
}

// Parses Prometheus text into name{labels} -> value, checking the syntax.
std::map<std::string, std::string> parse_prometheus(const std::string& text) {
    std::map<std::string, std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        EXPECT_NE(nl, std::string::npos) << "last line lacks a newline";
        if (nl == std::string::npos) break;
        const std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
        const std::size_t sp = line.rfind(' ');
        EXPECT_NE(sp, std::string::npos) << line;
        out[line.substr(0, sp)] = line.substr(sp + 1);
    }
    return out;
}

TEST(metrics_render, per_shard_series_and_histogram) {
    metrics_input in;
    in.server_id = "NID";
    in.server_name = "a\"b";
    in.start = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
    in.shards = {figures(0, 0), figures(1, 100)};
    in.resident_bytes = 4096;
    in.cpu_time = std::chrono::milliseconds(1500);
    const std::string text = render_metrics(in);
    const auto m = parse_prometheus(text);
    EXPECT_EQ(m.at("natrix_in_msgs_total{shard=\"0\"}"), "1");
    EXPECT_EQ(m.at("natrix_in_msgs_total{shard=\"1\"}"), "101");
    EXPECT_EQ(m.at("natrix_out_bytes_total{shard=\"1\"}"), "104");
    EXPECT_EQ(m.at("natrix_connections{shard=\"1\"}"), "105");
    EXPECT_EQ(m.at("natrix_subscriptions{shard=\"0\"}"), "7");
    EXPECT_EQ(m.at("natrix_slow_consumers_total{shard=\"0\"}"), "8");
    EXPECT_EQ(m.at("natrix_ring_bytes_in_use{shard=\"1\"}"), "109");
    EXPECT_EQ(m.at("natrix_ring_overflow_bytes{shard=\"0\"}"), "10");
    EXPECT_EQ(m.at("natrix_ring_full_total{shard=\"1\"}"), "111");
    EXPECT_EQ(m.at("natrix_wakeups_sent_total{shard=\"0\"}"), "12");
    EXPECT_EQ(m.at("process_resident_memory_bytes"), "4096");
    EXPECT_EQ(m.at("process_cpu_seconds_total"), "1.5");
    EXPECT_EQ(m.at("natrix_start_time_seconds"), "1700000000");
    EXPECT_NE(text.find("server_name=\"a\\\"b\""), std::string::npos);
    // Histogram: cumulative buckets in seconds, +Inf, sum and count.
    EXPECT_EQ(m.at("natrix_publish_to_write_seconds_bucket{shard=\"0\",le=\"1.024e-06\"}"), "0");
    EXPECT_EQ(m.at("natrix_publish_to_write_seconds_bucket{shard=\"0\",le=\"2.048e-06\"}"), "3");
    EXPECT_EQ(m.at("natrix_publish_to_write_seconds_bucket{shard=\"0\",le=\"4.096e-06\"}"), "3");
    EXPECT_EQ(m.at("natrix_publish_to_write_seconds_bucket{shard=\"0\",le=\"8.192e-06\"}"), "4");
    EXPECT_EQ(m.at("natrix_publish_to_write_seconds_bucket{shard=\"1\",le=\"+Inf\"}"), "4");
    EXPECT_EQ(m.at("natrix_publish_to_write_seconds_count{shard=\"1\"}"), "4");
    EXPECT_EQ(m.at("natrix_publish_to_write_seconds_sum{shard=\"0\"}"), "0.0000095");
    EXPECT_NE(text.find("# TYPE natrix_publish_to_write_seconds histogram\n"), std::string::npos);
}

TEST(metrics_render, label_escaping) {
    EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

} // namespace
} // namespace natrix::monitor
