#include <pthread.h>

#include <natrix/broker/auth_worker.hh>

namespace natrix::broker {

auth_worker::auth_worker(unsigned threads) {
    for (unsigned i = 0; i < threads; ++i)
        threads_.emplace_back([this] {
            pthread_setname_np(pthread_self(), "natrix-auth");
            run();
        });
}

auth_worker::~auth_worker() {
    stop();
}

void auth_worker::submit(std::function<void()> job) {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
}

void auth_worker::stop() {
    {
        std::lock_guard lock(mu_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

void auth_worker::run() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        job();
    }
}

} // namespace natrix::broker
