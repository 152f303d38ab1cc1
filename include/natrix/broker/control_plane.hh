#pragma once
// What the two control planes (cluster_manager for routes, gateway_manager
// for gateways) share: the listener, the manager thread and the handshake
// workers, their lock and stop flag, and TLS first on their links. Control
// threads only; a derived manager calls stop_threads() in its destructor,
// before its own members go.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <natrix/broker/control_listener.hh>
#include <natrix/broker/control_socket.hh>
#include <natrix/broker/control_workers.hh>
#include <natrix/tls/tls_context.hh>

namespace natrix::broker {

class control_plane {
public:
    int port() const noexcept { return port_; }

protected:
    control_plane() = default;
    ~control_plane() = default;

    // Binds the listener; false with `what: reason` in *error.
    bool open_listener(const std::string& host, int port, const char* what, std::string* error) {
        std::string why;
        if (!listener_.open(host, port, &why)) {
            *error = std::string(what) + " listen " + host + ":" + std::to_string(port) + ": " + why;
            return false;
        }
        port_ = listener_.port();
        return true;
    }
    // Accepts (each connection's handshake on a worker) and runs `loop`.
    template <typename Accept, typename Loop>
    void start_threads(Accept on_accept, Loop loop) {
        listener_.start(workers_, std::move(on_accept));
        manager_ = std::thread(std::move(loop));
    }
    void stop_threads() {
        if (stopping_.exchange(true)) return;
        cv_.notify_all();
        listener_.stop();
        if (manager_.joinable()) manager_.join();
        workers_.stop();
    }

    // A `tls {}` block: the contexts that accept and that dial; false with the
    // reason when a file does not load.
    bool load_tls(const tls::tls_config& c, std::string* why) {
        tls_server_ = tls::tls_context::load(c, why);
        if (tls_server_) tls_client_ = tls::tls_context::load_client(c, why);
        return tls_client_ != nullptr;
    }
    // TLS first on a new link (brief §3.3), within `timeout` (at least 1 s):
    // the dialler is the TLS client and checks the peer for `host`; `dial`
    // overrides the dialling context (a remote gateway's own tls block).
    bool secure(control::link_io& io, bool dialling, const std::string& host,
                std::chrono::nanoseconds timeout, std::string* why,
                const tls::tls_context* dial = nullptr) const {
        if (!tls_server_) return true;
        control::set_timeouts(io.fd, std::max(timeout, std::chrono::nanoseconds(std::chrono::seconds(1))));
        if (!dialling) return control::tls_accept(io.fd, tls_server_->native(), &io.ssl, why);
        return control::tls_connect(io.fd, (dial ? dial : tls_client_.get())->native(), host, &io.ssl,
                                    why);
    }
    bool tls_enabled() const noexcept { return tls_server_ != nullptr; }

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::atomic<bool> stopping_{false};
    control_workers workers_;

private:
    control_listener listener_;
    std::thread manager_;
    int port_ = 0;
    std::shared_ptr<const tls::tls_context> tls_server_, tls_client_;
};

} // namespace natrix::broker
