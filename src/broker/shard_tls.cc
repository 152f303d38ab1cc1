// Client TLS on a shard (decision 0015): which side speaks first, the
// handshake steps (each one on the auth worker, so that the asymmetric
// crypto of a reconnect storm never stalls the shard's other clients), then
// records in and out through the session's tls_stream. nats-server's rules
// (brief §3.1): INFO in plain text unless handshake_first, the auth timer
// from the end of the handshake, and a client that does not finish it in
// `tls.timeout` is closed. (nats-server's tlsTimeout queues -ERR 'Secure
// Connection - TLS Required', but its write loop is not running yet, so
// 2.9.10 closes without a word: tls_protocol_test.py. natrix does the same.)
#include <algorithm>

#include <natrix/broker/session_actions.hh>
#include <natrix/broker/shard.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

namespace {
constexpr char tls_handshake_record = 0x16;
} // namespace

// nats-server's connRateCounter: at most `limit` new TLS connections a
// second; each shard takes its share of the limit.
bool shard::tls_rate_allows(clock::time_point now) {
    const int limit = cfg_.tls->config().connection_rate_limit;
    if (limit <= 0) return true;
    const double per_s = std::max(1.0, static_cast<double>(limit) / nshards_);
    if (tls_tokens_at_ == clock::time_point{}) tls_tokens_ = per_s;
    tls_tokens_ = std::min(
        per_s, tls_tokens_ + per_s * std::chrono::duration<double>(now - tls_tokens_at_).count());
    tls_tokens_at_ = now;
    if (tls_tokens_ < 1.0) return false;
    tls_tokens_ -= 1.0;
    return true;
}

void shard::tls_accept(session& s) {
    const tls::tls_config& t = cfg_.tls->config();
    auto link = std::make_unique<tls_link>();
    link->stream = std::make_shared<tls::tls_stream>(cfg_.tls);
    const clock::time_point now = clock::now();
    link->deadline = now + t.timeout;
    s.tls = std::move(link);
    // The auth timer starts once the handshake is done (nats-server #432).
    switch (t.handshake_first) {
    case tls::handshake_first_mode::on:
        s.tls->at = tls_link::phase::handshake;
        s.tls->info_after = true;
        protocol_.greet(s, false);
        break;
    case tls::handshake_first_mode::automatic:
        s.tls->at = tls_link::phase::wait_hello;
        s.tls->deadline = now + t.handshake_first_delay;
        protocol_.greet(s, false);
        break;
    case tls::handshake_first_mode::off:
        s.tls->at = cfg_.allow_non_tls ? tls_link::phase::sniff : tls_link::phase::handshake;
        protocol_.greet(s);
        break;
    }
    s.auth.deadline = clock::time_point::max();
    if (s.tls->at == tls_link::phase::handshake && !tls_rate_allows(now)) throttle(s);
}

// Over connection_rate_limit: nats-server's words, after its INFO, then close.
void shard::throttle(session& s) {
    LOG_WRN("%s:%d - cid:%llu - TLS connection throttled (connection_rate_limit)", s.ip.c_str(),
            s.port, static_cast<unsigned long long>(s.cid));
    // Queued in plain text behind the INFO, as the handshake has not begun.
    sessions_.append(s, "-ERR 'Connection throttling is active. Please try again later.'\r\n");
    s.close_reason = "Maximum Connections Exceeded";
    sessions_.close_after_flush(s);
}

void shard::tls_input(session& s, std::string_view data) {
    tls_link& l = *s.tls;
    if (data.empty()) return;
    if (l.at == tls_link::phase::wait_hello) {
        if (data[0] != tls_handshake_record) {
            // Not a ClientHello: INFO-first after all. The client spoke
            // before INFO, which only a client that wants TLS first would.
            protocol_.send_info(s);
            l.at = cfg_.allow_non_tls ? tls_link::phase::sniff : tls_link::phase::handshake;
        } else {
            l.at = tls_link::phase::handshake;
            l.info_after = true;
        }
    }
    if (l.at == tls_link::phase::sniff) {
        if (data[0] == tls_handshake_record && !tls_rate_allows(clock::now())) {
            throttle(s);
            return;
        }
        if (data[0] != tls_handshake_record) {
            // allow_non_tls and a plain-text client: no TLS for it.
            s.tls.reset();
            if (s.auth.pending) s.auth.deadline = clock::now() + cfg_.auth_timeout;
            protocol_.on_input(s, data);
            return;
        }
        l.at = tls_link::phase::handshake;
    }
    if (l.at == tls_link::phase::handshake) {
        l.pending_in.append(data);
        if (!l.busy) tls_handshake_step(s);
        return;
    }
    // Established: records in, plaintext to the client protocol.
    tls_plain_.clear();
    std::string why;
    const bool ok = l.stream->decrypt(data, tls_plain_, &why);
    if (l.stream->has_output()) {
        l.stream->take_output(l.raw_out);
        sessions_.mark_for_flush(s);
    }
    if (!tls_plain_.empty()) {
        if (s.is_route())
            routes_.on_input(s, tls_plain_);
        else
            protocol_.on_input(s, tls_plain_);
    }
    if (!ok && s.is_open()) {
        LOG_DBG("%s:%d - cid:%llu - TLS: %s", s.ip.c_str(), s.port,
                static_cast<unsigned long long>(s.cid), why.c_str());
        if (s.is_route())
            close_session(s, "TLS Error");
        else
            protocol_.peer_closed(s);
    }
}

