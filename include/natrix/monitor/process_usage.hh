#pragma once
// Resident memory and CPU use of this process, for /varz "mem" and "cpu".
// Reads /proc/self; the cpu_meter keeps the previous sample, so it belongs
// to one thread (the monitor's).
#include <chrono>
#include <cstdint>

namespace natrix::monitor {

// Resident set size in bytes (0 when /proc is unavailable).
std::uint64_t resident_bytes();
// CPU time (user + system) this process has used.
std::chrono::nanoseconds process_cpu_time();
// CPUs this process may run on (sched_getaffinity), as Go's runtime.NumCPU.
int usable_cpus();

// Percent of one core used over the last sampling interval (at least one
// second; the first reading covers the time since `since`), as nats-server's
// "cpu" (which can pass 100 on several cores).
class cpu_meter {
public:
    explicit cpu_meter(std::chrono::steady_clock::time_point since);
    double percent();

private:
    std::chrono::steady_clock::time_point last_wall_;
    std::chrono::nanoseconds last_cpu_{0};
    double last_percent_ = 0;
    bool sampled_ = false;
};

} // namespace natrix::monitor
