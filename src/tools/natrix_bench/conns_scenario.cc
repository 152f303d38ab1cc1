// conns: many connections from one thread with non-blocking sockets and epoll. It opens
// --clients connections (at most 256 handshakes in flight, so the server's accept backlog is not
// what is measured), each one complete when CONNECT+PING got its PONG; then it keeps them up for
// --duration, sending each a PING every --ping-interval (and, with --rate, PUBs spread over
// them); at the end every connection must answer one more PING.
#include <cerrno>
#include <cstring>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <natrix/bench_client/bench_error.hh>
#include <natrix/bench_client/client_conn.hh>
#include <natrix/bench_client/clock.hh>
#include <natrix/bench_client/scenarios.hh>
#include <natrix/bench_client/server_op.hh>
#include <natrix/bench_client/worker_group.hh>

namespace natrix::bench_client {

namespace {

constexpr int k_max_handshakes = 256;
constexpr std::uint64_t k_handshake_timeout_ns = 10000000000ull;

enum class conn_phase { connecting, wait_info, wait_pong, up, closed, failed };

struct conn {
    int fd = -1;
    int server = 0;
    conn_phase phase = conn_phase::connecting;
    std::string in;
    std::string out;
    std::uint64_t t_start = 0;
    std::uint64_t ping_sent_ns = 0; // 0: no PING of ours outstanding
    bool final_answered = false;
    bool want_out = false; // EPOLLOUT registered because a send stalled
};

struct resolved {
    sockaddr_storage addr{};
    socklen_t len = 0;
};

resolved resolve(const server_url& u) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = getaddrinfo(u.host.c_str(), std::to_string(u.port).c_str(), &hints, &res); rc)
        throw bench_error("cannot resolve " + u.host + ": " + gai_strerror(rc));
    resolved r;
    std::memcpy(&r.addr, res->ai_addr, res->ai_addrlen);
    r.len = res->ai_addrlen;
    freeaddrinfo(res);
    return r;
}

class conns_engine {
public:
    conns_engine(const bench_options& o, std::atomic<bool>& abort, run_result& r)
        : o_(o)
        , abort_(abort)
        , r_(r)
        , cred_(credentials_of(o)) {}
    ~conns_engine() {
        for (auto& c : conns_)
            if (c.fd >= 0) ::close(c.fd);
        if (ep_ >= 0) ::close(ep_);
    }

    void run();

private:
    void start_connect(std::size_t i);
    void on_event(std::size_t i, std::uint32_t events);
    void handle_input(std::size_t i);
    void send_out(std::size_t i);
    void fail(std::size_t i, std::string why);
    void close_conn(std::size_t i, conn_phase phase);
    void poll_events(int timeout_ms);

    const bench_options& o_;
    std::atomic<bool>& abort_;
    run_result& r_;
    credentials cred_;
    std::vector<resolved> addrs_;
    std::vector<conn> conns_;
    int ep_ = -1;
    std::size_t next_to_open_ = 0;
    int handshaking_ = 0;
    std::size_t up_ = 0, failed_ = 0, dropped_ = 0;
    bool holding_ = false, final_round_ = false;
    std::size_t final_answers_ = 0;
    std::string first_error_;
    latency_histogram handshake_;
    latency_histogram ping_rtt_;
    std::uint64_t pings_sent_ = 0, pubs_sent_ = 0;
};

void conns_engine::fail(std::size_t i, std::string why) {
    if (first_error_.empty()) first_error_ = std::move(why);
    close_conn(i, conn_phase::failed);
}

void conns_engine::close_conn(std::size_t i, conn_phase phase) {
    auto& c = conns_[i];
    if (c.phase == conn_phase::up) {
        --up_;
        ++dropped_;
    } else if (c.phase != conn_phase::closed && c.phase != conn_phase::failed) {
        --handshaking_;
        ++failed_;
    }
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
    c.phase = phase;
    c.in.clear();
    c.out.clear();
}

void conns_engine::start_connect(std::size_t i) {
    auto& c = conns_[i];
    const auto& a = addrs_[static_cast<std::size_t>(c.server)];
    c.t_start = now_ns();
    ++handshaking_;
    c.fd = ::socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return fail(i, std::string("socket: ") + std::strerror(errno));
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0 &&
        errno != EINPROGRESS)
        return fail(i, std::string("connect: ") + std::strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
    ev.data.u64 = i;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0)
        return fail(i, std::string("epoll_ctl: ") + std::strerror(errno));
}

void conns_engine::send_out(std::size_t i) {
    auto& c = conns_[i];
    auto watch_out = [&](bool on) {
        if (c.want_out == on) return;
        c.want_out = on;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u);
        ev.data.u64 = i;
        epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    };
    while (!c.out.empty()) {
        ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n > 0) {
            c.out.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return watch_out(true);
        if (c.phase == conn_phase::up) return close_conn(i, conn_phase::closed);
        return fail(i, std::string("send: ") + std::strerror(errno));
    }
    if (c.phase != conn_phase::connecting) watch_out(false);
}

