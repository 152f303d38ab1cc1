// natrix entry point: options, logging, the broker's shards, and signals.
// The main thread is the control thread: it starts the shards, then waits
// for signals; it never touches shard state.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

#include <unistd.h>

#include <natrix/broker/server.hh>
#include <natrix/config/cli.hh>
#include <natrix/host_check/host_check.hh>
#include <natrix/monitor/monitor.hh>
#include <natrix/util/log.hh>
#include <natrix/util/sd_notify.hh>

namespace {

// The authenticator for the options' security settings; null when clients
// need not authenticate. Errors (a bad NKey checksum...) go to *errors.
std::shared_ptr<const natrix::auth::authenticator>
make_authenticator(const natrix::config::server_options& o, std::vector<std::string>* errors) {
    auto auth = std::make_shared<const natrix::auth::authenticator>(o.security, errors);
    return auth->required() ? auth : nullptr;
}

// The client TLS context (certificates read now); null without TLS, or with
// the reason in *why when a file is wrong.
std::shared_ptr<const natrix::tls::tls_context> make_tls(const natrix::config::server_options& o,
                                                         std::string* why) {
    if (!o.tls.enabled) return nullptr;
    return natrix::tls::tls_context::load(o.tls, why);
}

natrix::broker::broker_config
to_broker_config(const natrix::config::server_options& o,
                 std::shared_ptr<const natrix::auth::authenticator> auth,
                 std::shared_ptr<const natrix::tls::tls_context> tls) {
    natrix::broker::broker_config b;
    b.host = o.host;
    b.port = o.port;
    b.server_name = o.server_name;
    b.max_payload = o.max_payload;
    b.max_pending = o.max_pending;
    b.max_connections = o.max_connections;
    b.max_subscriptions = o.max_subscriptions;
    b.max_control_line = static_cast<std::uint32_t>(o.max_control_line);
    b.ping_interval = o.ping_interval;
    b.ping_max = o.ping_max;
    b.write_deadline = o.write_deadline;
    b.slow_consumer = o.natrix.slow_consumer == "evict"
                          ? natrix::broker::slow_consumer_policy::evict
                          : natrix::broker::slow_consumer_policy::throttle;
    b.stall_timeout = o.natrix.stall_timeout;
    b.shards = o.natrix.shards;
    b.cpus = o.natrix.cpus;
    b.idle = o.natrix.idle_strategy == "spin"    ? natrix::broker::idle_strategy::spin
             : o.natrix.idle_strategy == "sleep" ? natrix::broker::idle_strategy::sleep
                                                 : natrix::broker::idle_strategy::backoff;
    b.spin = std::chrono::microseconds(o.natrix.spin_us);
    b.ring_bytes = o.natrix.ring_capacity;
    b.recv_buffer_size = o.natrix.recv_buffer_size;
    b.recv_buffer_count = o.natrix.recv_buffer_count;
    b.io = o.natrix.io_backend == "uring"   ? natrix::broker::io_mode::uring
           : o.natrix.io_backend == "epoll" ? natrix::broker::io_mode::epoll
                                            : natrix::broker::io_mode::automatic;
    b.auth = std::move(auth);
    b.auth_timeout = o.auth_timeout;
    b.client_advertise = o.client_advertise;
    b.cluster = o.cluster;
    b.gateway = o.gateway;
    b.tls = std::move(tls);
    b.allow_non_tls = o.allow_non_tls;
    return b;
}

} // namespace

