#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <natrix/io/listener.hh>

namespace natrix::io {

namespace {

// A plain bind fails when anyone holds the port, as nats-server's listen does.
bool port_taken(const addrinfo* ai) {
    int probe = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (probe < 0) return false;
    int on = 1;
    setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    const bool taken = ::bind(probe, ai->ai_addr, ai->ai_addrlen) != 0 && errno == EADDRINUSE;
    ::close(probe);
    return taken;
}

} // namespace

listen_result open_listener(const std::string& host, int port, bool first) {
    listen_result out;
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    const std::string port_s = std::to_string(port);
    const char* node = host.empty() || host == "0.0.0.0" ? nullptr : host.c_str();
    const int r = getaddrinfo(node, port_s.c_str(), &hints, &res);
    if (r != 0) {
        out.error = "cannot resolve listen address '" + host + "': " + gai_strerror(r);
        return out;
    }
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        if (first && port != 0 && port_taken(ai)) {
            out.error =
                "cannot listen on " + host + ":" + port_s + ": " + std::strerror(EADDRINUSE);
            continue;
        }
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                          ai->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 4096) == 0) {
            out.fd = fd;
            out.error.clear();
            break;
        }
        out.error = "cannot listen on " + host + ":" + port_s + ": " + std::strerror(errno);
        ::close(fd);
    }
    freeaddrinfo(res);
    if (out.fd < 0) {
        if (out.error.empty()) out.error = "cannot listen on " + host + ":" + port_s;
        return out;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(out.fd, reinterpret_cast<sockaddr*>(&ss), &len);
    out.port = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                        : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    return out;
}

} // namespace natrix::io
