// The shard's event loop: io_uring set-up, accept, recv, send, timers and
// the idle strategy.
#include "uring_ops.hh"

#include <natrix/broker/server.hh>
#include <natrix/broker/shard.hh>
#include <natrix/auth/nkey.hh>
#include <natrix/protocol/writer.hh>
#include <natrix/runtime/cpu_topology.hh>
#include <natrix/util/log.hh>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <liburing.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace natrix::broker {

using namespace detail;

namespace {
constexpr unsigned k_sq_entries = 4096;
constexpr auto k_tick = std::chrono::milliseconds(100);
} // namespace

shard::shard(unsigned id, unsigned nshards, server& srv)
    : id_(id), nshards_(nshards), srv_(srv), cfg_(srv.config()),
      rng_(std::random_device{}() ^ (0x9e3779b97f4a7c15ull * (id + 1))) {
    const unsigned n = nshards;
    for (unsigned p = 0; p < n; ++p)
        inbox_.push_back(p == id ? nullptr : std::make_unique<rings::spsc_ring>(cfg_.ring_bytes));
    overflow_.resize(n);
    touched_.resize(n, false);
    sent_seq_.resize(n, 0);
    accounts_ = cfg_.auth ? cfg_.auth->shared_accounts() : std::make_shared<const auth::account_set>();
    for (std::size_t a = 0; a < accounts_->size(); ++a)
        spaces_.push_back(std::make_unique<account_space>());
    reply_prefix_.resize(accounts_->size());
    import_cache_.resize(accounts_->size());
}

subjects::trie_stats shard::subscription_stats() const noexcept {
    subjects::trie_stats t;
    for (const auto& sp : spaces_) {
        const subjects::trie_stats x = sp->trie.stats();
        t.subscriptions += x.subscriptions;
        t.cache_entries += x.cache_entries;
        t.inserts += x.inserts;
        t.removes += x.removes;
        t.matches += x.matches;
        t.cache_hits += x.cache_hits;
        t.cache_misses += x.cache_misses;
        t.cache_evictions += x.cache_evictions;
    }
    return t;
}

shard::~shard() {
    if (listen_fd_ >= 0) ::close(listen_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    for (auto& c : slots_)
        if (c && !c->closed && c->fd >= 0) ::close(c->fd);
}

bool shard::setup_ring() {
    io::uring_settings us;
    us.sq_entries = k_sq_entries;
    us.buffer_count = cfg_.recv_buffer_count;
    us.buffer_size = cfg_.recv_buffer_size;
    us.buffer_group = buffer_group;
    if (!uring_.open(us, &start_error_)) return false;

    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
        start_error_ = "eventfd failed";
        return false;
    }
    return true;
}

bool shard::setup_listener() {
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    // Every shard binds the same port: shard 0 first (it may pick the port
    // when 0 was asked), the others after it with SO_REUSEPORT.
    const int port = id_ == 0 ? cfg_.port : srv_.shard_at(0).bound_port();
    const std::string port_s = std::to_string(port);
    const char* host = cfg_.host.empty() || cfg_.host == "0.0.0.0" ? nullptr : cfg_.host.c_str();
    int r = getaddrinfo(host, port_s.c_str(), &hints, &res);
    if (r != 0) {
        start_error_ = "cannot resolve listen address '" + cfg_.host + "': " + gai_strerror(r);
        return false;
    }
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        if (id_ == 0 && port != 0) {
            // SO_REUSEPORT would let a second natrix (same user) share the
            // port and silently split the clients between two servers. A
            // plain bind first fails when anyone holds the port, as
            // nats-server's listen does.
            int probe = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
            if (probe >= 0) {
                int on = 1;
                setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
                const bool taken = ::bind(probe, ai->ai_addr, ai->ai_addrlen) != 0 && errno == EADDRINUSE;
                ::close(probe);
                if (taken) {
                    start_error_ = "cannot listen on " + cfg_.host + ":" + port_s + ": " + std::strerror(EADDRINUSE);
                    continue;
                }
            }
        }
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 4096) == 0) {
            listen_fd_ = fd;
            break;
        }
        start_error_ = "cannot listen on " + cfg_.host + ":" + port_s + ": " + std::strerror(errno);
        ::close(fd);
    }
    freeaddrinfo(res);
    if (listen_fd_ < 0) {
        if (start_error_.empty()) start_error_ = "cannot listen on " + cfg_.host + ":" + port_s;
        return false;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    const int bound = ss.ss_family == AF_INET6
                          ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                          : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    bound_port_.store(bound, std::memory_order_release);
    return true;
}

