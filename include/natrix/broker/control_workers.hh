#pragma once
// Short-lived threads of a control plane (dials, handshakes): finished ones
// are joined as new ones start, and all of them on stop. Any control thread.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace natrix::broker {

class control_workers {
public:
    ~control_workers() { stop(); }
    // Runs fn on a new thread, unless stopping.
    void spawn(std::function<void()> fn) {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        // Never join one still running: the caller may hold a lock that a
        // running worker waits for.
        std::erase_if(workers_, [](worker& w) {
            if (!w.done->load(std::memory_order_acquire)) return false;
            w.thread.join();
            return true;
        });
        auto done = std::make_shared<std::atomic<bool>>(false);
        workers_.push_back(worker{std::thread([fn = std::move(fn), done] {
                                      fn();
                                      done->store(true, std::memory_order_release);
                                  }),
                                  done});
    }
    // Joins every worker; spawn does nothing from then on.
    void stop() {
        std::vector<worker> w;
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
            w.swap(workers_);
        }
        for (auto& t : w)
            if (t.thread.joinable()) t.thread.join();
    }

private:
    struct worker {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    std::mutex mu_;
    bool stopping_ = false;
    std::vector<worker> workers_;
};

} // namespace natrix::broker
