#pragma once
// A shard's event loop: turns, the timer tick, control tasks and the idle
// strategy. What a turn does is the shard's business (loop::hooks); the loop
// decides when to run one and when the thread may sleep.
//
// Lives on a shard: run() on its thread; post() from any thread.
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <vector>

#include <natrix/broker/broker_config.hh>
#include <natrix/broker/message.hh>
#include <natrix/broker/wakeup.hh>
#include <natrix/io/backend.hh>

namespace natrix::broker {

class loop {
public:
    struct hooks {
        virtual ~hooks() = default;
        // One pass over the shard's work; true when anything happened.
        virtual bool turn() = 0;
        // Timers (pings, deadlines), every tick_interval.
        virtual void tick(clock::time_point now) = 0;
        // Work that arrived without an I/O event (ring records); checked
        // after the sleep is announced.
        virtual bool work_pending() const noexcept = 0;
    };

    static constexpr auto tick_interval = std::chrono::milliseconds(100);
    // The most one piece of work may take in a turn before the rest waits
    // for the next: one client's input, one teardown slice, one drain of the
    // other shards' records (issue #20; docs/decisions/0011-shard-fairness.md).
    static constexpr std::chrono::microseconds work_budget{500};
    // Ops between clock reads while a connection's input runs against the
    // budget: a clock read costs about what an op does.
    static constexpr unsigned budget_check_ops = 16;

    explicit loop(wakeup& w)
        : wakeup_(w) {}

    void set_idle(idle_strategy s, std::chrono::microseconds spin) noexcept {
        idle_ = s;
        spin_ = spin;
    }
    // Runs turns until `stop` is set.
    void run(io::backend& b, hooks& h, const std::atomic<bool>& stop);

    // Any thread: runs `task` on the shard's thread before its next turn. A
    // mutex guards the list; the hot path only reads an atomic flag.
    void post(std::function<void()> task);

private:
    bool run_control();

    wakeup& wakeup_;
    idle_strategy idle_ = idle_strategy::backoff;
    std::chrono::microseconds spin_{50};
    std::mutex control_mu_;
    std::vector<std::function<void()>> control_;
    std::atomic<bool> control_pending_{false};
};

} // namespace natrix::broker
