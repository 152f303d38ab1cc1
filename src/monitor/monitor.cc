#include <algorithm>

#include <natrix/broker/gateway_manager.hh>
#include <natrix/monitor/connz.hh>
#include <natrix/monitor/gatewayz.hh>
#include <natrix/monitor/go_format.hh>
#include <natrix/monitor/json_writer.hh>
#include <natrix/monitor/metrics.hh>
#include <natrix/monitor/monitor.hh>
#include <natrix/monitor/routez.hh>
#include <natrix/monitor/subsz.hh>

namespace natrix::monitor {

namespace {

const char* idle_name(broker::idle_strategy s) {
    switch (s) {
    case broker::idle_strategy::spin:
        return "spin";
    case broker::idle_strategy::sleep:
        return "sleep";
    case broker::idle_strategy::backoff:
        return "backoff";
    }
    return "backoff";
}

std::int64_t to_ns(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_ns(std::int64_t ns) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(ns)));
}

http_response unavailable() {
    return http_response::text(503, "a shard did not answer in time (server busy or stopping)\n");
}

template <typename R>
bool all_answered(const std::vector<std::optional<R>>& v) {
    for (const auto& r : v)
        if (!r) return false;
    return true;
}

// The endpoint list of the / page, in nats-server's order.
constexpr std::pair<const char*, const char*> index_links[] = {
    {"varz", "General"},
    {"connz", "Connections"},
    {"subsz", "Subscriptions"},
    {"routez", "Routes"},
    {"gatewayz", "Gateways"},
    {"healthz", "Health Probe"},
    {"metrics", "Prometheus Metrics"},
};

} // namespace

monitor::monitor(broker::server& srv, monitor_settings s)
    : srv_(srv)
    , settings_(std::move(s))
    , start_(srv.start_time())
    , config_load_ns_(to_ns(srv.start_time()))
    , http_({settings_.host, settings_.port}, [this](const http_request& r) { return handle(r); })
    , cpu_(std::chrono::steady_clock::now() -
           std::chrono::duration_cast<std::chrono::steady_clock::duration>(
               std::chrono::system_clock::now() - srv.start_time())) {
    const broker::broker_config& c = srv.config();
    id_.server_id = c.server_id;
    id_.host = c.host;
    id_.auth_timeout_s = settings_.auth_timeout_s;
    id_.idle_strategy = idle_name(c.idle);
    wall_offset_ = std::chrono::system_clock::now().time_since_epoch() -
                   std::chrono::duration_cast<std::chrono::system_clock::duration>(
                       std::chrono::steady_clock::now().time_since_epoch());
}

monitor::~monitor() {
    stop();
}

bool monitor::listen(std::string* error) {
    if (!http_.listen(error)) return false;
    id_.http_host = settings_.host;
    id_.http_port = http_.port();
    return true;
}

void monitor::start() {
    // The server has started: its port and shard count are fixed now.
    id_.port = srv_.port();
    id_.shards = srv_.shard_count();
    http_.start();
}

void monitor::stop() {
    http_.stop();
}

