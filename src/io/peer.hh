#pragma once
// Socket chores every backend shares. Private to src/io.
#include <natrix/io/backend.hh>

namespace natrix::io::detail {

// Per-connection socket options (TCP_NODELAY: NATS is many small messages).
void configure_socket(int fd) noexcept;
peer_address peer_of(int fd);
// Graceful: FIN after what is queued. Abort: RST now, and the kernel's send
// queue (megabytes for a slow consumer) is freed at once.
void close_socket(int fd, bool abort) noexcept;

} // namespace natrix::io::detail