int main(int argc, char** argv) {
    natrix::config::load_result r = natrix::config::load_server_options(argc, argv);
    if (!r.ok()) {
        std::fprintf(stderr, "natrix: %s\n", r.error.c_str());
        if (r.usage_error) std::fprintf(stderr, "%s", natrix::config::usage_text().c_str());
        return r.usage_error ? 2 : 1;
    }
    switch (r.action) {
    case natrix::config::cli_action::help:
        std::fputs(natrix::config::usage_text().c_str(), stdout);
        return 0;
    case natrix::config::cli_action::version:
        std::printf("natrix version %s (nats-server protocol %s)\n", natrix::broker::natrix_version,
                    natrix::broker::server_version);
        return 0;
    case natrix::config::cli_action::test_config: {
        for (const auto& w : r.warnings)
            std::fprintf(stderr, "natrix: warning: %s\n", w.text.c_str());
        std::string tls_error;
        if (r.options.tls.enabled && !make_tls(r.options, &tls_error)) {
            std::fprintf(stderr, "natrix: %s\n", tls_error.c_str());
            return 1;
        }
        std::printf("natrix: configuration %s is valid\n",
                    r.options.config_file.empty() ? "(built-in)" : r.options.config_file.c_str());
        return 0;
    }
    case natrix::config::cli_action::check_host: {
        for (const auto& w : r.warnings)
            std::fprintf(stderr, "natrix: warning: %s\n", w.text.c_str());
        namespace hc = natrix::host_check;
        // NATRIX_HOST_ROOT: a fake /proc and /sys tree (tests).
        const char* root = std::getenv("NATRIX_HOST_ROOT");
        const hc::host_files host(root && *root ? root : "/");
        const auto findings =
            hc::check_host(host, hc::probe_live_facts(), hc::settings_from(r.options));
        const std::string out = r.json ? hc::format_json(findings, r.options.config_file)
                                       : hc::format_text(findings, r.options.config_file);
        std::fputs(out.c_str(), stdout);
        return hc::worst(findings) == hc::severity::fail ? 1 : 0;
    }
    case natrix::config::cli_action::run:
        break;
    }

    const auto& o = r.options;
    natrix::util::log_settings ls;
    ls.debug = o.debug;
    ls.trace = o.trace;
    ls.max_traced_msg_len = o.max_traced_msg_len;
    ls.logtime = o.logtime;
    ls.file = o.log_file;
    std::string err;
    if (!natrix::util::log_configure(ls, &err)) {
        std::fprintf(stderr, "natrix: %s\n", err.c_str());
        return 1;
    }
    for (const auto& w : r.warnings) LOG_WRN("%s", w.text.c_str());
    LOG_INF("Starting natrix %s (nats-server protocol %s)", natrix::broker::natrix_version,
            natrix::broker::server_version);
    LOG_INF("Using configuration file: %s",
            o.config_file.empty() ? "(built-in default)" : o.config_file.c_str());
    if (!o.pid_file.empty()) {
        std::ofstream pf(o.pid_file);
        if (!pf) {
            LOG_ERR("cannot write pid file '%s'", o.pid_file.c_str());
            return 1;
        }
        pf << ::getpid();
    }
    // Signals are taken synchronously by this thread; shard threads inherit
    // the blocked mask and never see them.
    sigset_t sigs;
    sigemptyset(&sigs);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&sigs, s);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    std::vector<std::string> auth_errors;
    std::shared_ptr<const natrix::auth::authenticator> auth = make_authenticator(o, &auth_errors);
    if (!auth_errors.empty()) {
        for (const auto& e : auth_errors) std::fprintf(stderr, "natrix: %s\n", e.c_str());
        return 1;
    }
    natrix::config::security_options security = o.security;
    std::string tls_error;
    std::shared_ptr<const natrix::tls::tls_context> tls = make_tls(o, &tls_error);
    if (o.tls.enabled && !tls) {
        std::fprintf(stderr, "natrix: %s\n", tls_error.c_str());
        return 1;
    }
    natrix::broker::server srv(to_broker_config(o, auth, tls));
    auto ldm_end = std::chrono::steady_clock::time_point::max();
    auto ldm_close_from = ldm_end;
    // Monitoring binds first so that its log line comes before the client
    // listener's, as with nats-server; it serves once the shards run.
    std::unique_ptr<natrix::monitor::monitor> mon;
    if (o.http_port != 0) {
        natrix::monitor::monitor_settings ms;
        ms.host = o.http_host;
        ms.port = o.http_port < 0 ? 0 : o.http_port;
        ms.auth_timeout_s = std::chrono::duration<double>(o.auth_timeout).count();
        ms.ignored_config_keys = o.ignored_keys;
        mon = std::make_unique<natrix::monitor::monitor>(srv, ms);
        if (!mon->listen(&err)) {
            LOG_ERR("natrix failed to start: %s", err.c_str());
            return 1;
        }
        LOG_INF("Starting http monitor on %s", mon->address().c_str());
    }
    if (!srv.start(&err)) {
        LOG_ERR("natrix failed to start: %s", err.c_str());
        return 1;
    }
    if (mon) mon->start();
    // systemd (Type=notify): every shard listens now.
    natrix::util::sd_notify("READY=1\nMAINPID=" + std::to_string(::getpid()) +
                            "\nSTATUS=Listening on " + o.host + ":" + std::to_string(srv.port()));
    for (;;) {
        int sig = 0;
        if (srv.in_lame_duck()) {
            // Lame duck ends by itself once every client is gone and the
            // duration is over; SIGINT/SIGTERM still end it early.
            timespec ts{0, 100 * 1000 * 1000};
            siginfo_t si;
            sig = sigtimedwait(&sigs, &si, &ts);
            if (sig < 0) {
                // Like nats-server: done as soon as the closing phase has
                // begun and the last client is gone, or at the end anyway.
                const auto now = std::chrono::steady_clock::now();
                if ((now >= ldm_close_from && srv.open_connections() == 0) || now >= ldm_end) break;
                continue;
            }
        } else if (sigwait(&sigs, &sig) != 0) {
            continue;
        }
        if (sig == SIGINT || sig == SIGTERM) {
            LOG_INF("Trapped \"%s\" signal", sig == SIGINT ? "interrupt" : "terminated");
            break;
        }
        if (sig == SIGUSR1) {
            if (!natrix::util::log_reopen(&err)) LOG_ERR("%s", err.c_str());
            continue;
        }
        if (sig == SIGHUP) {
            LOG_INF("Trapped \"hangup\" signal: reloading configuration");
            // systemd: reloading until READY=1 again, whatever the outcome.
            struct ready_again {
                ~ready_again() { natrix::util::sd_notify("READY=1"); }
            };
            natrix::util::sd_notify("RELOADING=1");
            const ready_again ready;
            natrix::config::load_result next = natrix::config::load_server_options(argc, argv);
            if (!next.ok()) {
                LOG_ERR("Failed to reload configuration, keeping the running one: %s",
                        next.error.c_str());
                continue;
            }
            for (const auto& w : next.warnings) LOG_WRN("%s", w.text.c_str());
            // A new authenticator only when who-may-do-what changed: every
            // client is then judged again (bcrypt included).
            std::shared_ptr<const natrix::auth::authenticator> next_auth = auth;
            if (!(next.options.security == security)) {
                std::vector<std::string> errs;
                next_auth = make_authenticator(next.options, &errs);
                if (!errs.empty()) {
                    for (const auto& e : errs)
                        LOG_ERR("Failed to reload configuration: %s", e.c_str());
                    continue;
                }
            }
            natrix::util::log_settings nls;
            nls.debug = next.options.debug;
            nls.trace = next.options.trace;
            nls.max_traced_msg_len = next.options.max_traced_msg_len;
            nls.logtime = next.options.logtime;
            nls.file = next.options.log_file;
            if (!natrix::util::log_configure(nls, &err)) LOG_ERR("%s", err.c_str());
            // Certificates are read again on every reload: new connections
            // get the new ones, open connections keep theirs.
            std::string tls_err;
            std::shared_ptr<const natrix::tls::tls_context> next_tls =
                make_tls(next.options, &tls_err);
            if (next.options.tls.enabled && !next_tls) {
                LOG_ERR("Failed to reload configuration: %s", tls_err.c_str());
                continue;
            }
            if (!srv.reload(to_broker_config(next.options, next_auth, next_tls), &err)) {
                LOG_ERR("Failed to reload configuration: %s", err.c_str());
                continue;
            }
            if (next_auth != auth)
                LOG_INF("Reloaded authorization: users, passwords and permissions");
            auth = std::move(next_auth);
            security = next.options.security;
            if (mon) mon->config_reloaded(next.options.ignored_keys);
            LOG_INF("Reloaded server configuration");
            continue;
        }
        if (sig == SIGUSR2) {
            LOG_INF("Entering lame duck mode, stop accepting new clients");
            natrix::util::sd_notify("STOPPING=1\nSTATUS=Lame duck mode");
            srv.enter_lame_duck(o.lame_duck_grace_period, o.lame_duck_duration);
            ldm_close_from = std::chrono::steady_clock::now() + o.lame_duck_grace_period;
            ldm_end =
                std::chrono::steady_clock::now() + o.lame_duck_duration + std::chrono::seconds(1);
            continue;
        }
    }
    natrix::util::sd_notify("STOPPING=1");
    if (mon) mon->stop(); // before the shards, so no request waits on a stopping shard
    srv.stop();
    LOG_INF("Server Exiting..");
    if (!o.pid_file.empty()) ::unlink(o.pid_file.c_str());
    return 0;
}
