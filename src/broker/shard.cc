// A shard's wiring: backend events to sessions, ring records to the router,
// and the end of each turn (flush output, close what must close).
#include <random>

#include <unistd.h>

#include <natrix/broker/gateway_hash.hh>
#include <natrix/broker/memory_trim.hh>
#include <natrix/broker/session_actions.hh>
#include <natrix/broker/shard.hh>
#include <natrix/io/listener.hh>
#include <natrix/protocol/writer.hh>
#include <natrix/runtime/cpu_topology.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

namespace {
constexpr unsigned k_sq_entries = 4096;

std::uint64_t seed_for(unsigned id) {
    return std::random_device{}() ^ (0x9e3779b97f4a7c15ull * (id + 1));
}
} // namespace

shard::shard(unsigned id, unsigned nshards, const broker_config& cfg, shared env)
    : id_(id)
    , nshards_(nshards)
    , cfg_(cfg)
    , env_(env)
    , loop_(wakeup_)
    , mailbox_(id, nshards, cfg.ring_bytes, wakeup_, stats_)
    , flow_(id, sessions_, mailbox_, stats_)
    , delivery_(id, nshards, sessions_, mailbox_, flow_, stats_)
    , router_(id, nshards, cfg.auth ? cfg.auth->shared_accounts() : nullptr, delivery_,
              seed_for(id))
    , protocol_(client_protocol::deps{id, nshards, &cfg_, &sessions_, &router_, &mailbox_, &stats_,
                                      env.auth_jobs, &loop_})
    , routes_(id, nshards, cfg_, sessions_, router_, flow_, stats_)
    , teardown_(router_, sessions_, stats_) {
    if (env.cluster) {
        routes_.set_events(env.cluster);
        delivery_.attach_routes(&routes_);
        router_.enable_cluster();
    }
    if (env.gateways) {
        routes_.set_gateway_events(env.gateways);
        delivery_.attach_routes(&routes_);
        delivery_.map_gateway_replies();
        router_.enable_gateways(gateway_reply_prefix(cfg.gateway.name, cfg.server_id));
    }
    delivery_.set_max_pending(cfg_.max_pending);
    flow_.configure(cfg_.slow_consumer, cfg_.max_pending, cfg_.stall_timeout);
    loop_.set_idle(cfg_.idle, cfg_.spin);
}

shard::~shard() {
    if (listen_fd_ >= 0) ::close(listen_fd_);
}

bool shard::open_backend() {
    backend_ = cfg_.io == io_mode::epoll ? io::make_epoll_backend() : io::make_uring_backend();
    io::backend_settings bs;
    bs.sq_entries = k_sq_entries;
    bs.buffer_count = cfg_.recv_buffer_count;
    bs.buffer_size = cfg_.recv_buffer_size;
    flow_.attach(backend_.get());
    return backend_->open(bs, &start_error_);
}

void shard::run(int cpu, int port) {
    if (!runtime::pin_current_thread(cpu))
        LOG_WRN("shard %u: could not pin to cpu %d; running unpinned", id_, cpu);
    if (!open_backend()) {
        started_.store(true, std::memory_order_release);
        return;
    }
    io::listen_result l = io::open_listener(cfg_.host, port, id_ == 0);
    if (l.fd < 0) {
        start_error_ = std::move(l.error);
        started_.store(true, std::memory_order_release);
        return;
    }
    listen_fd_ = l.fd;
    bound_port_.store(l.port, std::memory_order_release);
    protocol_.set_port(id_ == 0 ? l.port : port);
    backend_->listen(listen_fd_);
    started_.store(true, std::memory_order_release);
    LOG_DBG("shard %u running on cpu %d (%s)", id_, cpu, io::to_string(backend_->kind()));
    loop_.run(*backend_, *this, *env_.stopping);
    shutdown_all();
}

void shard::post(std::function<void(shard&)> fn) {
    loop_.post([this, fn = std::move(fn)] { fn(*this); });
}

// ---- backend events ----

