#pragma once
// Where the router's decisions go. The router decides who receives a message;
// an outbox turns that into bytes for a local client or a record for another
// shard. The shard's outbox (delivery.hh) writes into sessions and the
// mailbox; tests use one that records what it was asked to do.
//
// Called on the router's shard thread only.
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
};

} // namespace natrix::broker
