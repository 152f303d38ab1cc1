#pragma once
// Blocking-socket helpers for the control planes (cluster_manager,
// gateway_manager): dials with a timeout, whole writes, line reads for the
// INFO/CONNECT handshakes. Control threads only, never a shard's.
#include <chrono>
#include <string>
#include <string_view>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace natrix::broker::control {

// A handshake's connection: the socket, and the TLS session over it once
// TLS-first has been done (routes and gateways with a tls block).
struct link_io {
    int fd = -1;
    SSL* ssl = nullptr;
    void close(); // the socket and the TLS session, if any
};

constexpr auto dial_timeout = std::chrono::seconds(1); // nats-server DEFAULT_ROUTE_DIAL

// SO_RCVTIMEO/SO_SNDTIMEO; 0 clears them.
void set_timeouts(int fd, std::chrono::nanoseconds t);
bool send_all(int fd, std::string_view b);
// One line (without CRLF) from `fd`, buffering in `buf`; false on timeout,
// EOF or a line past 64 KiB.
bool read_line(int fd, std::string& buf, std::string& line);
bool send_all(const link_io& io, std::string_view b);
bool read_line(const link_io& io, std::string& buf, std::string& line);
// TLS first, on the blocking socket (its timeouts apply): as the dialler
// (verifying the peer as `host`, a name or an IP) or as the acceptor. The
// session in *ssl, or false with a reason (and *ssl null).
bool tls_connect(int fd, SSL_CTX* ctx, const std::string& host, SSL** ssl, std::string* why);
bool tls_accept(int fd, SSL_CTX* ctx, SSL** ssl, std::string* why);
// Plaintext OpenSSL already decrypted past what read_line used: appended to
// `buf`, so that the session can go to a shard holding no unread record.
void drain_tls(SSL* ssl, std::string& buf);

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
