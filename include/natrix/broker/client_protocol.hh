#pragma once
// What a client's input means, exactly as nats-server 2.9 does it (see
// tests/conformance): the ops of the client protocol, permissions, the PONG
// barrier and server PINGs; authentication is its client_auth part. It reads
// a session's bytes and writes its replies into the session; messages go to
// the router.
//
// Lives on a shard; only its thread calls it.
#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include <natrix/broker/auth_worker.hh>
#include <natrix/broker/broker_config.hh>
#include <natrix/broker/client_auth.hh>
#include <natrix/broker/latency_histogram.hh>
#include <natrix/broker/loop.hh>
#include <natrix/broker/mailbox.hh>
#include <natrix/broker/protocol_deps.hh>
#include <natrix/broker/router.hh>
#include <natrix/broker/session_table.hh>
#include <natrix/broker/shard_stats.hh>
#include <natrix/protocol/errors.hh>

namespace natrix::broker {

class client_protocol {
public:
    using deps = protocol_deps;
    explicit client_protocol(const deps& d);

    // Port advertised in INFO (the one the shards listen on).
    void set_port(int port) noexcept { port_ = port; }

    // A new connection: INFO, and the auth deadline when auth is required.
    // A new client: the auth deadline, the nonce, then INFO unless `info`
    // is false (TLS first: INFO goes once the handshake is done).
    void greet(session& s, bool info = true);
    void send_info(session& s, bool lame_duck = false);
    // The cluster's client URLs (INFO connect_urls); clients connected before
    // a change get an INFO after their first PONG (nats-server processPing).
    void set_connect_urls(std::vector<std::string> urls) {
        connect_urls_ = std::move(urls);
        urls_changed_ = clock::now();
    }

    // Bytes from the client.
    void on_input(session& s, std::string_view data);
    // The client sent EOF: finish what it sent (parked input included), write
    // the output, then close.
    void peer_closed(session& s);

    // Server PINGs, stale clients and the auth timeout. While we do not read
    // the client (`reading` false: flow control or its own input waits) no
    // PING counts: its PONG could not be seen.
    void tick(session& s, clock::time_point now, bool reading = true);

    // PINGs that waited for the barrier get their PONG once it holds.
    bool has_barrier_waiters() const noexcept { return !barrier_waiters_.empty(); }
    void resume_barrier_waiters();

    // The loop's turns. A client's input runs for at most input_budget per
    // turn, then waits for the next one, so that no client holds the shard
    // (issue #20: 1 M SUBs in one burst froze every other client for seconds).
    static constexpr std::chrono::microseconds input_budget = loop::work_budget;
    void begin_turn() noexcept { ++turn_; }
    bool has_yielded() const noexcept { return !yielded_.empty(); }
    // Carries on with the clients that yielded last turn; returns them (valid
    // until the turn ends) so the caller can let them read again.
    std::vector<session*> resume_yielded();

    // A reload replaced the authenticator: judge a connected client again.
    void reauthorize(session& s, const auth::authenticator* previous) {
        auth_.reauthorize(s, previous);
    }

    // The session is closing for good: it waits for nothing more (its
    // subscriptions leave through subscription_teardown).
    void release(session& s);

private:
    // Runs the ops in `data`; returns what is left when the input is held.
    std::string_view process(session& s, std::string_view data);
    bool handle_op(session& s, const protocol::parsed_op& op);
    bool handle_pub(session& s, const protocol::parsed_op& op);
    void handle_sub(session& s, const protocol::parsed_op& op);
    void handle_unsub(session& s, const protocol::parsed_op& op);
    void handle_ping(session& s);
    void resume_input(session& s);

    unsigned shard_;
    unsigned nshards_;
    const broker_config& cfg_;
    session_table& sessions_;
    router& router_;
    mailbox& mail_;
    shard_stats& stats_;
    client_auth auth_;
    int port_ = 0;
    std::vector<std::string> connect_urls_;
    clock::time_point urls_changed_{};
    sample_clock sampler_;
    std::vector<session*> barrier_waiters_;
    std::vector<session*> yielded_;
    std::uint64_t turn_ = 1;
};

} // namespace natrix::broker