void shard::run(int cpu) {
    if (!runtime::pin_current_thread(cpu))
        LOG_WRN("shard %u: could not pin to cpu %d; running unpinned", id_, cpu);
    if (!setup_ring() || !setup_listener()) {
        started_.store(true, std::memory_order_release);
        return;
    }
    start_error_.clear();
    started_.store(true, std::memory_order_release);
    LOG_DBG("shard %u running on cpu %d", id_, cpu);
    arm_accept();
    arm_wakeup_read();
    next_tick_ = clock::now() + k_tick;
    loop();
    shutdown_all();
}

void shard::arm_accept() {
    io_uring_sqe* sqe = uring_.sqe();
    io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, pack(uop::accept));
    accept_armed_ = true;
}

void shard::arm_wakeup_read() {
    io_uring_sqe* sqe = uring_.sqe();
    io_uring_prep_read(sqe, wake_fd_, &wake_value_, sizeof wake_value_, 0);
    io_uring_sqe_set_data64(sqe, pack(uop::wake));
}

void shard::arm_recv(client_connection& c) {
    io_uring_sqe* sqe = uring_.sqe();
    io_uring_prep_recv_multishot(sqe, c.fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffer_group;
    io_uring_sqe_set_data64(sqe, pack(uop::recv, c.slot, c.generation));
    c.recv_armed = true;
}

void shard::wake() noexcept {
    // Sleeper pays: the flag is only set by a shard about to block, and the
    // exchange makes exactly one waker pay for the syscall.
    if (sleeping_.load(std::memory_order_relaxed) && sleeping_.exchange(false)) {
        const std::uint64_t one = 1;
        ssize_t r = ::write(wake_fd_, &one, sizeof one);
        (void)r;
    }
}

client_connection* shard::lookup(std::uint32_t slot, std::uint32_t gen) noexcept {
    if (slot >= slots_.size()) return nullptr;
    client_connection* c = slots_[slot].get();
    if (!c || c->closed || (c->generation & 0xffffff) != gen) return nullptr;
    return c;
}

void shard::return_buffer(unsigned bid) { uring_.return_buffer(bid); }

void shard::on_accept(int res, unsigned flags) {
    if (!(flags & IORING_CQE_F_MORE)) accept_armed_ = false;
    if (res < 0) {
        if (res != -ECANCELED && listening_) LOG_WRN("shard %u: accept failed: %s", id_, std::strerror(-res));
        return;
    }
    const int fd = res;
    if (!listening_) {
        ::close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    std::uint32_t slot;
    if (!free_slots_.empty()) {
        slot = free_slots_.back();
        free_slots_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(slots_.size());
        slots_.emplace_back();
    }
    protocol::parser_config pc;
    pc.max_control_line = cfg_.max_control_line;
    pc.max_payload = cfg_.max_payload;
    const std::uint32_t gen = slots_[slot] ? slots_[slot]->generation + 1 : 1;
    slots_[slot] = std::make_unique<client_connection>(pc);
    client_connection& c = *slots_[slot];
    c.fd = fd;
    c.slot = slot;
    c.generation = gen;
    // Client ids are unique server-wide and tell their shard: (cid-1) % shards.
    c.cid = 1 + id_ + next_cid_seq_++ * nshards_;
    c.start = c.last_in = c.last_activity = clock::now();
    {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
            char host[INET6_ADDRSTRLEN] = "";
            if (ss.ss_family == AF_INET) {
                auto* a = reinterpret_cast<sockaddr_in*>(&ss);
                inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
                c.port = ntohs(a->sin_port);
            } else if (ss.ss_family == AF_INET6) {
                auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
                inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
                c.port = ntohs(a->sin6_port);
            }
            c.ip = host;
        }
    }
    // Until CONNECT, server PINGs run at ping_interval; CONNECT re-arms the
    // shorter first PING (see handle_connect).
    c.next_ping = c.start + cfg_.ping_interval;
    // With auth required, the client has auth_timeout to pass a CONNECT
    // (send_info below advertises auth_required).
    if (cfg_.auth && cfg_.auth->required()) {
        c.auth_pending = true;
        c.auth_deadline = c.start + cfg_.auth_timeout;
    }
    if (cfg_.auth && cfg_.auth->uses_nonce()) c.nonce = auth::nkey::generate_nonce();

    stats_.connections.add(1);
    stats_.total_connections.add(1);
    send_info(c);
    c.admitted = srv_.admit_connection();
    if (!c.admitted) {
        LOG_WRN("%s:%d - cid:%llu - maximum connections exceeded", c.ip.c_str(), c.port,
                static_cast<unsigned long long>(c.cid));
        send_err(c, protocol::proto_error::maximum_connections_exceeded);
        close_after_flush(c);
        return;
    }
    LOG_DBG("%s:%d - cid:%llu - client connection created on shard %u", c.ip.c_str(), c.port,
            static_cast<unsigned long long>(c.cid), id_);
    arm_recv(c);
}

void shard::on_recv(std::uint32_t slot, std::uint32_t gen, int res, unsigned flags) {
    const bool has_buf = flags & IORING_CQE_F_BUFFER;
    const unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
    client_connection* c = lookup(slot, gen);
    if (c && !(flags & IORING_CQE_F_MORE)) c->recv_armed = false;
    if (res > 0 && has_buf && (paused_ || !held_.empty())) {
        // Back-pressure (or draining what was held): keep order, keep the buffer.
        held_.push_back({slot, gen, bid, static_cast<std::uint32_t>(res)});
        return;
    }
    if (res > 0 && has_buf) {
        if (c && !c->close_after_flush) {
            const char* data = uring_.buffer(bid);
            process_input(*c, std::string_view(data, static_cast<std::size_t>(res)));
        }
        return_buffer(bid);
        return;
    }
    if (has_buf) return_buffer(bid);
    if (!c) return;
    if (res == 0) {
        close_connection(*c, "Client Closed");
    } else if (res == -ENOBUFS) {
        // Every buffer is in use: re-armed at the end of this loop turn, after
        // this turn's completions have given buffers back.
    } else if (res < 0 && res != -ECANCELED) {
        close_connection(*c, "Read Error");
    }
}

void shard::submit_send(client_connection& c) {
    io_uring_sqe* sqe = uring_.sqe();
    io_uring_prep_send(sqe, c.fd, c.inflight.data() + c.inflight_off,
                       c.inflight.size() - c.inflight_off, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, pack(uop::send, c.slot, c.generation));
    c.send_pending = true;
}

void shard::on_send(std::uint32_t slot, std::uint32_t gen, int res) {
    client_connection* c = lookup(slot, gen);
    if (!c) return;
    c->send_pending = false;
    if (res < 0) {
        close_connection(*c, "Write Error");
        return;
    }
    c->inflight_off += static_cast<std::size_t>(res);
    if (c->inflight_off < c->inflight.size()) {
        submit_send(*c); // short write: the rest of the same bytes
        return;
    }
    c->inflight.clear();
    c->inflight_off = 0;
    if (!c->out.empty()) {
        if (!c->dirty) {
            c->dirty = true;
            dirty_.push_back(c);
        }
    } else if (c->close_after_flush) {
        close_connection(*c, "Closed after error");
    }
}

// One send per touched connection per loop turn: everything appended to
// `out` during this turn goes in one syscall-free SQE.
void shard::flush_connections() {
    for (client_connection* c : dirty_) {
        c->dirty = false;
        if (c->closed || c->send_pending) continue;
        if (c->out.empty()) {
            if (c->close_after_flush) close_connection(*c, "Closed after error");
            continue;
        }
        c->inflight.swap(c->out);
        c->out.clear();
        c->inflight_off = 0;
        c->send_started = clock::now();
        if (c->sample_start != clock::time_point{}) {
            latency_.record(static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(c->send_started - c->sample_start)
                    .count()));
            c->sample_start = {};
        }
        submit_send(*c);
    }
    dirty_.clear();
}

