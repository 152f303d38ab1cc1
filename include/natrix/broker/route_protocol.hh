#pragma once
// What a route's bytes mean, and what we write to it: the route half of
// nats-server's protocol (RS+/RS-, RMSG/HMSG, PING/PONG, INFO, -ERR;
// ../shared/reference/nats-cluster-protocol.md §1.4-1.6). The handshake
// (INFO/CONNECT) happened on the cluster manager's thread before the shard
// adopted the connection; from then on everything is here.
//
// Lives on a shard; only its thread touches it. The cluster manager hears of
// INFOs and closes through route_events, which it makes thread-safe.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <natrix/broker/broker_config.hh>
#include <natrix/broker/flow_control.hh>
#include <natrix/broker/message.hh>
#include <natrix/broker/router.hh>
#include <natrix/broker/session_table.hh>
#include <natrix/broker/shard_stats.hh>
#include <natrix/subjects/interest_delta.hh>

namespace natrix::broker {

// The control plane's side (cluster_manager): any thread may call these.
class route_events {
public:
    virtual ~route_events() = default;
    // An INFO arrived on an established route: gossip of another server, an
    // update of the peer's client URLs, or its lame duck.
    virtual void route_info(std::uint64_t serial, protocol::route_info info) = 0;
    // The route closed; its shard already dropped what it learned from it.
    virtual void route_closed(std::uint64_t serial, std::string reason) = 0;
};

// What delivery (the outbox) needs from the routes of its shard.
class route_outbox {
public:
    virtual ~route_outbox() = default;
    virtual void send_msg(std::uint16_t route, std::uint16_t account, const message& m,
                          const std::vector<std::string_view>& queues) = 0;
    virtual void send_interest(std::uint16_t account, std::string_view pattern,
                               std::string_view queue, std::uint32_t before,
                               std::uint32_t after) = 0;
    // The cluster's interest appeared or went: inbound gateways are told.
    virtual void send_gateway_interest(std::uint16_t account, std::string_view pattern,
                                       std::string_view queue, bool present) = 0;
};

class route_protocol final : public route_outbox {
public:
    route_protocol(unsigned shard, unsigned nshards, const broker_config& cfg,
                   session_table& sessions, router& routes, flow_control& flow, shard_stats& stats);

    void set_events(route_events* e) noexcept { events_ = e; }
    // The gateway manager's side, for gateway links.
    void set_gateway_events(route_events* e) noexcept { gateway_events_ = e; }
    // Interest ids this shard may hand out: routes get shard count + k, and
    // outbound gateways router::gateway_base + k, with k % shards == shard
    // (so an id is never reused by another shard while records about its
    // last owner may still be in flight). Inbound gateways need none (0).
    int allocate_id(link_kind kind);
    // The shard that holds link `id`.
    static unsigned owner_of(std::uint16_t id, unsigned nshards) noexcept {
        return id < router::gateway_base ? (id - nshards) % nshards
                                         : (id - router::gateway_base) % nshards;
    }
    // A session that just became a route: it gets our whole interest, then
    // `leftover` (bytes the peer sent after its handshake) runs.
    void start(session& s, std::string_view leftover);
    void on_input(session& s, std::string_view data);
    // A route's input gets the same share of a turn as a client's
    // (client_protocol::input_budget): a peer's dump of a million RS+ or a
    // burst of RMSGs yields, and the rest runs first next turn.
    void begin_turn() noexcept { ++turn_; }
    bool has_yielded() const noexcept { return !yielded_.empty(); }
    std::vector<session*> resume_yielded();
    // PINGs. True when the route is stale (no PONG to ping_max PINGs): the
    // caller closes it at once, without waiting for output that a dead peer
    // will never take (and that holds its publishers paused meanwhile).
    bool tick(session& s, clock::time_point now, bool reading = true);
    // The route is closing: what it told us goes, its id is freed.
    void release(session& s, const char* reason);
    // A raw line (our INFO for gossip, lame duck).
    void send_raw(session& s, std::string_view bytes);
    session* find(std::uint16_t id) const noexcept {
        return id < by_id_.size() ? by_id_[id] : nullptr;
    }
    // The open route (or gateway) its manager calls `serial`; null if gone.
    session* find_serial(std::uint64_t serial, bool gateway = false) const noexcept {
        for (session* s : by_id_)
            if (s && s->is_open() && s->route->serial == serial &&
                s->route->is_gateway() == gateway)
                return s;
        if (gateway)
            for (session* s : inbound_)
                if (s->is_open() && s->route->serial == serial) return s;
        return nullptr;
    }

    // route_outbox
    void send_msg(std::uint16_t route, std::uint16_t account, const message& m,
                  const std::vector<std::string_view>& queues) override;
    void send_interest(std::uint16_t account, std::string_view pattern, std::string_view queue,
                       std::uint32_t before, std::uint32_t after) override;
    void send_gateway_interest(std::uint16_t account, std::string_view pattern,
                               std::string_view queue, bool present) override;

private:
    // Runs complete ops from `buf`; returns the bytes used. False in
    // `*fatal` when the route must close.
    std::size_t process(session& s, std::string_view buf, bool* fatal);
    void run_pending(session& s);
    bool handle_line(session& s, std::string_view op, std::vector<std::string_view>& args,
                     std::string_view line);
    void handle_sub(session& s, const std::vector<std::string_view>& args, bool add);
    void handle_msg(session& s, const std::vector<std::string_view>& args, bool headers,
                    std::string_view payload);
    void write_interest(session& s, std::uint16_t account, std::string_view pattern,
                        std::string_view queue, std::uint32_t count);
    void write_all(std::uint16_t account, std::string_view pattern, std::string_view queue,
                   std::uint32_t count);
    // Shadow interest (nats-server's shadow subscriptions): a subscription in
    // an account that imports a stream is interest in the exporter's account,
    // since the importer's node applies the import to what routes bring.
    void shadow(std::uint16_t importer, std::string_view pattern, int delta);
    void fail(session& s, const char* why);
    route_events* events_for(const session& s) const noexcept {
        return s.route->is_gateway() ? gateway_events_ : events_;
    }
    // Gateways (gateway_links.cc).
    void start_inbound_gateway(session& s);
    bool gateway_info(session& s, std::string_view line);
    void gateway_msg(session& s, std::uint16_t account, message& m);
    bool routed_reply(session& s, std::uint16_t account, message& m);

    unsigned shard_;
    unsigned nshards_;
    const broker_config& cfg_;
    session_table& sessions_;
    router& router_;
    flow_control& flow_;
    shard_stats& stats_;
    route_events* events_ = nullptr;
    route_events* gateway_events_ = nullptr;
    std::array<session*, subjects::max_shards> by_id_{};
    std::vector<session*> inbound_; // inbound gateways held here
    std::vector<std::string_view> args_;
    std::vector<session*> yielded_;
    std::uint64_t turn_ = 1;
    std::vector<std::string_view> queues_;
    // "exporter pattern" → how many local (importer, pattern) entries map to it.
    std::unordered_map<std::string, std::uint32_t> shadows_;
};

} // namespace natrix::broker
