#pragma once
// A small HTTP/1.1 server for the monitoring endpoints, off the hot path: one
// thread of its own, non-blocking sockets and poll(2). It reads a bounded
// request head, answers 400/405/431 itself, hands GET and HEAD requests to
// the handler, writes the answer and closes ("Connection: close"). Slow or
// silent clients are dropped after io_timeout; at most max_clients are
// served at once.
//
// listen() and start()/stop() are called by the owner's (control) thread;
// the handler runs on the server's own thread, one request at a time.
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <natrix/monitor/http_request.hh>
#include <natrix/monitor/http_response.hh>

namespace natrix::monitor {

class http_server {
public:
    using handler = std::function<http_response(const http_request&)>;

    struct settings {
        std::string host = "0.0.0.0";
        int port = 0; // 0: any free port
        std::size_t max_request_bytes = 8192;
        std::chrono::milliseconds io_timeout{5000};
        std::size_t max_clients = 64;
    };

    http_server(settings s, handler h);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    // Binds and listens; after this port() is the bound port. False with a
    // reason when the address cannot be used.
    bool listen(std::string* error);
    // Starts serving on a new thread (after listen()).
    void start();
    // Stops the thread and closes every socket. Idempotent.
    void stop();

    int port() const noexcept { return port_; }
    const std::string& host() const noexcept { return settings_.host; }

private:
    void run();

    settings settings_;
    handler handler_;
    int listen_fd_ = -1;
    int wake_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

} // namespace natrix::monitor
