#pragma once
// The client threads of one run. Each worker is pinned (when --cpus is given) to the next CPU of
// the list, round-robin in spawn order, and any exception it throws is recorded and sets the
// run's abort flag so that the other clients stop instead of waiting for messages that will
// never come. Spawned and joined by the main thread only.
#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace natrix::bench_client {

// Pins the calling thread to one CPU. Throws bench_error if the kernel refuses.
void pin_current_thread(int cpu);

class worker_group {
public:
    worker_group(std::vector<int> cpus, std::atomic<bool>& abort);
    ~worker_group();

    void spawn(std::string name, std::function<void()> fn);
    void join();
    std::vector<std::string> errors() const;
    bool failed() const;
    // The CPU each worker was pinned to, in spawn order ("-" when unpinned).
    std::string placement() const;

private:
    std::vector<int> cpus_;
    std::atomic<bool>& abort_;
    std::vector<std::thread> threads_;
    std::vector<int> placed_;
    mutable std::mutex mu_;
    std::vector<std::string> errors_;
};

// Prints a progress line on stderr once a second while a run lasts: elapsed time and the rates
// of the two counters the sampler returns (for example published and delivered messages).
class progress_line {
public:
    using sampler = std::function<std::pair<std::uint64_t, std::uint64_t>()>;
    progress_line(bool enabled, std::string first_name, std::string second_name, sampler s);
    ~progress_line();
    void stop();

private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
    bool tty_ = false;
};

} // namespace natrix::bench_client
