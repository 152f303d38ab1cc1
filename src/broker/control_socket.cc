// Blocking sockets with timeouts for the control planes (decision 0013): a
// handshake is a few lines, on a short-lived thread, never on a shard.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <natrix/broker/control_socket.hh>

namespace natrix::broker::control {

void set_timeouts(int fd, std::chrono::nanoseconds t) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(t).count());
    tv.tv_usec = static_cast<suseconds_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(t).count() % 1000000);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

bool send_all(int fd, std::string_view b) {
    while (!b.empty()) {
        const ssize_t n = ::send(fd, b.data(), b.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            return false;
        }
        b.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// One line (without CRLF) from `fd`, buffering in `buf`; false on timeout,
// EOF or a line past 64 KiB.
bool read_line(int fd, std::string& buf, std::string& line) {
    return read_line(link_io{fd, nullptr}, buf, line);
}

std::string_view op_of(std::string_view line, std::string_view* rest) {
    const std::size_t sp = line.find_first_of(" \t");
    if (sp == std::string_view::npos) {
        *rest = {};
        return line;
    }
    *rest = line.substr(sp + 1);
    return line.substr(0, sp);
}

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x | 0x20) == (y | 0x20);
           });
}

int connect_to(const std::string& host, int port, std::string* why) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string p = std::to_string(port);
    if (int e = getaddrinfo(host.c_str(), p.c_str(), &hints, &res); e != 0) {
        *why = gai_strerror(e);
        return -1;
    }
    int fd = -1;
    for (addrinfo* a = res; a; a = a->ai_next) {
        fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) continue;
        int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            pollfd pfd{fd, POLLOUT, 0};
            rc = ::poll(&pfd, 1, static_cast<int>(std::chrono::milliseconds(dial_timeout).count()));
            int err = 0;
            socklen_t len = sizeof err;
            if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
                rc = 0;
            else {
                errno = rc == 0 ? ETIMEDOUT : (err ? err : errno);
                rc = -1;
            }
        }
        if (rc == 0) break;
        *why = std::strerror(errno);
        ::close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        const int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK); // the handshake blocks, with timeouts
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

int listen_on(const std::string& host, int port, int* bound, std::string* why) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* res = nullptr;
    const std::string p = std::to_string(port);
    if (int e = getaddrinfo(host.c_str(), p.c_str(), &hints, &res); e != 0) {
        *why = gai_strerror(e);
        return -1;
    }
    int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || ::bind(fd, res->ai_addr, res->ai_addrlen) < 0 || ::listen(fd, 128) < 0) {
        *why = std::strerror(errno);
        freeaddrinfo(res);
        if (fd >= 0) ::close(fd);
        return -1;
    }
    freeaddrinfo(res);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    *bound = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    return fd;
}

int accept_peer(int listen_fd, std::string* ip, int* port) {
    pollfd pfd{listen_fd, POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) return -1;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
    if (fd < 0) return -1;
    char buf[INET6_ADDRSTRLEN] = "";
    *port = 0;
    if (ss.ss_family == AF_INET) {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
        *port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
        *port = ntohs(a->sin6_port);
    }
    *ip = buf;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

bool send_all(const link_io& io, std::string_view b) {
    if (!io.ssl) return send_all(io.fd, b);
    while (!b.empty()) {
        const int n = SSL_write(io.ssl, b.data(), static_cast<int>(b.size()));
        if (n <= 0) return false;
        b.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool read_line(const link_io& io, std::string& buf, std::string& line) {
    for (;;) {
        const std::size_t nl = buf.find('\n');
        if (nl != std::string::npos) {
            line.assign(buf, 0, nl);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            buf.erase(0, nl + 1);
            return true;
        }
        if (buf.size() > 65536) return false;
        char tmp[4096];
        if (io.ssl) {
            const int n = SSL_read(io.ssl, tmp, sizeof tmp);
            if (n <= 0) return false;
            buf.append(tmp, static_cast<std::size_t>(n));
            continue;
        }
        const ssize_t n = ::recv(io.fd, tmp, sizeof tmp, 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            return false;
        }
        buf.append(tmp, static_cast<std::size_t>(n));
    }
}

namespace {
std::string tls_why(SSL* ssl, int rc) {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (ssl) {
        const long v = SSL_get_verify_result(ssl);
        if (v != X509_V_OK) return std::string("certificate: ") + X509_verify_cert_error_string(v);
    }
    if (e) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        return buf;
    }
    return "TLS handshake failed (" + std::to_string(ssl ? SSL_get_error(ssl, rc) : rc) + ")";
}
} // namespace

bool tls_connect(int fd, SSL_CTX* ctx, const std::string& host, SSL** ssl, std::string* why) {
    *ssl = SSL_new(ctx);
    SSL_set_fd(*ssl, fd);
    in6_addr a6{};
    in_addr a4{};
    const bool ip =
        inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
    if (ip) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(*ssl), host.c_str());
    } else {
        SSL_set_tlsext_host_name(*ssl, host.c_str());
        SSL_set1_host(*ssl, host.c_str());
    }
    const int rc = SSL_connect(*ssl);
    if (rc == 1) return true;
    *why = tls_why(*ssl, rc);
    SSL_free(*ssl);
    *ssl = nullptr;
    return false;
}

bool tls_accept(int fd, SSL_CTX* ctx, SSL** ssl, std::string* why) {
    *ssl = SSL_new(ctx);
    SSL_set_fd(*ssl, fd);
    const int rc = SSL_accept(*ssl);
    if (rc == 1) return true;
    *why = tls_why(*ssl, rc);
    SSL_free(*ssl);
    *ssl = nullptr;
    return false;
}

void drain_tls(SSL* ssl, std::string& buf) {
    char tmp[4096];
    while (SSL_pending(ssl) > 0) {
        const int n = SSL_read(ssl, tmp, sizeof tmp);
        if (n <= 0) break;
        buf.append(tmp, static_cast<std::size_t>(n));
    }
}

void link_io::close() {
    if (ssl) SSL_free(ssl);
    ssl = nullptr;
    if (fd >= 0) ::close(fd);
    fd = -1;
}

} // namespace natrix::broker::control