std::uint64_t shard::on_accepted(io::conn_id id, const io::peer_address& peer) {
    protocol::parser_config pc;
    pc.max_control_line = cfg_.max_control_line;
    pc.max_payload = cfg_.max_payload;
    session& s = sessions_.add(pc);
    s.io = id;
    // Client ids are unique server-wide and tell their shard: (cid-1) % shards.
    s.cid = 1 + id_ + next_cid_seq_++ * nshards_;
    s.ip = peer.ip;
    s.port = peer.port;
    s.start = s.last_in = s.last_activity = clock::now();
    const std::uint64_t token = session_table::token_of(s);
    if (shutting_down_ || !listening_) {
        // Accepted as the listener went away: nothing to serve it with.
        s.state = session_state::closed;
        backend_->close(id, false);
        sessions_.retire(s);
        return token;
    }
    stats_.connections.add(1);
    stats_.total_connections.add(1);
    if (cfg_.tls)
        tls_accept(s);
    else
        protocol_.greet(s);
    s.admitted = env_.connections->admit();
    if (!s.admitted) {
        LOG_WRN("%s:%d - cid:%llu - maximum connections exceeded", s.ip.c_str(), s.port,
                static_cast<unsigned long long>(s.cid));
        send_err(sessions_, s, protocol::proto_error::maximum_connections_exceeded);
        sessions_.close_after_flush(s);
        return token;
    }
    LOG_DBG("%s:%d - cid:%llu - client connection created on shard %u", s.ip.c_str(), s.port,
            static_cast<unsigned long long>(s.cid), id_);
    flow_.admit(s);
    return token;
}

io::recv_action shard::on_received(std::uint64_t token, std::string_view data, io::buffer_ref buf) {
    if (shutting_down_) return io::recv_action::done;
    if (mailbox_.congested() || !held_.empty()) {
        // Back-pressure (or draining what was held): keep order, keep the buffer.
        held_.push_back({token, data, buf});
        return io::recv_action::hold;
    }
    if (session* s = sessions_.find(token); s && s->is_open()) feed(*s, data);
    return io::recv_action::done;
}

void shard::feed(session& s, std::string_view data) {
    const bool yielded = s.input.yielded;
    if (s.tls)
        tls_input(s, data); // then on as plaintext to the route or client protocol
    else if (s.is_route())
        routes_.on_input(s, data);
    else
        protocol_.on_input(s, data);
    // Out of its share this turn: no more reading until it catches up, so
    // what it parks stays bounded.
    if (s.input.yielded && !yielded) flow_.update_reading(s);
}

void shard::on_sent(std::uint64_t token, std::size_t sent, bool failed) {
    session* s = sessions_.find(token);
    if (!s) return;
    outbound& o = s->out;
    o.send_pending = false;
    if (failed) {
        close_session(*s, "Write Error");
        return;
    }
    o.inflight_off += sent;
    const clock::time_point now = clock::now();
    flow_.sent(*s, sent, now);
    if (o.inflight_off < o.inflight.size()) {
        // Short write: the rest of the same bytes. write_deadline applies to
        // each write, as nats-server sets it per write: progress restarts it.
        if (sent) o.send_started = now;
        start_send(*s);
        return;
    }
    o.inflight.clear();
    o.inflight_off = 0;
    if (!o.queued.empty())
        sessions_.mark_for_flush(*s);
    else if (s->state == session_state::closing)
        close_session(*s, s->close_reason);
}

void shard::on_peer_closed(std::uint64_t token, const char* error) {
    session* s = sessions_.find(token);
    if (!s) return;
    if (error) {
        close_session(*s, "Read Error");
        return;
    }
    if (!held_.empty()) {
        held_.push_back({token, {}, {}, true}); // after the bytes held before it
        return;
    }
    if (s->is_route()) {
        close_session(*s, "Remote closed");
        return;
    }
    if (s->is_open()) protocol_.peer_closed(*s);
}

// ---- the turn ----

