#pragma once
// One client connection's state: parser, outbound buffers, and the auth,
// permission, barrier and ping state it carries through its life.
//
// Lives on the shard that accepted it, for its whole life; only that shard's
// thread touches it. What it does with its input is client_protocol's job;
// how its bytes move is the I/O backend's.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <natrix/auth/authenticator.hh>
#include <natrix/broker/gateway_replies.hh>
#include <natrix/broker/message.hh>
#include <natrix/broker/route_link.hh>
#include <natrix/broker/subscription.hh>
#include <natrix/broker/tls_link.hh>
#include <natrix/io/backend.hh>
#include <natrix/protocol/connect_options.hh>
#include <natrix/protocol/parser.hh>
#include <natrix/util/gradual_map.hh>
#include <natrix/util/string_map.hh>

namespace natrix::broker {

enum class session_state : std::uint8_t {
    open,
    closing, // an -ERR (or a close) is queued: it is closed once its output is written
    closed,  // socket gone; the slot is recycled at the end of the loop turn
};

// Bytes to the client. Deliveries append to `queued`; `inflight` is what the
// backend is sending now. Swapped when a send completes, so the bytes given to
// the kernel never move.
struct outbound {
    std::string queued;
    std::string inflight;
    std::size_t inflight_off = 0;
    bool send_pending = false;
    bool in_flush_list = false; // on the shard's list of sessions to flush this turn
    clock::time_point send_started;
    // Parse (or ring dequeue) time of the earliest timed message waiting in
    // `queued`; recorded in the latency histogram when its send starts.
    clock::time_point sample_start{};

    std::size_t pending() const noexcept {
        return queued.size() + (inflight.size() - inflight_off);
    }
};

// Input waits, in order, while a PING waits for the PONG barrier, a CONNECT
// for its credential check (both can be true after a reload), or the client
// used up its share of this loop turn (client_protocol::input_budget).
struct input_gate {
    bool barrier = false;
    bool auth = false;
    bool yielded = false;
    std::string parked;
    std::size_t parked_from = 0;    // bytes of `parked` already run
    std::uint64_t turn = 0;         // the turn `turn_started` belongs to
    clock::time_point turn_started; // when this turn's share began
    bool held() const noexcept { return barrier || auth || yielded; }
};

// PONG barrier (docs/architecture.md): a PING after records went to other
// shards is answered once those shards consumed them.
struct barrier_state {
    bool pushed_remote = false;
    std::vector<std::uint64_t> target; // per shard: records sent when the PING came
};

struct ping_state {
    int outstanding = 0;
    bool rtt_measured = false;
    bool pong_sent = false; // we answered a PING: the client is past its handshake
    clock::time_point next;
    clock::time_point sent; // our last PING, for the RTT
    std::chrono::nanoseconds rtt{0};
};

struct auth_state {
    // Pending from accept (when auth is required) until a CONNECT passes.
    bool pending = false;
    bool first_byte_seen = false;      // nats-server checks the first op's first byte
    bool bound_before_connect = false; // by no_auth_user, on an op before CONNECT
    clock::time_point deadline;
    std::string user; // who the client is once it passed (empty for a token)
    auth::auth_method method = auth::auth_method::none;
    std::string nonce; // sent in INFO when NKey users exist
};

struct permission_state {
    std::shared_ptr<const auth::permissions> perms; // null: anything goes
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
};

// Flow control (flow_control.hh). As a subscriber: over the high watermark
// and which publishers it paused. As a publisher: how many subscribers hold
// it paused (it is read again at zero).
struct flow_state {
    struct publisher_ref {
        std::uint16_t shard = 0;
        std::uint64_t token = 0;
    };
    bool congested = false;
    std::vector<publisher_ref> paused; // publishers this subscriber paused
    clock::time_point last_progress;   // the kernel last took bytes from us
    std::uint32_t pausers = 0;         // subscribers holding this publisher paused
    clock::time_point paused_since;
};

struct session_counters {
    std::uint64_t in_msgs = 0, in_bytes = 0, out_msgs = 0, out_bytes = 0;
};

struct session {
    explicit session(const protocol::parser_config& pc)
        : parser(pc) {}

    io::conn_id io;
    std::uint32_t slot = 0;
    std::uint32_t generation = 0;
    std::uint64_t cid = 0;
    std::string ip;
    int port = 0;
    clock::time_point start;
    session_state state = session_state::open;
    bool admitted = false; // counted against max_connections
    // The client half-closed (EOF): what it sent is still processed, and it
    // is closed once that is done and its output written (`nc -N` and
    // scripts that shut down their write side after the last request).
    bool peer_done = false;
    const char* close_reason =
        "Closed after error"; // logged when a closing session's output is out

    protocol::parser parser;
    protocol::connect_options opts;
    bool connect_received = false;
    auth::account_id account = auth::global_account;

    // Grows gradually: one client may hold a million (issue #20).
    using subscription_map = util::gradual_map<std::string, std::unique_ptr<subscription>>;
    subscription_map subs;

    outbound out;
    input_gate input;
    barrier_state barrier;
    ping_state ping;
    auth_state auth;
    permission_state perm;
    flow_state flow;
    session_counters counters;
    clock::time_point last_in;       // last message (PUB/HPUB) from the client
    clock::time_point last_activity; // last bytes in either direction

    // Set when this connection is a route to another server of the cluster
    // or a gateway to another cluster (route_protocol); null for clients.
    std::unique_ptr<route_link> route;
    // TLS (clients): null on a plain-text connection.
    std::unique_ptr<tls_link> tls;
    // Replies this client owes through a gateway (set on first use).
    std::unique_ptr<gateway_replies> gw_replies;

    bool is_open() const noexcept { return state == session_state::open; }
    bool is_route() const noexcept { return route != nullptr; }
    bool is_closed() const noexcept { return state == session_state::closed; }
};

} // namespace natrix::broker
