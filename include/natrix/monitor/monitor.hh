#pragma once
// The monitoring endpoints of one natrix process (/varz, /connz, /subsz,
// /routez, /gatewayz, /healthz, /metrics and the / index), served by an
// http_server on its own thread, off the hot path.
//
// Threads: constructed, listen()ed, start()ed, stop()ped and told about
// reloads by the control (main) thread. Requests are handled on the HTTP
// thread, which reads shard state only through server::collect control
// tasks (each shard answers for itself on its own thread) and the server's
// atomic/immutable accessors; it never touches a shard directly.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <natrix/broker/server.hh>
#include <natrix/monitor/http_server.hh>
#include <natrix/monitor/process_usage.hh>
#include <natrix/monitor/query_params.hh>
#include <natrix/monitor/varz.hh>

namespace natrix::monitor {

struct monitor_settings {
    std::string host = "0.0.0.0";
    int port = 0; // 0: any free port (nats-server's http_port -1)
    double auth_timeout_s = 2;
    // Config keys and flags natrix accepted but ignores
    // (server_options::ignored_keys): /varz's natrix.ignored_config_keys.
    std::vector<std::string> ignored_config_keys;
    // How long a request waits for the shards before answering 503.
    std::chrono::milliseconds collect_timeout{2000};
};

class monitor {
public:
    // `srv` must outlive the monitor. Reads srv.config() once, here.
    monitor(broker::server& srv, monitor_settings s);
    ~monitor();
    monitor(const monitor&) = delete;
    monitor& operator=(const monitor&) = delete;

    // Binds the listener (before the server starts, so the port shows up in
    // the log first, as with nats-server).
    bool listen(std::string* error);
    // Serves requests (after server::start()).
    void start();
    void stop();
    int port() const noexcept { return http_.port(); }
    const std::string& host() const noexcept { return settings_.host; }
    // "host:port", with brackets around an IPv6 host.
    std::string address() const;

    // Control thread, after a successful server::reload: /varz's
    // config_load_time, and the ignored keys of the config now in force.
    void config_reloaded(std::vector<std::string> ignored_config_keys);

    // One request; on the HTTP thread (public for tests).
    http_response handle(const http_request& req);

private:
    http_response varz();
    http_response connz(const query_params& q);
    http_response subsz(const query_params& q);
    http_response routez();
    http_response gatewayz();
    http_response metrics();
    http_response root();
    bool gather(std::vector<shard_figures>* figures, broker::broker_config* cfg);

    broker::server& srv_;
    monitor_settings settings_;
    server_identity id_;
    std::chrono::system_clock::time_point start_;
    std::chrono::system_clock::duration wall_offset_{}; // system minus steady clock
    std::atomic<std::int64_t> config_load_ns_;
    mutable std::mutex ignored_mu_; // ignored_config_keys: control thread writes, HTTP reads
    http_server http_;
    // HTTP thread only.
    std::map<std::string, std::uint64_t> req_stats_;
    cpu_meter cpu_;
};

} // namespace natrix::monitor