bool shard::turn() {
    protocol_.begin_turn();
    routes_.begin_turn();
    bool work = teardown_.run();
    // Clients and routes that used up their share last turn go on first,
    // then new input.
    if (protocol_.has_yielded()) {
        for (session* s : protocol_.resume_yielded())
            if (!s->input.yielded) flow_.update_reading(*s);
        work = true;
    }
    if (routes_.has_yielded()) {
        for (session* s : routes_.resume_yielded())
            if (!s->input.yielded) flow_.update_reading(*s);
        work = true;
    }
    work = backend_->poll(*this) > 0 || work;
    // Messages and interest from other shards, for at most the work budget
    // (a peer's million interest deltas would otherwise hold this shard).
    const clock::time_point drain_until = clock::now() + loop::work_budget;
    while (mailbox_.drain(
        [this](std::uint32_t type, std::string_view body) {
            if (type == ring_record::flow_type)
                flow_.on_record(body);
            else
                router_.on_record(type, body, sampler_.take() ? clock::now() : clock::time_point{});
        },
        drain_batch)) {
        work = true;
        if (clock::now() >= drain_until) break;
    }
    if (router_.remote_interest_drops() - merged_drops_ >= merge_after_drops) {
        merged_drops_ = router_.remote_interest_drops();
        merge_freed_chunks();
    }
    // Our records to other shards, then input held back while they were full.
    mailbox_.flush();
    if (!held_.empty() && !mailbox_.congested()) {
        process_held_input();
        work = true;
    }
    flow_.set_shard_paused(mailbox_.congested());
    if (protocol_.has_barrier_waiters()) {
        protocol_.resume_barrier_waiters();
        mailbox_.flush();
        work = true;
    }
    flush_sessions();
    // Closes in flush_sessions push records too (interest, flow resumes).
    mailbox_.flush();
    sessions_.end_turn();
    return work;
}

void shard::process_held_input() {
    while (!mailbox_.congested() && !held_.empty()) {
        const held_input h = held_.front();
        held_.pop_front();
        session* s = sessions_.find(h.token);
        if (h.eof) {
            if (s && s->is_route())
                close_session(*s, "Remote closed");
            else if (s && s->is_open())
                protocol_.peer_closed(*s);
            continue;
        }
        if (s && s->is_open()) feed(*s, h.data);
        backend_->release(h.buf);
        mailbox_.flush();
    }
}

// One send per touched session per turn: everything queued this turn goes
// out together. Slow consumers cut during the turn are closed first.
void shard::flush_sessions() {
    for (session* s : delivery_.take_cut())
        close_session(*s, "Slow Consumer (Pending Bytes)", true);
    for (session* s : sessions_.take_flush_list()) {
        s->out.in_flush_list = false;
        if (s->is_closed() || s->out.send_pending) continue;
        if (s->out.queued.empty() && !(s->tls && !s->tls->raw_out.empty())) {
            if (s->state == session_state::closing) close_session(*s, s->close_reason);
            continue;
        }
        outbound& o = s->out;
        if (s->tls) {
            tls_seal(*s); // records into inflight
            if (o.inflight.empty()) continue;
        } else {
            o.inflight.swap(o.queued);
            o.queued.clear();
        }
        o.inflight_off = 0;
        o.send_started = clock::now();
        if (o.sample_start != clock::time_point{}) {
            latency_.record(
                static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                               o.send_started - o.sample_start)
                                               .count()));
            o.sample_start = {};
        }
        start_send(*s);
    }
}

void shard::start_send(session& s) {
    s.out.send_pending = true;
    backend_->send(s.io, s.out.inflight.data() + s.out.inflight_off,
                   s.out.inflight.size() - s.out.inflight_off);
}

void shard::close_session(session& s, const char* reason, bool abort) {
    if (s.is_closed()) return;
    s.state = session_state::closed;
    if (s.is_route()) {
        // What it told us goes now; the manager redials if it should.
        routes_.release(s, reason);
    } else {
        LOG_DBG("%s:%d - cid:%llu - client connection closed: %s", s.ip.c_str(), s.port,
                static_cast<unsigned long long>(s.cid), reason);
        // The publishers it paused go on; its subscriptions leave in slices
        // (subscription_teardown), and retire the slot when the last has gone.
        protocol_.release(s);
    }
    flow_.release(s);
    backend_->close(s.io, abort);
    if (!s.is_route()) {
        if (s.admitted) env_.connections->release();
        stats_.connections.sub(1);
    }
    s.out.queued.clear();
    s.out.queued.shrink_to_fit();
    // The slot is reused with a new generation once retired, at the end of a
    // turn; the bytes in `inflight` stay until then (the kernel may still be
    // reading).
    teardown_.add(s);
}

