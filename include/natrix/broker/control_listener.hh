#pragma once
// A control plane's listening socket (routes, gateways): bound before the
// shards listen to clients, then a thread that accepts and hands each
// connection to a short-lived worker for its handshake. Control threads only.
#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include <sys/socket.h>
#include <unistd.h>

#include <natrix/broker/control_socket.hh>
#include <natrix/broker/control_workers.hh>

namespace natrix::broker {

class control_listener {
public:
    using on_accept = std::function<void(int fd, std::string ip, int port)>;
    ~control_listener() { stop(); }

    // Binds host:port (port 0: any); false with a reason. port() is the bound one.
    bool open(const std::string& host, int port, std::string* why) {
        fd_ = control::listen_on(host, port, &port_, why);
        return fd_ >= 0;
    }
    int port() const noexcept { return port_; }
    // Accepts until stop(), running `fn` for each connection on `workers`.
    void start(control_workers& workers, on_accept fn) {
        thread_ = std::thread([this, &workers, fn = std::move(fn)] {
            while (!stopping_) {
                std::string ip;
                int port = 0;
                const int fd = control::accept_peer(fd_, &ip, &port);
                if (fd >= 0) workers.spawn([fn, fd, ip, port] { fn(fd, ip, port); });
            }
        });
    }
    void stop() {
        if (stopping_.exchange(true)) return;
        if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
        if (thread_.joinable()) thread_.join();
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

} // namespace natrix::broker
