#pragma once
// Runs credential checks that are too slow for a shard's thread (bcrypt:
// ~40-90 ms each) on a few threads of its own, so that one client's login
// never stalls the other clients of its shard. Results go back to the
// shard through its control-task queue (shard::post).
//
// Owned by the server; submit() may be called from any shard thread; the
// queue is guarded by a mutex (this is the login path, not the hot path).
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace natrix::broker {

class auth_worker {
public:
    explicit auth_worker(unsigned threads = 2);
    ~auth_worker();
    auth_worker(const auth_worker&) = delete;
    auth_worker& operator=(const auth_worker&) = delete;

    void submit(std::function<void()> job);
    // Finishes queued jobs, then joins the threads. Idempotent.
    void stop();

private:
    void run();

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

} // namespace natrix::broker