std::string monitor::address() const {
    const std::string& h = settings_.host;
    return (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + std::to_string(port());
}

void monitor::config_reloaded(std::vector<std::string> ignored_config_keys) {
    {
        std::lock_guard<std::mutex> lock(ignored_mu_);
        settings_.ignored_config_keys = std::move(ignored_config_keys);
    }
    config_load_ns_.store(to_ns(std::chrono::system_clock::now()), std::memory_order_relaxed);
}

http_response monitor::handle(const http_request& req) {
    const query_params q = query_params::parse(req.query);
    if (srv_.stopping()) return http_response::text(503, "server is shutting down\n");
    const std::string& p = req.path;
    static constexpr std::string_view known[] = {"/varz",           "/connz",   "/subsz",
                                                 "/subscriptionsz", "/routez",  "/gatewayz",
                                                 "/healthz",        "/metrics", "/"};
    if (std::find(std::begin(known), std::end(known), p) == std::end(known))
        return http_response::text(404, "404 page not found\n");
    ++req_stats_[p]; // before answering: /varz counts itself, as in nats-server
    http_response r;
    bool json = true;
    if (p == "/varz")
        r = varz();
    else if (p == "/connz")
        r = connz(q);
    else if (p == "/subsz" || p == "/subscriptionsz")
        r = subsz(q);
    else if (p == "/routez")
        r = routez();
    else if (p == "/gatewayz")
        r = gatewayz();
    else if (p == "/healthz")
        r = http_response::json("{\"status\":\"ok\"}");
    else if (p == "/metrics")
        r = metrics(), json = false;
    else
        r = root(), json = false;
    // JSONP, as nats-server: ?callback=fn wraps the answer. Only a plain
    // JavaScript name is echoed back, so the parameter cannot inject script.
    if (json && r.status == 200) {
        if (auto cb = q.get("callback"); cb && !cb->empty()) {
            const bool plain = std::all_of(cb->begin(), cb->end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '$' || c == '.';
            });
            if (!plain) return http_response::text(400, "invalid callback name");
            r.body = std::string(*cb) + "(" + r.body + ")";
            r.content_type = "application/javascript";
        }
    }
    return r;
}

bool monitor::gather(std::vector<shard_figures>* figures, broker::broker_config* cfg) {
    struct answer {
        shard_figures f;
        std::optional<broker::broker_config> cfg;
    };
    auto got = srv_.collect<answer>(
        [](const broker::shard_view& s) {
            answer a{read_shard_figures(s), std::nullopt};
            if (s.id() == 0) a.cfg = s.config();
            return a;
        },
        settings_.collect_timeout);
    if (!all_answered(got)) return false;
    figures->clear();
    for (auto& a : got) {
        if (a->cfg && cfg) *cfg = std::move(*a->cfg);
        figures->push_back(std::move(a->f));
    }
    return true;
}

http_response monitor::varz() {
    varz_input in;
    in.id = id_;
    if (!gather(&in.shards, &in.cfg)) return unavailable();
    in.start = start_;
    in.now = std::chrono::system_clock::now();
    in.config_load_time = from_ns(config_load_ns_.load(std::memory_order_relaxed));
    in.mem = resident_bytes();
    in.heap = broker::read_heap_usage();
    in.heap_trims = broker::read_heap_trim_totals();
    in.cores = usable_cpus();
    in.cpu = cpu_.percent();
    in.http_req_stats = req_stats_;
    in.lame_duck = srv_.in_lame_duck();
    if (const broker::cluster_manager* c = srv_.cluster()) {
        in.cluster_port = c->port();
        in.cluster_name = c->name();
        in.routes = c->routes().size();
        in.connect_urls = c->client_urls();
    }
    if (const broker::gateway_manager* g = srv_.gateways()) in.gateway_port = g->port();
    {
        std::lock_guard<std::mutex> lock(ignored_mu_);
        in.ignored_config_keys = settings_.ignored_config_keys;
    }
    return http_response::json(render_varz(in));
}

http_response monitor::connz(const query_params& q) {
    connz_options o;
    std::string err;
    if (!parse_connz_options(q, &o, &err)) return http_response::text(400, err);
    // Captured by value: a task a slow shard runs after the timeout must not
    // reach into this stack frame.
    auto got = srv_.collect<shard_connections>(
        [o](const broker::shard_view& s) { return read_connections(s, o); },
        settings_.collect_timeout);
    if (!all_answered(got)) return unavailable();
    std::vector<shard_connections> shards;
    shards.reserve(got.size());
    for (auto& g : got) shards.push_back(std::move(*g));
    const auto now = std::chrono::system_clock::now();
    const auto steady_now = std::chrono::steady_clock::now();
    const connz_page page = merge_connections(std::move(shards), o);
    return http_response::json(render_connz(id_.server_id, now, steady_now, wall_offset_, o, page));
}

