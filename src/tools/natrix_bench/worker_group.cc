#include <cstring>

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <natrix/bench_client/bench_error.hh>
#include <natrix/bench_client/clock.hh>
#include <natrix/bench_client/run_result.hh>
#include <natrix/bench_client/worker_group.hh>

namespace natrix::bench_client {

void pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set); rc != 0)
        throw bench_error("cannot pin a thread to CPU " + std::to_string(cpu) + ": " +
                          std::strerror(rc));
}

worker_group::worker_group(std::vector<int> cpus, std::atomic<bool>& abort)
    : cpus_(std::move(cpus))
    , abort_(abort) {}

worker_group::~worker_group() {
    join();
}

void worker_group::spawn(std::string name, std::function<void()> fn) {
    const int cpu = cpus_.empty() ? -1 : cpus_[threads_.size() % cpus_.size()];
    placed_.push_back(cpu);
    threads_.emplace_back([this, cpu, name = std::move(name), fn = std::move(fn)] {
        try {
            // Paced publishers sleep to absolute times: ask for precise wake-ups.
            prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
            if (cpu >= 0) pin_current_thread(cpu);
            fn();
        } catch (const std::exception& e) {
            std::lock_guard lock(mu_);
            // After an abort the other clients fail with secondary errors; keep the first cause.
            if (!abort_.load() || errors_.empty()) errors_.push_back(name + ": " + e.what());
            abort_.store(true);
        }
    });
}

void worker_group::join() {
    for (auto& t : threads_)
        if (t.joinable()) t.join();
}

std::vector<std::string> worker_group::errors() const {
    std::lock_guard lock(mu_);
    return errors_;
}

bool worker_group::failed() const {
    std::lock_guard lock(mu_);
    return !errors_.empty();
}

std::string worker_group::placement() const {
    if (cpus_.empty()) return "not pinned";
    std::string s;
    for (std::size_t i = 0; i < placed_.size(); ++i) {
        if (i) s += ',';
        s += std::to_string(placed_[i]);
    }
    return "threads on CPUs " + s;
}

progress_line::progress_line(bool enabled, std::string first_name, std::string second_name,
                             sampler s) {
    if (!enabled) return;
    tty_ = isatty(STDERR_FILENO);
    thread_ = std::thread([this, a = std::move(first_name), b = std::move(second_name),
                           s = std::move(s)] {
        const std::uint64_t t0 = now_ns();
        std::uint64_t last_t = t0;
        auto [last_a, last_b] = s();
        std::uint64_t tick = t0;
        while (!stop_.load()) {
            tick += 1000000000ull;
            while (!stop_.load() && now_ns() < tick) sleep_for_ns(20000000);
            if (stop_.load()) break;
            const std::uint64_t t = now_ns();
            auto [va, vb] = s();
            const double dt = static_cast<double>(t - last_t) / 1e9;
            std::string line = "natrix-bench: " + std::to_string((t - t0) / 1000000000ull) + " s";
            if (!a.empty()) line += "  " + a + " " + format_rate((va - last_a) / dt) + "/s";
            if (!b.empty()) line += "  " + b + " " + format_rate((vb - last_b) / dt) + "/s";
            line = (tty_ ? "\r" : "") + line + (tty_ ? "    " : "\n");
            ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
            (void)ignored;
            last_t = t;
            last_a = va;
            last_b = vb;
        }
        if (tty_) {
            ssize_t ignored = write(STDERR_FILENO, "\n", 1);
            (void)ignored;
        }
    });
}

progress_line::~progress_line() {
    stop();
}

void progress_line::stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
}

} // namespace natrix::bench_client
