#pragma once
// Where the router's decisions go. The router decides who receives a message;
// an outbox turns that into bytes for a local client or a record for another
// shard. The shard's outbox (delivery.hh) writes into sessions and the
// mailbox; tests use one that records what it was asked to do.
//
// Called on the router's shard thread only.
#include <string_view>
#include <vector>

#include <natrix/broker/message.hh>
#include <natrix/broker/ring_record.hh>
#include <natrix/broker/subscription.hh>

namespace natrix::broker {

class outbox {
public:
    virtual ~outbox() = default;
    // One copy of `m` for a local subscriber. False when nothing was written
    // (the session is closing, a deny filter holds it back, or it was cut).
    virtual bool deliver(subscription& s, const message& m) = 0;
    // A message record for shard `to`.
    virtual void forward(unsigned to, const ring_record::message_record& r) = 0;
    // This shard's interest changed: every other shard must learn it.
    virtual void announce(const ring_record::interest_record& r) = 0;
    // `s` reached its auto-unsubscribe maximum; the router already removed it
    // from its trie and interest. The owner drops it.
    virtual void expired(subscription& s) = 0;

    // Clusters (docs/clustering.md). One RMSG for route `route` (an interest
    // id at or past the shard count) carrying the queue groups it serves.
    virtual void to_route(std::uint16_t /*route*/, std::uint16_t /*account*/, const message& /*m*/,
                          const std::vector<std::string_view>& /*queues*/) {}
    // This server's own interest in (pattern, queue) went from `before` to
    // `after` subscriptions (plain: any count; queue: the weight routes get).
    virtual void local_interest(std::uint16_t /*account*/, std::string_view /*pattern*/,
                                std::string_view /*queue*/, std::uint32_t /*before*/,
                                std::uint32_t /*after*/) {}
    // A link's hash for _GR_. replies: every other shard must learn it.
    virtual void announce_link(const ring_record::link_record& /*r*/) {}
    // Superclusters: the cluster's interest (this server's and its routes')
    // in (pattern, queue) appeared or went; inbound gateways are told.
    virtual void cluster_interest(std::uint16_t /*account*/, std::string_view /*pattern*/,
                                  std::string_view /*queue*/, bool /*present*/) {}
};

} // namespace natrix::broker
