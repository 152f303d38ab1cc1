#pragma once
// The sleeper-pays wake-up of one shard. Only the shard's own loop sets the
// flag, right before it blocks in its backend; a waker (another shard with
// records for it, or a control task) pays for the syscall only when the flag
// is set, and the exchange makes exactly one waker pay.
//
// Lives on a shard: announce/cancel on its own thread; wake() from any thread.
#include <atomic>

#include <natrix/io/backend.hh>

namespace natrix::broker {

class wakeup {
public:
    // The shard's backend, set on its thread before the first sleep.
    void attach(io::backend* b) noexcept { backend_ = b; }
    void wake() noexcept {
        if (sleeping_.load(std::memory_order_relaxed) && sleeping_.exchange(false))
            backend_->wake();
    }
    // Announce, then re-check for work (a producer may have pushed before it
    // saw the flag), then block; cancel on the way out either way.
    void announce_sleep() noexcept { sleeping_.store(true, std::memory_order_seq_cst); }
    void cancel_sleep() noexcept { sleeping_.store(false, std::memory_order_relaxed); }
    bool asleep() const noexcept { return sleeping_.load(std::memory_order_relaxed); }

private:
    std::atomic<bool> sleeping_{false};
    io::backend* backend_ = nullptr;
};

} // namespace natrix::broker