http_response monitor::subsz(const query_params& q) {
    subsz_options o;
    std::string err;
    if (!parse_subsz_options(q, &o, &err)) return http_response::text(400, err);
    auto got = srv_.collect<shard_subscriptions>(
        [o](const broker::shard_view& s) { return read_subscriptions(s, o); },
        settings_.collect_timeout);
    if (!all_answered(got)) return unavailable();
    std::vector<shard_subscriptions> shards;
    for (auto& g : got) shards.push_back(std::move(*g));
    return http_response::json(
        render_subsz(id_.server_id, std::chrono::system_clock::now(), o, std::move(shards)));
}

http_response monitor::routez() {
    std::vector<broker::route_view> registry;
    if (const broker::cluster_manager* c = srv_.cluster()) registry = c->routes();
    auto got = srv_.collect<std::vector<broker::route_info_view>>(
        [](const broker::shard_view& s) { return s.routes(); }, settings_.collect_timeout);
    if (!all_answered(got)) return unavailable();
    std::vector<broker::route_info_view> held;
    for (auto& g : got)
        for (auto& r : *g)
            if (r.kind == 'r') held.push_back(std::move(r));
    return http_response::json(render_routez(id_.server_id, std::chrono::system_clock::now(),
                                             std::chrono::steady_clock::now(), wall_offset_,
                                             registry, std::move(held)));
}

http_response monitor::gatewayz() {
    gatewayz_input in;
    in.server_id = id_.server_id;
    if (const broker::gateway_manager* g = srv_.gateways()) {
        in.enabled = true;
        in.name = g->name();
        in.port = g->port();
        const std::string url = g->own_url();
        in.host = url.substr(0, url.rfind(':'));
        in.registry = g->gateways();
        auto got = srv_.collect<std::vector<broker::route_info_view>>(
            [](const broker::shard_view& s) { return s.routes(); }, settings_.collect_timeout);
        if (!all_answered(got)) return unavailable();
        for (auto& v : got)
            for (auto& r : *v)
                if (r.kind != 'r') in.held.push_back(std::move(r));
    }
    return http_response::json(render_gatewayz(in, std::chrono::system_clock::now(),
                                               std::chrono::steady_clock::now(), wall_offset_));
}

http_response monitor::metrics() {
    metrics_input in;
    broker::broker_config cfg;
    if (!gather(&in.shards, &cfg)) return unavailable();
    in.server_id = id_.server_id;
    in.server_name = cfg.server_name.empty() ? id_.server_id : cfg.server_name;
    in.start = start_;
    in.resident_bytes = resident_bytes();
    in.cpu_time = process_cpu_time();
    in.lame_duck = srv_.in_lame_duck();
    if (srv_.cluster()) {
        auto got = srv_.collect<std::vector<broker::route_info_view>>(
            [](const broker::shard_view& s) { return s.routes(); }, settings_.collect_timeout);
        for (auto& g : got)
            if (g)
                for (auto& r : *g)
                    if (r.kind == 'r') in.routes.push_back(std::move(r));
    }
    http_response r;
    r.content_type = std::string(metrics_content_type);
    r.body = render_metrics(in);
    return r;
}

http_response monitor::root() {
    std::string b =
        "<html lang=\"en\">\n  <head><title>natrix monitoring</title></head>\n  <body>\n"
        "    <h1>natrix</h1>\n    <p>natrix " +
        std::string(broker::natrix_version) + " (nats-server protocol " + broker::server_version +
        ")</p>\n";
    for (const auto& [path, label] : index_links)
        b += "    <a href=./" + std::string(path) + ">" + label + "</a><br/>\n";
    b += "  </body>\n</html>\n";
    http_response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::move(b);
    return r;
}

} // namespace natrix::monitor
