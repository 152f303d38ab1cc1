#pragma once
// The shard's outbox: a delivery becomes MSG/HMSG bytes in the subscriber's
// session, a forward becomes a ring record in the mailbox. Each delivery is
// reported to flow control (a subscriber falling behind slows its
// publishers), and the per-session output ceiling (max_pending) holds under
// any policy: a session past it is cut as a slow consumer (closed at the end
// of the turn, not while the router iterates).
//
// Lives on a shard; only its thread touches it.
#include <string>
#include <vector>

#include <natrix/broker/flow_control.hh>
#include <natrix/broker/latency_histogram.hh>
#include <natrix/broker/mailbox.hh>
#include <natrix/broker/outbox.hh>
#include <natrix/broker/session_table.hh>
#include <natrix/broker/shard_stats.hh>

namespace natrix::broker {

class delivery final : public outbox {
public:
    delivery(unsigned shard, unsigned nshards, session_table& sessions, mailbox& mail,
             flow_control& flow, shard_stats& stats)
        : shard_(shard)
        , nshards_(nshards)
        , sessions_(sessions)
        , mail_(mail)
        , flow_(flow)
        , stats_(stats) {}

    void set_max_pending(std::int64_t bytes) noexcept { max_pending_ = bytes; }
    // Superclusters: replies with the _GR_. prefix reach clients bare, and
    // the client's answer goes back by the prefix (gateway_replies).
    void map_gateway_replies() noexcept { gateway_replies_ = true; }

    bool deliver(subscription& s, const message& m) override;
    void forward(unsigned to, const ring_record::message_record& r) override;
    void announce(const ring_record::interest_record& r) override;
    void expired(subscription& s) override;
    // Clusters: a route held here gets its RMSG now; one held by another
    // shard gets a record (its id tells the shard: route_protocol::allocate_id).
    void to_route(std::uint16_t route, std::uint16_t account, const message& m,
                  const std::vector<std::string_view>& queues) override;
    void local_interest(std::uint16_t account, std::string_view pattern, std::string_view queue,
                        std::uint32_t before, std::uint32_t after) override;
    void announce_link(const ring_record::link_record& r) override;
    void cluster_interest(std::uint16_t account, std::string_view pattern, std::string_view queue,
                          bool present) override;
    void attach_routes(class route_outbox* r) noexcept { routes_ = r; }

    // Sessions cut as slow consumers since the last call; the shard closes them.
    std::vector<session*> take_cut() {
        std::vector<session*> c;
        c.swap(cut_);
        return c;
    }

private:
    unsigned shard_;
    unsigned nshards_;
    session_table& sessions_;
    mailbox& mail_;
    flow_control& flow_;
    shard_stats& stats_;
    std::int64_t max_pending_ = 64 << 20;
    bool gateway_replies_ = false;
    std::vector<session*> cut_;
    class route_outbox* routes_ = nullptr;
    std::string scratch_; // record being encoded
    ring_record::message_record route_record_;
};

} // namespace natrix::broker