// One handshake step: the ciphertext so far goes to a worker with the
// stream; the shard does not touch the stream until the step comes back.
void shard::tls_handshake_step(session& s) {
    tls_link& l = *s.tls;
    l.busy = true;
    std::string in;
    in.swap(l.pending_in);
    const std::uint64_t token = session_table::token_of(s);
    auto job = [this, token, stream = l.stream, in = std::move(in)]() {
        std::string out, why;
        const tls::tls_stream::step r = stream->handshake(in, out, &why);
        post([token, stream, r, out = std::move(out), why = std::move(why)](shard& sh) mutable {
            sh.tls_step_done(token, stream, r, std::move(out), std::move(why));
        });
    };
    if (env_.auth_jobs)
        env_.auth_jobs->submit(std::move(job));
    else
        job();
}

void shard::tls_step_done(std::uint64_t token, const std::shared_ptr<tls::tls_stream>& stream,
                          tls::tls_stream::step result, std::string out, std::string why) {
    session* s = sessions_.find(token);
    if (!s || !s->is_open() || !s->tls || s->tls->stream != stream) return;
    tls_link& l = *s->tls;
    l.busy = false;
    l.raw_out.append(out);
    sessions_.mark_for_flush(*s);
    switch (result) {
    case tls::tls_stream::step::failed:
        LOG_ERR("%s:%d - cid:%llu - TLS handshake error: %s", s->ip.c_str(), s->port,
                static_cast<unsigned long long>(s->cid), why.c_str());
        stats_.tls_handshake_errors.add(1);
        s->close_reason = "TLS Handshake Failure";
        sessions_.close_after_flush(*s);
        return;
    case tls::tls_stream::step::more:
        if (!l.pending_in.empty()) tls_handshake_step(*s);
        return;
    case tls::tls_stream::step::done:
        tls_established(*s);
        return;
    }
}

void shard::tls_established(session& s) {
    tls_link& l = *s.tls;
    l.at = tls_link::phase::established;
    stats_.tls_handshakes.add(1);
    LOG_DBG("%s:%d - cid:%llu - TLS handshake complete (%s, %s)", s.ip.c_str(), s.port,
            static_cast<unsigned long long>(s.cid), l.stream->version().c_str(),
            l.stream->cipher().c_str());
    if (s.auth.pending) s.auth.deadline = clock::now() + cfg_.auth_timeout;
    if (l.info_after) protocol_.send_info(s); // inside TLS now
    // What came with or after the client's Finished is application data.
    std::string rest;
    rest.swap(l.pending_in);
    tls_input(s, rest);
    if (s.is_open() && !rest.empty()) return;
    // Records OpenSSL already holds (a CONNECT in the same flight).
    tls_plain_.clear();
    std::string why;
    if (!l.stream->decrypt({}, tls_plain_, &why)) {
        protocol_.peer_closed(s);
        return;
    }
    if (!tls_plain_.empty()) protocol_.on_input(s, tls_plain_);
}

// A handshake (or the handshake_first wait) past its time. True when the
// session was closed.
bool shard::tls_tick(session& s, clock::time_point now) {
    tls_link& l = *s.tls;
    if (now < l.deadline || !s.is_open()) return false;
    if (l.at == tls_link::phase::wait_hello) { // handshake_first auto: INFO-first after all
        protocol_.send_info(s);
        l.at = cfg_.allow_non_tls ? tls_link::phase::sniff : tls_link::phase::handshake;
        l.deadline = now + cfg_.tls->config().timeout;
        return false;
    }
    LOG_ERR("%s:%d - cid:%llu - TLS handshake timeout", s.ip.c_str(), s.port,
            static_cast<unsigned long long>(s.cid));
    stats_.tls_handshake_errors.add(1);
    close_session(s, "TLS Handshake Failure");
    return true;
}

// The next send: handshake records and alerts as they are, then what the
// client protocol queued: in plain text before TLS (INFO-first), as records
// after.
void shard::tls_seal(session& s) {
    outbound& o = s.out;
    tls_link& l = *s.tls;
    o.inflight.clear();
    o.inflight.swap(l.raw_out);
    if (o.queued.empty()) return;
    if (l.at == tls_link::phase::established) {
        if (!l.stream->encrypt(o.queued, o.inflight)) s.close_reason = "TLS Error";
    } else if (!l.busy || l.at != tls_link::phase::handshake) {
        o.inflight.append(o.queued);
    } else {
        return; // mid-handshake: what was queued waits for the keys
    }
    o.queued.clear();
}

} // namespace natrix::broker
