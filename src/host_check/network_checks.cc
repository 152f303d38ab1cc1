// The kernel's network limits natrix depends on: the accept backlog, the TCP
// buffer autotuning ceiling, and busy polling (epoll only).
#include <sstream>

#include <natrix/host_check/host_check.hh>

namespace natrix::host_check {

namespace {

constexpr long long listen_backlog = 4096;      // io::open_listener's listen(2)
constexpr long long tcp_buffer_max = 4LL << 20; // a ceiling that fills 10 GbE at LAN RTTs

// The third field of "4096 131072 6291456".
std::optional<long long> third(const host_files& h, const char* path) {
    auto line = h.read_line(path);
    if (!line) return std::nullopt;
    std::istringstream in(*line);
    long long a = 0, b = 0, c = 0;
    if (!(in >> a >> b >> c)) return std::nullopt;
    return c;
}

} // namespace

finding check_somaxconn(const host_files& h) {
    finding r{"somaxconn", severity::ok, "", ""};
    auto v = h.read_integer("/proc/sys/net/core/somaxconn");
    if (!v) {
        r.message =
            "net.core.somaxconn is not readable (a network namespace without /proc/sys/net?)";
        return r;
    }
    if (*v >= listen_backlog) {
        r.message = "net.core.somaxconn " + std::to_string(*v) + " (natrix asks for a backlog of " +
                    std::to_string(listen_backlog) + ")";
        return r;
    }
    r.level = severity::warn;
    r.message = "net.core.somaxconn " + std::to_string(*v) + " cuts natrix's accept backlog of " +
                std::to_string(listen_backlog) + ": connection storms see SYN drops";
    r.fix = "sysctl -w net.core.somaxconn=" + std::to_string(listen_backlog) +
            " (persist in /etc/sysctl.d/)";
    return r;
}

finding check_tcp_buffers(const host_files& h) {
    finding r{"tcp_buffers", severity::ok, "", ""};
    const auto rmem = third(h, "/proc/sys/net/ipv4/tcp_rmem");
    const auto wmem = third(h, "/proc/sys/net/ipv4/tcp_wmem");
    if (!rmem || !wmem) {
        r.message = "net.ipv4.tcp_rmem/tcp_wmem are not readable";
        return r;
    }
    const std::string seen =
        "tcp_rmem max " + std::to_string(*rmem) + ", tcp_wmem max " + std::to_string(*wmem);
    if (*rmem >= tcp_buffer_max && *wmem >= tcp_buffer_max) {
        r.message = seen;
        return r;
    }
    r.level = severity::warn;
    r.message = seen + ": below 4 MiB, fast fan-out and long links cannot fill the pipe";
    r.fix = "sysctl -w net.ipv4.tcp_rmem='4096 131072 16777216' "
            "net.ipv4.tcp_wmem='4096 16384 16777216' (persist in /etc/sysctl.d/)";
    return r;
}

finding check_busy_poll(const host_files& h, const host_facts& f, const check_settings& s) {
    finding r{"busy_poll", severity::ok, "", ""};
    const auto poll = h.read_integer("/proc/sys/net/core/busy_poll");
    const auto read = h.read_integer("/proc/sys/net/core/busy_read");
    const std::string seen = "net.core.busy_poll " +
                             (poll ? std::to_string(*poll) : std::string("n/a")) + ", busy_read " +
                             (read ? std::to_string(*read) : std::string("n/a"));
    const bool epoll = s.io_backend == "epoll" || !f.uring_ok;
    if (!epoll) {
        r.message = seen + " (they do not apply to the io_uring backend)";
        return r;
    }
    if (s.idle_strategy != "spin" || !poll || *poll > 0) {
        r.message = seen + " (epoll backend)";
        return r;
    }
    r.level = severity::warn;
    r.message = seen + ": the epoll backend with idle_strategy spin waits for interrupts instead "
                       "of polling the NIC";
    r.fix = "sysctl -w net.core.busy_poll=50 net.core.busy_read=50 (microseconds)";
    return r;
}

} // namespace natrix::host_check
