#pragma once
// Blocking-socket helpers for the control planes (cluster_manager,
// gateway_manager): dials with a timeout, whole writes, line reads for the
// INFO/CONNECT handshakes. Control threads only, never a shard's.
#include <chrono>
#include <string>
#include <string_view>

namespace natrix::broker::control {

constexpr auto dial_timeout = std::chrono::seconds(1); // nats-server DEFAULT_ROUTE_DIAL

// SO_RCVTIMEO/SO_SNDTIMEO; 0 clears them.
void set_timeouts(int fd, std::chrono::nanoseconds t);
bool send_all(int fd, std::string_view b);
// One line (without CRLF) from `fd`, buffering in `buf`; false on timeout,
// EOF or a line past 64 KiB.
bool read_line(int fd, std::string& buf, std::string& line);
// The op of a control line, and the rest after its first space or TAB.
std::string_view op_of(std::string_view line, std::string_view* rest);
bool iequal(std::string_view a, std::string_view b);
// A blocking TCP connection (TCP_NODELAY) to host:port within dial_timeout;
// -1 with a reason.
int connect_to(const std::string& host, int port, std::string* why);
// Binds and listens on host:port (port 0: any); the fd, or -1 with a reason.
// *bound gets the port.
int listen_on(const std::string& host, int port, int* bound, std::string* why);
// Accepts one connection within 200 ms (-1 if none), with the peer's address.
int accept_peer(int listen_fd, std::string* ip, int* port);

} // namespace natrix::broker::control
