#pragma once
// Takes a closed session's subscriptions out of the router in bounded slices,
// one slice per loop turn (issue #20: removing 1 M subscriptions inline froze
// the shard for five seconds). Until its last subscription is gone the
// session keeps its slot: it is closed, so nothing is delivered to it and its
// queue groups pick other members. Then the slot is retired.
//
// Lives on a shard; only its thread touches it.
#include <chrono>
#include <deque>

#include <natrix/broker/loop.hh>
#include <natrix/broker/router.hh>
#include <natrix/broker/session_table.hh>
#include <natrix/broker/shard_stats.hh>

namespace natrix::broker {

class subscription_teardown {
public:
    // Work per turn.
    static constexpr std::chrono::microseconds budget = loop::work_budget;

    subscription_teardown(router& r, session_table& t, shard_stats& stats)
        : router_(r)
        , sessions_(t)
        , stats_(stats) {}

    // `s` has closed: its subscriptions leave over the next turns, then its
    // slot is retired.
    void add(session& s);
    bool pending() const noexcept { return !queue_.empty(); }
    // One slice; true if there was work.
    bool run();

private:
    // Removals between clock reads.
    static constexpr unsigned check_every = 64;

    router& router_;
    session_table& sessions_;
    shard_stats& stats_;
    std::deque<session*> queue_;
};

} // namespace natrix::broker