void shard::close_connection(client_connection& c, const char* reason, bool abort) {
    if (c.closed) return;
    c.closed = true;
    LOG_DBG("%s:%d - cid:%llu - client connection closed: %s", c.ip.c_str(), c.port,
            static_cast<unsigned long long>(c.cid), reason);
    // Subscriptions go first so interest deltas reach the other shards.
    while (!c.subs.empty()) remove_subscription(c, c.subs.begin()->second.get());
    if (c.waiting_barrier) {
        std::erase(barrier_waiters_, &c);
        c.waiting_barrier = false;
    }
    if (c.recv_armed || c.send_pending) {
        io_uring_sqe* sqe = uring_.sqe();
        io_uring_prep_cancel_fd(sqe, c.fd, IORING_ASYNC_CANCEL_ALL);
        io_uring_sqe_set_data64(sqe, pack(uop::cancel));
        io_uring_submit(uring_.get()); // the cancel must reach the kernel before the close
    }
    if (abort) {
        // Drop what the kernel still holds for this client (a slow consumer
        // can have megabytes queued): RST now, memory back now.
        linger l{1, 0};
        setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    } else {
        ::shutdown(c.fd, SHUT_RDWR);
    }
    ::close(c.fd);
    c.fd = -1;
    if (c.admitted) srv_.release_connection();
    stats_.connections.sub(1);
    // The slot is reused with a new generation; stale completions are ignored.
    c.out.clear();
    c.out.shrink_to_fit();
    // Freed at the end of the loop turn: dirty_ may still point at it.
    closed_slots_.push_back(c.slot);
}

