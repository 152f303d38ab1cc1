#include <cerrno>
#include <cstring>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <natrix/monitor/http_server.hh>
#include <natrix/util/log.hh>

namespace natrix::monitor {

namespace {

using steady = std::chrono::steady_clock;

struct client {
    int fd = -1;
    enum class phase { reading, writing, draining } state = phase::reading;
    std::string in;
    std::string out;
    std::size_t out_off = 0;
    steady::time_point deadline;
};

// After the answer is written the read side is drained briefly before the
// close: closing with unread bytes would send a RST that can destroy the
// answer before the client has read it.
constexpr auto k_drain_time = std::chrono::milliseconds(500);

} // namespace

http_server::http_server(settings s, handler h)
    : settings_(std::move(s))
    , handler_(std::move(h)) {}

http_server::~http_server() {
    stop();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

bool http_server::listen(std::string* error) {
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    const std::string port_s = std::to_string(settings_.port);
    const char* host =
        settings_.host.empty() || settings_.host == "0.0.0.0" ? nullptr : settings_.host.c_str();
    if (int r = getaddrinfo(host, port_s.c_str(), &hints, &res); r != 0) {
        if (error)
            *error =
                "cannot resolve monitoring address '" + settings_.host + "': " + gai_strerror(r);
        return false;
    }
    std::string why;
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                          ai->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
            listen_fd_ = fd;
            break;
        }
        why = std::strerror(errno);
        ::close(fd);
    }
    freeaddrinfo(res);
    if (listen_fd_ < 0) {
        if (error)
            *error =
                "cannot listen for monitoring on " + settings_.host + ":" + port_s + ": " + why;
        return false;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    port_ = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
        if (error) *error = std::string("eventfd: ") + std::strerror(errno);
        return false;
    }
    return true;
}

void http_server::start() {
    if (listen_fd_ < 0 || thread_.joinable()) return;
    thread_ = std::thread([this] { run(); });
}

void http_server::stop() {
    stopping_.store(true, std::memory_order_release);
    if (wake_fd_ >= 0) {
        const std::uint64_t one = 1;
        ssize_t r = ::write(wake_fd_, &one, sizeof one);
        (void)r;
    }
    if (thread_.joinable()) thread_.join();
}

void http_server::run() {
    std::vector<client> clients;
    std::vector<pollfd> pfds;
    const auto close_client = [](client& c) {
        ::close(c.fd);
        c.fd = -1;
    };
    // Builds the answer for a complete (or broken) request head.
    const auto respond = [&](client& c) {
        http_request req;
        std::size_t head_len = 0;
        std::string why;
        http_response resp;
        bool head_only = false;
        switch (parse_http_request(c.in, settings_.max_request_bytes, &req, &head_len, &why)) {
        case http_parse_status::incomplete:
            return false;
        case http_parse_status::too_large:
            resp = http_response::text(431, "request head larger than " +
                                                std::to_string(settings_.max_request_bytes) +
                                                " bytes\n");
            break;
        case http_parse_status::bad_request:
            resp = http_response::text(400, "bad request: " + why + "\n");
            break;
        case http_parse_status::complete:
            head_only = req.method == "HEAD";
            if (req.method != "GET" && !head_only) {
                resp = http_response::text(405, "method " + req.method + " not allowed\n");
                resp.headers.emplace_back("Allow", "GET, HEAD");
            } else {
                try {
                    resp = handler_(req);
                } catch (const std::exception& e) {
                    resp =
                        http_response::text(500, std::string("internal error: ") + e.what() + "\n");
                }
            }
            break;
        }
        c.out = serialize_response(resp, head_only);
        c.out_off = 0;
        c.state = client::phase::writing;
        c.deadline = steady::now() + settings_.io_timeout;
        return true;
    };

    while (!stopping_.load(std::memory_order_acquire)) {
        pfds.clear();
        pfds.push_back({wake_fd_, POLLIN, 0});
        pfds.push_back({listen_fd_,
                        static_cast<short>(clients.size() < settings_.max_clients ? POLLIN : 0),
                        0});
        auto now = steady::now();
        auto next = now + std::chrono::seconds(1);
        for (const client& c : clients) {
            pfds.push_back(
                {c.fd, static_cast<short>(c.state == client::phase::writing ? POLLOUT : POLLIN),
                 0});
            if (c.deadline < next) next = c.deadline;
        }
        const int wait_ms = static_cast<int>(std::max<long long>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1));
        const int n = ::poll(pfds.data(), pfds.size(), wait_ms);
        if (n < 0 && errno != EINTR) {
            LOG_ERR("http monitor: poll failed: %s", std::strerror(errno));
            break;
        }
        if (stopping_.load(std::memory_order_acquire)) break;
        now = steady::now();
        for (std::size_t i = 0; i < clients.size(); ++i) {
            client& c = clients[i];
            const short re = pfds[i + 2].revents;
            if (re & (POLLIN | POLLHUP | POLLERR)) {
                if (c.state == client::phase::reading) {
                    char buf[4096];
                    const ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
                    if (r <= 0) {
                        if (r == 0 || (errno != EAGAIN && errno != EINTR)) close_client(c);
                        continue;
                    }
                    c.in.append(buf, static_cast<std::size_t>(r));
                    respond(c);
                } else if (c.state == client::phase::draining) {
                    char buf[4096];
                    const ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
                    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) close_client(c);
                    continue;
                } else if (re & (POLLHUP | POLLERR)) {
                    close_client(c);
                    continue;
                }
            }
            if (c.fd >= 0 && c.state == client::phase::writing) {
                // Try right away: most answers fit in the socket buffer.
                while (c.out_off < c.out.size()) {
                    const ssize_t w = ::send(c.fd, c.out.data() + c.out_off,
                                             c.out.size() - c.out_off, MSG_NOSIGNAL);
                    if (w < 0) {
                        if (errno != EAGAIN && errno != EINTR) close_client(c);
                        break;
                    }
                    c.out_off += static_cast<std::size_t>(w);
                }
                if (c.fd >= 0 && c.out_off == c.out.size()) {
                    ::shutdown(c.fd, SHUT_WR);
                    c.state = client::phase::draining;
                    c.deadline = now + k_drain_time;
                    c.out.clear();
                    c.in.clear();
                }
            }
            if (c.fd >= 0 && now >= c.deadline) close_client(c);
        }
        std::erase_if(clients, [](const client& c) { return c.fd < 0; });
        if (pfds[1].revents & POLLIN) {
            for (;;) {
                if (clients.size() >= settings_.max_clients) break;
                const int fd =
                    ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) break;
                client c;
                c.fd = fd;
                c.deadline = now + settings_.io_timeout;
                clients.push_back(std::move(c));
            }
        }
    }
    for (client& c : clients)
        if (c.fd >= 0) ::close(c.fd);
}

} // namespace natrix::monitor
