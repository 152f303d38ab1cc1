// tcp-bulk and tcp-pingpong: two threads of this process talk to each other over loopback TCP,
// with no broker in between. They give this machine's ceiling for a broker's throughput (one
// stream, large writes) and floor for its latency (one small message each way), so broker
// figures can be read as a fraction of what the kernel's loopback path allows.
#include <cerrno>
#include <cstring>
#include <memory>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <natrix/bench_client/bench_error.hh>
#include <natrix/bench_client/clock.hh>
#include <natrix/bench_client/scenarios.hh>
#include <natrix/bench_client/worker_group.hh>

namespace natrix::bench_client {

namespace {

struct fd_guard {
    int fd = -1;
    explicit fd_guard(int f = -1)
        : fd(f) {}
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;
};

void check(bool ok, const char* what) {
    if (!ok) throw bench_error(std::string(what) + ": " + std::strerror(errno));
}

// A connected pair of loopback TCP sockets.
void loopback_pair(fd_guard& a, fd_guard& b) {
    fd_guard listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    check(listener.fd >= 0, "socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check(::bind(listener.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "bind");
    check(::listen(listener.fd, 1) == 0, "listen");
    socklen_t len = sizeof addr;
    check(::getsockname(listener.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0, "getsockname");
    a.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    check(a.fd >= 0, "socket");
    check(::connect(a.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "connect");
    b.fd = ::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
    check(b.fd >= 0, "accept");
    int one = 1;
    setsockopt(a.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(b.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{0, 100000};
    for (int fd : {a.fd, b.fd}) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
}

// Returns bytes moved, or 0 on a receive timeout; throws on error or close.
std::size_t io_once(bool sending, int fd, char* buf, std::size_t n) {
    while (true) {
        ssize_t r = sending ? ::send(fd, buf, n, MSG_NOSIGNAL) : ::recv(fd, buf, n, 0);
        if (r > 0) return static_cast<std::size_t>(r);
        if (r == 0) throw bench_error("peer closed");
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        throw bench_error(std::string(sending ? "send" : "recv") + ": " + std::strerror(errno));
    }
}

void run_bulk(const bench_options& o, std::atomic<bool>& abort, run_result& r) {
    fd_guard a, b;
    loopback_pair(a, b);
    constexpr std::size_t chunk = 256 << 10;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> received{0};
    std::uint64_t measure_ns = 0, end_ns = 0, measured = 0;
    std::atomic<bool> go{false};
    const std::uint64_t warm_ns = static_cast<std::uint64_t>(o.warmup_s * 1e9);
    const std::uint64_t run_ns = static_cast<std::uint64_t>(o.run_seconds() * 1e9);
    const std::uint64_t byte_limit = o.count ? o.count * std::max<std::uint64_t>(o.size, 1) : 0;
    worker_group workers(o.cpus, abort);
    workers.spawn("tcp reader", [&] {
        std::unique_ptr<char[]> buf(new char[chunk]);
        while (!go.load()) sleep_for_ns(100000);
        std::uint64_t total = 0, at_measure = 0;
        bool measuring = false;
        while (!stop.load(std::memory_order_relaxed) && !abort.load(std::memory_order_relaxed)) {
            total += io_once(false, b.fd, buf.get(), chunk);
            received.store(total, std::memory_order_relaxed);
            const std::uint64_t now = now_ns();
            if (!measuring && now >= measure_ns) {
                measuring = true;
                at_measure = total;
            }
            if ((now >= measure_ns + run_ns) || (byte_limit && total >= byte_limit)) {
                end_ns = now;
                stop.store(true);
            }
        }
        measured = total - at_measure;
    });
    workers.spawn("tcp writer", [&] {
        std::unique_ptr<char[]> buf(new char[chunk]);
        std::memset(buf.get(), 'x', chunk);
        while (!go.load()) sleep_for_ns(100000);
        while (!stop.load(std::memory_order_relaxed) && !abort.load(std::memory_order_relaxed))
            io_once(true, a.fd, buf.get(), chunk);
    });
    measure_ns = now_ns() + warm_ns;
    go.store(true);
    progress_line progress(o.progress && o.run_seconds() >= 2, "bytes", "",
                           [&] { return std::make_pair(received.load(), std::uint64_t{0}); });
    workers.join();
    progress.stop();
    r.errors = workers.errors();
    r.config.emplace_back("stream", "one loopback TCP connection, 256 KiB writes and reads");
    r.config.emplace_back("pinning", workers.placement());
    const double secs = end_ns > measure_ns ? static_cast<double>(end_ns - measure_ns) / 1e9 : 0;
    r.has_deliver = true;
    r.deliver.bytes = r.deliver.wire_bytes = measured;
    r.deliver.msgs = measured / std::max<std::uint64_t>(o.size, 1);
    r.deliver.seconds = secs;
    r.figure("bytes_per_s", r.deliver.bytes_per_s());
    r.figure("gbit_per_s", r.deliver.bytes_per_s() * 8 / 1e9);
    r.notes.push_back("deliver msgs = bytes / --size, the message rate this stream could carry "
                      "with no protocol overhead");
}

void run_pingpong(const bench_options& o, std::atomic<bool>& abort, run_result& r) {
    fd_guard a, b;
    loopback_pair(a, b);
    const std::size_t size = std::max<std::size_t>(o.size, 1);
    std::atomic<bool> stop{false};
    std::atomic<bool> go{false};
    std::atomic<std::uint64_t> trips{0};
    latency_histogram rtt;
    std::uint64_t measure_ns = 0, end_ns = 0, measured = 0;
    const std::uint64_t run_ns = static_cast<std::uint64_t>(o.run_seconds() * 1e9);
    worker_group workers(o.cpus, abort);
    auto read_full = [&](int fd, char* buf) {
        std::size_t got = 0;
        while (got < size) {
            if (stop.load(std::memory_order_relaxed) || abort.load(std::memory_order_relaxed))
                return false;
            got += io_once(false, fd, buf + got, size - got);
        }
        return true;
    };
    auto write_full = [&](int fd, char* buf) {
        std::size_t put = 0;
        while (put < size) put += io_once(true, fd, buf + put, size - put);
    };
    workers.spawn("tcp echo", [&] {
        std::unique_ptr<char[]> buf(new char[size]);
        while (!go.load()) sleep_for_ns(100000);
        while (read_full(b.fd, buf.get())) write_full(b.fd, buf.get());
    });
    workers.spawn("tcp pinger", [&] {
        std::unique_ptr<char[]> buf(new char[size]);
        std::memset(buf.get(), 'x', size);
        while (!go.load()) sleep_for_ns(100000);
        std::uint64_t n = 0;
        while (!abort.load(std::memory_order_relaxed)) {
            const std::uint64_t t0 = now_ns();
            if (t0 >= measure_ns + run_ns || (o.count && n >= o.count)) break;
            write_full(a.fd, buf.get());
            if (!read_full(a.fd, buf.get())) break;
            const std::uint64_t t1 = now_ns();
            if (t0 >= measure_ns) {
                rtt.record(t1 - t0);
                ++measured;
            }
            trips.store(++n, std::memory_order_relaxed);
        }
        end_ns = now_ns();
        stop.store(true);
    });
    measure_ns = now_ns() + static_cast<std::uint64_t>(o.warmup_s * 1e9);
    go.store(true);
    progress_line progress(o.progress && o.run_seconds() >= 2, "trips", "",
                           [&] { return std::make_pair(trips.load(), std::uint64_t{0}); });
    workers.join();
    progress.stop();
    r.errors = workers.errors();
    r.config.emplace_back("exchange", std::to_string(size) + " B each way over loopback TCP");
    r.config.emplace_back("pinning", workers.placement());
    r.latency = std::make_unique<latency_histogram>(rtt);
    r.latency_label = "TCP round trip";
    const double secs = end_ns > measure_ns ? static_cast<double>(end_ns - measure_ns) / 1e9 : 0;
    r.figure("round_trips_per_s", secs > 0 ? static_cast<double>(measured) / secs : 0);
}

} // namespace

run_result run_tcp(const bench_options& o, std::atomic<bool>& abort) {
    run_result r;
    r.scenario = std::string(scenario_name(o.kind));
    const std::uint64_t t0 = now_ns();
    try {
        if (o.kind == scenario::tcp_bulk)
            run_bulk(o, abort, r);
        else
            run_pingpong(o, abort, r);
    } catch (const bench_error& e) {
        r.errors.push_back(e.what());
    }
    r.elapsed_s = static_cast<double>(now_ns() - t0) / 1e9;
    return r;
}

} // namespace natrix::bench_client