void shard::tick(clock::time_point now) {
    if (router_.has_pending_replies() && now >= next_reply_sweep_) {
        next_reply_sweep_ = now + std::chrono::seconds(1);
        router_.expire(now);
    }
    sessions_.for_each([&](session& s) {
        // Output buffers grow to a burst's size; an idle session gives them
        // back (a route or a fan-out subscriber would otherwise keep tens of MB).
        outbound& o = s.out;
        if (!o.send_pending && o.queued.empty() &&
            (o.queued.capacity() > idle_buffer_keep || o.inflight.capacity() > idle_buffer_keep)) {
            note_released_buffers(o.queued.capacity() + o.inflight.capacity());
            std::string().swap(o.queued);
            std::string().swap(o.inflight);
            o.inflight_off = 0;
        }
        // Slow consumer: a write that has not completed within write_deadline.
        if (s.out.send_pending && now - s.out.send_started > cfg_.write_deadline) {
            LOG_WRN(
                "%s:%d - cid:%llu - Slow Consumer Detected: WriteDeadline of %llds exceeded with "
                "%zu bytes "
                "pending",
                s.ip.c_str(), s.port, static_cast<unsigned long long>(s.cid),
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::seconds>(cfg_.write_deadline).count()),
                s.out.pending());
            stats_.slow_consumers.add(1);
            stats_.cut_write_deadline.add(1);
            close_session(s, "Slow Consumer (Write Deadline)", true);
            return;
        }
        if (s.tls && s.tls->at != tls_link::phase::established && tls_tick(s, now)) return;
        if (s.is_route()) { // never cut for a burst: its publishers wait (decision 0013)
            if (routes_.tick(s, now, flow_.reading(s))) close_session(s, "Stale Connection");
            return;
        }
        // Throttle: over the watermark and reading nothing. Its publishers
        // wait for it, so it is cut well before write_deadline.
        if (flow_.stalled(s, now)) {
            LOG_WRN("%s:%d - cid:%llu - Slow Consumer Detected: no progress for %lldms with %zu "
                    "bytes pending",
                    s.ip.c_str(), s.port, static_cast<unsigned long long>(s.cid),
                    static_cast<long long>(
                        std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.stall_timeout)
                            .count()),
                    s.out.pending());
            stats_.slow_consumers.add(1);
            stats_.cut_stalled.add(1);
            close_session(s, "Slow Consumer (Stalled)", true);
            return;
        }
        protocol_.tick(s, now, flow_.reading(s));
    });
    if (lame_duck_) lame_duck_tick(now);
    memory_trim_tick(now, stats_);
    flush_sessions();
    mailbox_.flush();
    sessions_.end_turn();
}

// Closes clients spread evenly over [close_from, close_until].
void shard::lame_duck_tick(clock::time_point now) {
    if (now < ldm_close_from_) return;
    const std::size_t open = sessions_.open_count();
    if (open == 0) return;
    std::size_t to_close = open;
    if (now < ldm_close_until_) {
        const double left = std::chrono::duration<double>(ldm_close_until_ - now).count();
        const double tick = std::chrono::duration<double>(loop::tick_interval).count();
        to_close = static_cast<std::size_t>(static_cast<double>(open) * tick / (left + tick)) + 1;
    }
    sessions_.for_each([&](session& s) {
        if (!to_close || s.is_route()) return;
        close_session(s, "Server Shutdown (lame duck)");
        --to_close;
    });
}

void shard::stop_accepting() {
    listening_ = false;
    backend_->stop_listening();
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        listen_fd_ = -1;
    }
}

void shard::shutdown_all() {
    shutting_down_ = true;
    stop_accepting();
    // Graceful stop: give pending output up to a second to reach clients.
    flush_sessions();
    const auto deadline = clock::now() + std::chrono::seconds(1);
    for (;;) {
        bool pending = false;
        sessions_.for_each(
            [&](session& s) { pending = pending || s.out.send_pending || !s.out.queued.empty(); });
        if (!pending || clock::now() > deadline) break;
        backend_->poll(*this);
        flush_sessions();
        backend_->wait(std::chrono::milliseconds(20));
    }
    sessions_.for_each([&](session& s) { close_session(s, "Server Shutdown"); });
    // Routes closed last: what they told us is dropped while nothing reads it.
    for (const held_input& h : held_)
        if (!h.eof) backend_->release(h.buf);
    held_.clear();
    backend_->poll(*this); // hands the closes to the kernel
}

} // namespace natrix::broker
