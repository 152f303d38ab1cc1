#include <natrix/broker/loop.hh>

namespace natrix::broker {

void loop::run(io::backend& b, hooks& h, const std::atomic<bool>& stop) {
    wakeup_.attach(&b);
    clock::time_point next_tick = clock::now() + tick_interval;
    clock::time_point idle_since{};
    bool idle_timing = false;
    while (!stop.load(std::memory_order_acquire)) {
        bool work = run_control();
        work = h.turn() || work;
        const clock::time_point now = clock::now();
        if (now >= next_tick) {
            h.tick(now);
            next_tick = now + tick_interval;
        }
        if (work) {
            idle_timing = false;
            continue;
        }
        if (!idle_timing) {
            idle_timing = true;
            idle_since = now;
        }
        const bool may_sleep = idle_ == idle_strategy::sleep ||
                               (idle_ == idle_strategy::backoff && now - idle_since > spin_);
        if (!may_sleep) continue;
        // Sleeper pays: announce, re-check (a producer may have pushed before
        // seeing the flag), then block in the backend.
        wakeup_.announce_sleep();
        if (h.work_pending() || stop.load(std::memory_order_seq_cst) ||
            control_pending_.load(std::memory_order_seq_cst)) {
            wakeup_.cancel_sleep();
            continue;
        }
        b.wait(std::chrono::duration_cast<std::chrono::nanoseconds>(next_tick - now));
        wakeup_.cancel_sleep();
        idle_timing = false;
    }
}

void loop::post(std::function<void()> task) {
    {
        std::lock_guard lock(control_mu_);
        control_.push_back(std::move(task));
    }
    control_pending_.store(true, std::memory_order_seq_cst);
    wakeup_.wake();
}

bool loop::run_control() {
    if (!control_pending_.load(std::memory_order_acquire)) return false;
    std::vector<std::function<void()>> tasks;
    {
        std::lock_guard lock(control_mu_);
        tasks.swap(control_);
        control_pending_.store(false, std::memory_order_relaxed);
    }
    for (auto& t : tasks) t();
    return true;
}

} // namespace natrix::broker
