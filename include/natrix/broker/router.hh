#pragma once
// The router: account subject spaces, imports, local delivery and queue
// picks. Given a message published in an account it decides which local
// subscribers get it (one trie per account) and which shards must see it (one
// replicated interest map per account), follows stream and service imports,
// and keeps the interest maps equal across shards. It writes only into an
// outbox, so it runs in-process without sockets (tests/unit/broker).
//
// Lives on a shard; only its thread touches it. Other shards reach it through
// ring records, which the shard hands to on_record().
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/auth/accounts.hh>
#include <natrix/broker/import_table.hh>
#include <natrix/broker/message.hh>
#include <natrix/broker/outbox.hh>
#include <natrix/broker/ring_record.hh>
#include <natrix/broker/subscription.hh>
#include <natrix/subjects/interest_map.hh>
#include <natrix/subjects/subject_trie.hh>

namespace natrix::broker {

// Who published: deliveries skip the publisher's own subscriptions when echo
// is off, and service imports tell the responder the requester's RTT.
struct publisher {
    const session* conn = nullptr; // null: a message the server republishes
    bool echo = true;
    std::chrono::nanoseconds rtt{0};
};

struct publish_result {
    bool delivered = false; // someone, anywhere, is to receive it
    bool crossed = false;   // records went to other shards (PONG barrier)
    bool told_rtt = false;  // a service import passed the publisher's RTT on
};

class router {
public:
    router(unsigned shard, unsigned nshards, std::shared_ptr<const auth::account_set> accounts,
           outbox& out, std::uint64_t seed);

    unsigned shard() const noexcept { return shard_; }
    const auth::account_set& accounts() const noexcept { return imports_.accounts(); }
    // Reload: same accounts (the server checks), maybe other imports/exports.
    void set_accounts(std::shared_ptr<const auth::account_set> accounts);

    publish_result publish(const publisher& from, auth::account_id acct, const message& m);

    // ---- clusters (docs/clustering.md) ----
    // Interest ids from the shard count up name routes to other servers: a
    // route's interest lives in the same replicated maps as a shard's, so a
    // publish finds routes and shards in one lookup and a queue pick weighs
    // every member of the cluster alike. From here on the outbox hears every
    // change of this server's own interest (what routes are told).
    void enable_cluster();
    // A route's interest (RS+/RS-), set on the route's shard: `count` is 1
    // (plain) or the queue weight, 0 to drop; every shard learns it.
    void set_route_interest(auth::account_id acct, std::uint16_t route, std::string_view pattern,
                            std::string_view queue, std::uint32_t count);
    // A message from a route (RMSG): this server's subscribers only, and of
    // queue groups only those named (the sender picked this server).
    publish_result publish_routed(auth::account_id acct, const message& m,
                                  const std::vector<std::string_view>& queues);
    // ---- superclusters (docs/clustering.md) ----
    // Outbound gateways are interest ids from gateway_base up: what a remote
    // cluster told us (RS+) lives in the same maps, so one lookup finds
    // shards, routes and gateways. From here on the outbox hears every change
    // of the cluster-wide interest (what inbound gateways are told), and
    // replies sent to a gateway are mapped to `reply_prefix`
    // ("_GR_.<cluster hash>.<server hash>.") while a matching subscription
    // is recent (brief §2.6).
    static constexpr std::uint16_t max_gateways = 8;
    static constexpr std::uint16_t gateway_base = subjects::max_shards - max_gateways;
    void enable_gateways(std::string reply_prefix);
    bool gateways_enabled() const noexcept { return gateway_mask_ != 0; }
    const std::string& reply_prefix() const noexcept { return reply_prefix_; }
    // An outbound gateway's remote interest (RS+/RS-), set on its shard.
    void set_gateway_interest(auth::account_id acct, std::uint16_t gateway,
                              std::string_view pattern, std::string_view queue, bool present) {
        set_route_interest(acct, gateway, pattern, queue, present ? 1 : 0);
    }
    // A message from an inbound gateway: this cluster's shards and routes
    // (never another gateway), and of queue groups only those named.
    publish_result publish_from_gateway(auth::account_id acct, const message& m,
                                        const std::vector<std::string_view>& queues);
    // Which interest id reaches a cluster by its 6-character hash (outbound
    // gateways), or a server of this cluster by its hash (routes); the
    // control plane keeps every shard's tables (0: none).
    // Set on the link's shard, which tells the others through the rings;
    // an empty hash forgets the id.
    void announce_link(std::uint16_t id, bool gateway, std::string_view hash);
    std::uint16_t gateway_for_hash(std::string_view cluster_hash) const noexcept;
    std::uint16_t route_for_hash(std::string_view server_hash) const noexcept;
    // A responder's reply to a request that came through a gateway: sent
    // straight to the cluster it came from as `routed` ("_GR_...").
    bool publish_gateway_reply(auth::account_id acct, const message& m);
    // One RMSG for link `id` (a route or an outbound gateway), as it is.
    void to_link(std::uint16_t id, auth::account_id acct, const message& m) {
        static const std::vector<std::string_view> none;
        out_.to_route(id, acct, m, none);
    }
    // This server's own subscriptions on (pattern, queue) in `acct`.
    std::uint32_t local_interest(auth::account_id acct, std::string_view pattern,
                                 std::string_view queue) const {
        return acct < spaces_.size() ? spaces_[acct]->interest.local_count(pattern, queue) : 0;
    }
    // The cluster's interest in account `acct` (shards and routes), for an
    // inbound gateway's dump.
    template <typename Fn>
    void for_each_cluster_interest(auth::account_id acct, Fn&& fn) const {
        if (acct < spaces_.size()) spaces_[acct]->interest.for_each_cluster(fn);
    }
    // This server's interest in every account, for a new route's dump.
    template <typename Fn>
    void for_each_local_interest(Fn&& fn) const {
        for (std::size_t a = 0; a < spaces_.size(); ++a)
            spaces_[a]->interest.for_each_local(
                [&](std::string_view p, std::string_view q, std::uint32_t n) {
                    fn(static_cast<auth::account_id>(a), p, q, n);
                });
    }

