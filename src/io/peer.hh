#pragma once
// Socket chores every backend shares. Private to src/io.
#include <algorithm>
#include <chrono>

#include <natrix/io/backend.hh>

namespace natrix::io::detail {

// Per-connection socket options (TCP_NODELAY: NATS is many small messages).
void configure_socket(int fd) noexcept;
peer_address peer_of(int fd);
// Graceful: FIN after what is queued. Abort: RST now, and the kernel's send
// queue (megabytes for a slow consumer) is freed at once.
void close_socket(int fd, bool abort) noexcept;

// After an accept error that does not clear by itself (EMFILE, ENFILE,
// ENOBUFS), wait before accepting again, doubling from 10 ms to 1 s like
// nats-server's accept loop, instead of spinning on the error.
class accept_backoff {
public:
    using clock = std::chrono::steady_clock;
    bool ready(clock::time_point now) const noexcept { return now >= retry_at_; }
    void failed(clock::time_point now) noexcept {
        delay_ =
            std::clamp(delay_ * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
        retry_at_ = now + delay_;
    }
    void succeeded() noexcept { delay_ = std::chrono::milliseconds(0); }

private:
    std::chrono::milliseconds delay_{0};
    clock::time_point retry_at_{};
};

} // namespace natrix::io::detail