void shard::on_tick(clock::time_point now) {
    if (!service_replies_.empty() && now >= next_reply_sweep_) {
        next_reply_sweep_ = now + std::chrono::seconds(1);
        expire_service_replies(now);
    }
    for (auto& up : slots_) {
        client_connection* c = up.get();
        if (!c || c->closed) continue;
        // Slow consumer: a write that has not completed within write_deadline.
        if (c->send_pending && now - c->send_started > cfg_.write_deadline) {
            LOG_WRN("%s:%d - cid:%llu - Slow Consumer Detected: WriteDeadline of %llds exceeded "
                    "with %zu bytes pending",
                    c->ip.c_str(), c->port, static_cast<unsigned long long>(c->cid),
                    static_cast<long long>(
                        std::chrono::duration_cast<std::chrono::seconds>(cfg_.write_deadline).count()),
                    c->pending_bytes());
            stats_.slow_consumers.add(1);
            close_connection(*c, "Slow Consumer (Write Deadline)", true);
            continue;
        }
        if (c->auth_pending && !c->close_after_flush && now >= c->auth_deadline) {
            LOG_WRN("%s:%d - cid:%llu - authentication timeout", c->ip.c_str(), c->port,
                    static_cast<unsigned long long>(c->cid));
            send_err(*c, protocol::proto_error::authentication_timeout);
            close_after_flush(*c);
            continue;
        }
        if (c->close_after_flush || now < c->next_ping) continue;
        c->next_ping = now + cfg_.ping_interval;
        // Recent traffic from the client proves it alive; skip the PING once
        // an RTT has been measured (nats-server's processPingTimer).
        if (c->rtt_measured && now - c->last_in < cfg_.ping_interval) continue;
        if (c->pings_out + 1 > cfg_.ping_max) {
            stats_.stale_connections.add(1);
            LOG_DBG("cid:%llu - Stale Client Connection - Closing",
                    static_cast<unsigned long long>(c->cid));
            send_err(*c, protocol::proto_error::stale_connection);
            close_after_flush(*c);
            continue;
        }
        ++c->pings_out;
        if (c->ping_sent == clock::time_point{}) c->ping_sent = now;
        append(*c, protocol::k_ping);
    }
}

