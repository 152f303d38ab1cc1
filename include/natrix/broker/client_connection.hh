#pragma once
// One client connection and its subscriptions.
//
// Lives on the shard that accepted it, for its whole life; only that shard's
// thread touches it. Other shards never hold pointers to it: they reach its
// subscriptions only by sending a message record to this shard.
#include <natrix/auth/authenticator.hh>
#include <natrix/protocol/connect_options.hh>
#include <natrix/protocol/parser.hh>
#include <natrix/util/string_map.hh>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace natrix::broker {

struct client_connection;

// Subscription handles stored in the shard's subject trie are pointers to these.
struct subscription {
    client_connection* conn = nullptr;
    std::string subject;
    std::string queue;
    std::string sid;
    std::uint64_t delivered = 0;
    std::int64_t max = 0; // auto-unsubscribe after this many (0: none)
};

using clock = std::chrono::steady_clock;

struct client_connection {
    explicit client_connection(const protocol::parser_config& pc) : parser(pc) {}

    int fd = -1;
    std::uint32_t slot = 0;
    std::uint32_t generation = 0;
    std::uint64_t cid = 0;
    std::string ip;
    int port = 0;
    clock::time_point start;

    protocol::parser parser;
    protocol::connect_options opts;
    bool connect_received = false;

    std::unordered_map<std::string, std::unique_ptr<subscription>> subs;

    // Outbound: deliveries append to `out`; `inflight` is what the kernel is
    // sending now. Swapped when a send completes, so the bytes given to the
    // kernel never move.
    std::string out;
    std::string inflight;
    std::size_t inflight_off = 0;
    bool send_pending = false;
    bool dirty = false;
    clock::time_point send_started;

    // A PING after records went to other shards waits for them (the shard's
    // PONG barrier); meanwhile the client's further input is parked, in order.
    bool pushed_remote = false;
    bool waiting_barrier = false;
    std::vector<std::uint64_t> barrier_target;
    std::string parked_input;

    bool recv_armed = false;
    bool admitted = false; // counted against max_connections
    bool close_after_flush = false;
    bool closed = false;

    // Server PINGs and activity.
    int pings_out = 0;
    bool rtt_measured = false;
    clock::time_point next_ping;
    clock::time_point last_in;       // last message (PUB/HPUB) from the client
    clock::time_point last_activity; // last bytes in either direction
    clock::time_point ping_sent;     // our last PING, for the RTT
    std::chrono::nanoseconds rtt{0};

    // Counters for monitoring.
    std::uint64_t in_msgs = 0, in_bytes = 0, out_msgs = 0, out_bytes = 0;

    // Parse (or ring dequeue) time of the earliest timed message waiting in
    // `out`; recorded in the shard's latency_histogram when its send is
    // submitted. Epoch when none.
    clock::time_point sample_start{};

    // Authentication: pending from accept (when required) until a CONNECT
    // passes; then `auth_user` is who the client is (empty for a token).
    bool auth_pending = false;
    bool first_byte_seen = false; // nats-server checks the first op's first byte
    clock::time_point auth_deadline;
    std::string auth_user;
    auth::auth_method auth_method = auth::auth_method::none;
    bool bound_before_connect = false; // by no_auth_user, on an op before CONNECT
    std::string nonce;                 // sent in INFO when NKey users exist
    // A bcrypt check runs on the auth worker; input waits in parked_input.
    bool auth_in_flight = false;

    // Where the client's subjects live, and what it may do (null: anything).
    auth::account_id account = auth::global_account;
    std::shared_ptr<const auth::permissions> perms;
    // A wildcard SUB covers a denied subject: deliveries are checked.
    bool deny_filter = false;
    // Publish verdicts of the static rules, per subject (bounded).
    util::string_map<bool> pub_cache;
    // allow_responses: reply subjects of requests delivered to this client.
    struct reply_allowance {
        clock::time_point at;
        int sent = 0;
    };
    util::string_map<reply_allowance> replies;
    std::size_t replies_prune_at = 0; // prune again at this size (amortised)

    std::size_t pending_bytes() const noexcept {
        return out.size() + (inflight.size() - inflight_off);
    }
};

} // namespace natrix::broker