void conns_engine::handle_input(std::size_t i) {
    auto& c = conns_[i];
    char buf[16384];
    bool eof = false; // handled after parsing: a refusal's -ERR arrives just before the close
    while (true) {
        ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n > 0) {
            c.in.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) {
            eof = true;
            break;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (c.phase == conn_phase::up) return close_conn(i, conn_phase::closed);
        return fail(i, std::string("recv: ") + std::strerror(errno));
    }
    std::size_t off = 0;
    server_op op;
    while (off < c.in.size()) {
        const std::size_t used = parse_server_op(c.in.data() + off, c.in.size() - off, op);
        if (used == 0) break;
        off += used;
        switch (op.kind) {
        case op_kind::info:
            if (c.phase == conn_phase::wait_info) {
                // An nkey login signs this connection's own nonce: the signature is part of
                // the handshake being timed.
                c.out += connect_line(credentials_for(cred_, server_for(o_, c.server)),
                                      "natrix-bench-conn-" + std::to_string(i),
                                      json_value(op.text, "nonce"));
                c.out += "PING\r\n";
                c.phase = conn_phase::wait_pong;
            }
            break;
        case op_kind::ping:
            c.out += "PONG\r\n";
            break;
        case op_kind::pong:
            if (c.phase == conn_phase::wait_pong) {
                c.phase = conn_phase::up;
                --handshaking_;
                ++up_;
                handshake_.record(now_ns() - c.t_start);
            } else if (c.ping_sent_ns) {
                ping_rtt_.record(now_ns() - c.ping_sent_ns);
                c.ping_sent_ns = 0;
                if (final_round_ && !c.final_answered) {
                    c.final_answered = true;
                    ++final_answers_;
                }
            }
            break;
        case op_kind::err: {
            std::string text(op.text);
            if (c.phase == conn_phase::up) {
                if (first_error_.empty()) first_error_ = "server error: " + text;
                return close_conn(i, conn_phase::closed);
            }
            return fail(i, "server refused: " + text);
        }
        case op_kind::bad:
            return fail(i, "unparsable data from the server");
        default:
            break;
        }
    }
    c.in.erase(0, off);
    if (eof) {
        if (c.phase == conn_phase::up) return close_conn(i, conn_phase::closed);
        return fail(i, "server closed the connection during the handshake");
    }
    send_out(i);
}

void conns_engine::on_event(std::size_t i, std::uint32_t events) {
    auto& c = conns_[i];
    if (c.fd < 0) return;
    if (c.phase == conn_phase::connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) return fail(i, std::string("connect: ") + std::strerror(err));
        c.phase = conn_phase::wait_info;
        // Only readiness to read matters from here on (plus EPOLLOUT when a send stalls).
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = i;
        epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) handle_input(i);
    if (c.fd >= 0 && (events & EPOLLOUT)) send_out(i);
}

void conns_engine::poll_events(int timeout_ms) {
    epoll_event evs[512];
    int n = epoll_wait(ep_, evs, 512, timeout_ms);
    for (int k = 0; k < n; ++k) on_event(static_cast<std::size_t>(evs[k].data.u64), evs[k].events);
}