    // A local subscription appears or goes; interest travels to every shard.
    void subscribe(auth::account_id acct, subscription* s);
    void unsubscribe(auth::account_id acct, subscription* s);

    // A record from another shard's ring; `sampled_at` marks a message whose
    // latency is timed.
    void on_record(std::uint32_t type, std::string_view body, clock::time_point sampled_at = {});

    // Drops service-import reply mappings past their threshold.
    void expire(clock::time_point now);
    bool has_pending_replies() const noexcept { return !imports_.empty(); }
    // Interest other shards dropped, as records applied here (each may free
    // an interest entry): the shard merges freed heap after bursts of them.
    std::uint64_t remote_interest_drops() const noexcept { return remote_interest_drops_; }

    subjects::trie_stats subscription_stats() const noexcept;

private:
    struct account_space {
        subjects::subject_trie trie;
        subjects::interest_map interest;
    };
    account_space& space(auth::account_id a) noexcept { return *spaces_[a]; }

    // Where a publish may go: shards and routes (a client's message), this
    // server's shards only (a stream import's copy: the importer's node
    // imports for itself, as nats-server's shadow subscriptions do), or this
    // server's shards and only the queue groups an RMSG names.
    // A gateway's message serves this cluster (shards and routes) and the
    // groups it names.
    enum class scope { cluster, server, routed, gateway };
    publish_result publish_here(const publisher& from, auth::account_id acct, const message& m,
                                scope where = scope::cluster,
                                const std::vector<std::string_view>* named = nullptr);
    bool deliver_local(const publisher& from, auth::account_id acct, const message& m, bool plain,
                       const std::vector<std::string_view>& queues,
                       std::vector<std::string_view>* missed = nullptr);
    bool deliver(auth::account_id acct, subscription* s, const message& m);
    void retire_expired();
    void forward(unsigned to, auth::account_id acct, const message& m, bool plain,
                 const std::vector<std::string_view>& queues, std::uint8_t hops);
    bool reroute_queues(auth::account_id acct, const message& m,
                        const std::vector<std::string_view>& groups, std::uint8_t hops);
    void change_interest(auth::account_id acct, std::string_view subject, std::string_view queue,
                         int delta);

    // Stream and service imports (one level deep: what arrives through an
    // import is not exported again).
    publish_result publish_imports(const publisher& from, auth::account_id acct, const message& m,
                                   bool streams_only = false);
    std::string service_reply(const auth::service_route& r, auth::account_id importer,
                              std::string_view reply);
    void on_service_reply(const message& m);

    unsigned shard_;
    unsigned nshards_;
    std::uint64_t shard_mask_; // interest ids that are this server's shards
    outbox& out_;
    std::mt19937_64 rng_;
    import_table imports_;
    // One space per account (index = auth::account_id), fixed at start-up;
    // accounts never share a trie or an interest map.
    std::vector<std::unique_ptr<account_space>> spaces_;
    // Our _R_.<prefix>.> subscriptions, one per exporting account used.
    std::vector<std::unique_ptr<subscription>> internal_subs_;

    // Reused per call: no allocation per message.
    std::vector<subscription*> targets_scratch_;
    std::vector<std::size_t> group_scratch_;
    struct route_target {
        std::uint16_t route;
        std::vector<std::string_view> queues;
    };

    struct expiry {
        auth::account_id account;
        subscription* sub;
    };
    bool map_reply(auth::account_id acct, std::string_view reply);
    void set_link_hash(std::uint16_t id, bool gateway, std::string_view hash);
    void note_recent_sub(auth::account_id acct, std::string_view pattern);

    std::uint64_t gateway_mask_ = 0; // interest ids that are outbound gateways
    std::string reply_prefix_;
    std::string mapped_reply_; // scratch: reply_prefix_ + reply
    struct hash_id {
        std::string hash;
        std::uint16_t id;
    };
    std::vector<hash_id> gateway_hashes_, route_hashes_;
    struct recent_sub {
        auth::account_id account;
        std::string pattern;
        clock::time_point until;
    };
    std::deque<recent_sub> recent_subs_; // oldest first; 2 s each (nats-server recSubExp)
    std::uint64_t remote_interest_drops_ = 0;
    std::vector<expiry> expired_; // reached their maximum during the current publish
    ring_record::message_record record_scratch_;
};

} // namespace natrix::broker