void shard::loop() {
    io_uring* ring = uring_.get();
    auto idle_since = clock::now();
    bool idle_timing = false;
    while (!srv_.stopping()) {
        bool work = false;
        // 0. submit last turn's SQEs and, with DEFER_TASKRUN, run the
        // deferred completions now: without GETEVENTS they would only show
        // up once we sleep, adding the whole spin time to every receive.
        io_uring_submit_and_get_events(ring);
        // 1. completions, in one batch
        io_uring_cqe* cqe;
        unsigned head, n = 0;
        io_uring_for_each_cqe(ring, head, cqe) {
            ++n;
            const std::uint64_t ud = io_uring_cqe_get_data64(cqe);
            switch (op_of(ud)) {
            case uop::accept: on_accept(cqe->res, cqe->flags); break;
            case uop::recv: on_recv(slot_of(ud), gen_of(ud), cqe->res, cqe->flags); break;
            case uop::send: on_send(slot_of(ud), gen_of(ud), cqe->res); break;
            case uop::wake: arm_wakeup_read(); break;
            case uop::cancel: break;
            }
        }
        if (n) {
            io_uring_cq_advance(ring, n);
            work = true;
        }
        // 2. messages and interest from other shards
        if (drain_inboxes()) work = true;
        // 3. our records to other shards, then one send per touched connection
        flush_rings();
        // Input held during back-pressure goes first once the overflow drained.
        while (!paused_ && !held_.empty()) {
            const held_input h = held_.front();
            held_.pop_front();
            if (client_connection* hc = lookup(h.slot, h.gen); hc && !hc->close_after_flush)
                process_input(*hc, std::string_view(uring_.buffer(h.bid), h.len));
            return_buffer(h.bid);
            flush_rings();
            work = true;
        }
        if (!barrier_waiters_.empty()) {
            resume_barrier_waiters();
            flush_rings();
            work = true;
        }
        flush_connections();
        if (control_pending_.load(std::memory_order_acquire)) {
            run_control();
            flush_connections();
            work = true;
        }
        free_slots_.insert(free_slots_.end(), closed_slots_.begin(), closed_slots_.end());
        closed_slots_.clear();
        if (!paused_)
            for (auto& c : slots_)
                if (c && !c->closed && !c->recv_armed && c->admitted && !c->close_after_flush)
                    arm_recv(*c);
        if (listening_ && !accept_armed_) arm_accept();

        const auto now = clock::now();
        if (now >= next_tick_) {
            on_tick(now);
            if (lame_duck_) lame_duck_tick(now);
            next_tick_ = now + k_tick;
            flush_connections();
        }

        if (work) {
            idle_timing = false;
            continue;
        }
        if (!idle_timing) {
            idle_timing = true;
            idle_since = now;
        }
        const bool may_sleep = cfg_.idle == idle_strategy::sleep ||
                               (cfg_.idle == idle_strategy::backoff && now - idle_since > cfg_.spin);
        if (!may_sleep) continue;
        // Sleeper pays: announce, re-check the rings (a producer may have
        // pushed before seeing the flag), then block in the kernel.
        sleeping_.store(true, std::memory_order_seq_cst);
        if (rings_pending() || srv_.stopping() || control_pending_.load(std::memory_order_seq_cst)) {
            sleeping_.store(false, std::memory_order_relaxed);
            continue;
        }
        auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(next_tick_ - now);
        if (wait.count() < 0) wait = std::chrono::nanoseconds(0);
        __kernel_timespec ts{};
        ts.tv_sec = static_cast<long long>(wait.count() / 1000000000);
        ts.tv_nsec = static_cast<long long>(wait.count() % 1000000000);
        io_uring_cqe* first = nullptr;
        io_uring_submit_and_wait_timeout(ring, &first, 1, &ts, nullptr);
        sleeping_.store(false, std::memory_order_relaxed);
        idle_timing = false;
    }
}

void shard::shutdown_all() {
    listening_ = false;
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        listen_fd_ = -1;
    }
    // Graceful stop: give pending output up to a second to reach clients.
    flush_connections();
    io_uring_submit(uring_.get());
    const auto deadline = clock::now() + std::chrono::seconds(1);
    for (;;) {
        bool pending = false;
        for (auto& c : slots_)
            if (c && !c->closed && (c->send_pending || !c->out.empty())) pending = true;
        if (!pending || clock::now() > deadline) break;
        __kernel_timespec ts{0, 20 * 1000 * 1000};
        io_uring_cqe* cqe = nullptr;
        io_uring_submit_and_wait_timeout(uring_.get(), &cqe, 1, &ts, nullptr);
        unsigned head, n = 0;
        io_uring_for_each_cqe(uring_.get(), head, cqe) {
            ++n;
            const std::uint64_t ud = io_uring_cqe_get_data64(cqe);
            if (op_of(ud) == uop::send) on_send(slot_of(ud), gen_of(ud), cqe->res);
            else if (op_of(ud) == uop::recv && (cqe->flags & IORING_CQE_F_BUFFER))
                return_buffer(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        }
        io_uring_cq_advance(uring_.get(), n);
        flush_connections();
        io_uring_submit(uring_.get());
    }
    for (auto& c : slots_)
        if (c && !c->closed) close_connection(*c, "Server Shutdown");
}