void conns_engine::run() {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    const rlim_t want = static_cast<rlim_t>(o_.clients) + 64;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = std::min(rl.rlim_max, std::max(want, rl.rlim_cur));
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < want)
        throw bench_error("--clients " + std::to_string(o_.clients) + " needs " +
                          std::to_string(want) + " file descriptors; the limit is " +
                          std::to_string(rl.rlim_cur) + " (raise it with ulimit -n)");
    if (!o_.cpus.empty()) pin_current_thread(o_.cpus[0]);
    for (const auto& u : o_.servers) addrs_.push_back(resolve(u));
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) throw bench_error(std::string("epoll_create1: ") + std::strerror(errno));
    conns_.resize(static_cast<std::size_t>(o_.clients));
    for (std::size_t i = 0; i < conns_.size(); ++i)
        conns_[i].server = static_cast<int>(i % o_.servers.size());

    // Phase 1: connect everyone.
    const std::uint64_t t0 = now_ns();
    while (!abort_.load()) {
        while (next_to_open_ < conns_.size() && handshaking_ < k_max_handshakes)
            start_connect(next_to_open_++);
        if (next_to_open_ == conns_.size() && handshaking_ == 0) break;
        poll_events(10);
        const std::uint64_t now = now_ns();
        for (std::size_t i = 0; i < next_to_open_; ++i) {
            auto& c = conns_[i];
            if (c.fd >= 0 && c.phase != conn_phase::up && now - c.t_start > k_handshake_timeout_ns)
                fail(i, "handshake timed out");
        }
    }
    const std::uint64_t t_connected = now_ns();
    const double connect_s = static_cast<double>(t_connected - t0) / 1e9;
    const std::size_t connected = up_;

    // Phase 2: hold them, lightly loaded.
    holding_ = true;
    const double interval_ns = o_.ping_interval_s * 1e9;
    const std::uint64_t hold_end = t_connected + static_cast<std::uint64_t>(o_.run_seconds() * 1e9);
    std::string pub_msg = "PUB " + o_.subject + " " + std::to_string(o_.size) + "\r\n" +
                          std::string(o_.size, 'x') + "\r\n";
    std::size_t ping_cursor = 0, pub_cursor = 0;
    while (!abort_.load()) {
        const std::uint64_t now = now_ns();
        if (now >= hold_end || up_ == 0) break;
        const double elapsed = static_cast<double>(now - t_connected);
        const auto pings_due =
            static_cast<std::uint64_t>(elapsed / interval_ns * static_cast<double>(connected));
        for (std::size_t guard = 0; pings_sent_ < pings_due && guard < conns_.size(); ++guard) {
            auto& c = conns_[ping_cursor];
            const std::size_t idx = ping_cursor;
            ping_cursor = (ping_cursor + 1) % conns_.size();
            if (c.phase != conn_phase::up || c.ping_sent_ns) continue;
            c.out += "PING\r\n";
            c.ping_sent_ns = now_ns();
            ++pings_sent_;
            send_out(idx);
        }
        if (o_.rate > 0) {
            const auto pubs_due = static_cast<std::uint64_t>(elapsed / 1e9 * o_.rate);
            for (std::size_t guard = 0; pubs_sent_ < pubs_due && guard < 4 * conns_.size();
                 ++guard) {
                auto& c = conns_[pub_cursor];
                const std::size_t idx = pub_cursor;
                pub_cursor = (pub_cursor + 1) % conns_.size();
                if (c.phase != conn_phase::up) continue;
                c.out += pub_msg;
                ++pubs_sent_;
                send_out(idx);
            }
        }
        poll_events(1);
    }

    // Phase 3: every connection must still answer a PING.
    final_round_ = true;
    for (std::size_t i = 0; i < conns_.size(); ++i) {
        auto& c = conns_[i];
        if (c.phase != conn_phase::up) continue;
        if (c.ping_sent_ns == 0) {
            c.out += "PING\r\n";
            c.ping_sent_ns = now_ns();
        }
        send_out(i);
    }
    const std::uint64_t final_deadline =
        now_ns() + static_cast<std::uint64_t>(o_.drain_timeout_s * 1e9);
    while (!abort_.load() && final_answers_ < up_ && now_ns() < final_deadline) poll_events(10);

    r_.config.emplace_back("clients", std::to_string(o_.clients) + " connections");
    r_.config.emplace_back("hold",
                           format_number(o_.run_seconds()) + " s, PING every " +
                               format_number(o_.ping_interval_s) + " s" +
                               (o_.rate > 0 ? ", " + format_rate(o_.rate) + " PUB/s of " +
                                                  std::to_string(o_.size) + " B spread over them"
                                            : ""));
    r_.config.emplace_back(
        "pinning", o_.cpus.empty() ? "not pinned" : "thread on CPU " + std::to_string(o_.cpus[0]));
    r_.figure("connected", static_cast<double>(connected));
    r_.figure("connect_failed", static_cast<double>(o_.clients) - static_cast<double>(connected));
    r_.figure("connect_seconds", connect_s);
    r_.figure("connect_rate_per_s", connect_s > 0 ? static_cast<double>(connected) / connect_s : 0);
    r_.figure("handshake_p50_ns", static_cast<double>(handshake_.percentile(50)));
    r_.figure("handshake_p99_ns", static_cast<double>(handshake_.percentile(99)));
    r_.figure("dropped_while_held", static_cast<double>(dropped_));
    r_.figure("alive_at_end", static_cast<double>(final_answers_));
    r_.figure("pings_sent", static_cast<double>(pings_sent_));
    if (o_.rate > 0) r_.figure("pubs_sent", static_cast<double>(pubs_sent_));
    r_.latency = std::make_unique<latency_histogram>(ping_rtt_);
    r_.latency_label = "PING round trip on held connections";
    if (connected < static_cast<std::size_t>(o_.clients))
        r_.errors.push_back(std::to_string(o_.clients - static_cast<int>(connected)) +
                            " connection(s) failed to connect: " + first_error_);
    if (final_answers_ < connected)
        r_.errors.push_back(std::to_string(connected - final_answers_) +
                            " connection(s) did not stay up" +
                            (first_error_.empty() ? "" : " (" + first_error_ + ")"));
}

} // namespace

run_result run_conns(const bench_options& o, std::atomic<bool>& abort) {
    run_result r;
    r.scenario = "conns";
    const std::uint64_t t0 = now_ns();
    describe_common(o, r);
    try {
        conns_engine e(o, abort, r);
        e.run();
    } catch (const bench_error& e) {
        r.errors.push_back(e.what());
    }
    r.elapsed_s = static_cast<double>(now_ns() - t0) / 1e9;
    return r;
}

} // namespace natrix::bench_client