void shard::post(std::function<void(shard&)> fn) {
    {
        std::lock_guard lock(control_mu_);
        control_.push_back(std::move(fn));
    }
    control_pending_.store(true, std::memory_order_seq_cst);
    wake();
}

void shard::run_control() {
    std::vector<std::function<void(shard&)>> tasks;
    {
        std::lock_guard lock(control_mu_);
        tasks.swap(control_);
        control_pending_.store(false, std::memory_order_relaxed);
    }
    for (auto& t : tasks) t(*this);
}

void shard::apply_config(const broker_config& n) {
    // Listener, shard count, cpus and buffer sizes are fixed for the life of
    // the process; everything else applies to new work right away.
    cfg_.server_name = n.server_name;
    cfg_.max_payload = n.max_payload;
    cfg_.max_pending = n.max_pending;
    cfg_.max_connections = n.max_connections;
    cfg_.max_subscriptions = n.max_subscriptions;
    cfg_.max_control_line = n.max_control_line;
    cfg_.ping_interval = n.ping_interval;
    cfg_.ping_max = n.ping_max;
    cfg_.write_deadline = n.write_deadline;
    cfg_.idle = n.idle;
    cfg_.spin = n.spin;
    cfg_.auth_timeout = n.auth_timeout;
    const bool auth_changed = n.auth != cfg_.auth;
    std::shared_ptr<const auth::authenticator> previous = cfg_.auth;
    if (auth_changed) {
        cfg_.auth = n.auth;
        // Same accounts (server::reload checks), maybe other imports/exports.
        if (cfg_.auth) accounts_ = cfg_.auth->shared_accounts();
        for (auto& m : import_cache_) m.clear(); // the routes may have changed
    }
    // Existing clients take the new limits too (nats-server's reload does).
    for (auto& c : slots_) {
        if (!c || c->closed) continue;
        c->parser.set_max_payload(n.max_payload);
        c->parser.set_max_control_line(n.max_control_line);
        if (auth_changed) reauthorize(*c, previous.get());
    }
}

std::size_t shard::ring_bytes_in_use() const noexcept {
    std::size_t n = 0;
    for (unsigned p = 0; p < nshards_; ++p)
        if (p != id_) n += inbox_[p]->used_bytes();
    return n;
}

std::size_t shard::open_connections() const noexcept {
    std::size_t n = 0;
    for (const auto& c : slots_)
        if (c && !c->closed) ++n;
    return n;
}

void shard::enter_lame_duck(clock::time_point close_from, clock::time_point close_until) {
    if (lame_duck_) return;
    lame_duck_ = true;
    ldm_close_from_ = close_from;
    ldm_close_until_ = close_until;
    listening_ = false;
    if (accept_armed_) {
        io_uring_sqe* sqe = uring_.sqe();
        io_uring_prep_cancel64(sqe, pack(uop::accept), 0);
        io_uring_sqe_set_data64(sqe, pack(uop::cancel));
    }
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        listen_fd_ = -1;
    }
    // Clients that take async INFO learn to reconnect elsewhere.
    for (auto& c : slots_)
        if (c && !c->closed && c->connect_received && c->opts.protocol >= 1) send_info(*c, true);
}

// Closes clients spread evenly over [close_from, close_until].
void shard::lame_duck_tick(clock::time_point now) {
    if (now < ldm_close_from_) return;
    const std::size_t open = open_connections();
    if (open == 0) return;
    std::size_t to_close = open;
    if (now < ldm_close_until_) {
        const double left = std::chrono::duration<double>(ldm_close_until_ - now).count();
        const double tick = std::chrono::duration<double>(k_tick).count();
        to_close = static_cast<std::size_t>(static_cast<double>(open) * tick / (left + tick)) + 1;
    }
    for (auto& c : slots_) {
        if (!to_close) break;
        if (c && !c->closed) {
            close_connection(*c, "Server Shutdown (lame duck)");
            --to_close;
        }
    }
}

} // namespace natrix::broker
