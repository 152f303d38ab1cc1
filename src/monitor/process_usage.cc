#include <cstdio>
#include <ctime>

#include <sched.h>
#include <unistd.h>

#include <natrix/monitor/process_usage.hh>

namespace natrix::monitor {

std::uint64_t resident_bytes() {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long long size = 0, resident = 0;
    const int n = std::fscanf(f, "%llu %llu", &size, &resident);
    std::fclose(f);
    if (n != 2) return 0;
    return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

std::chrono::nanoseconds process_cpu_time() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

int usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<int>(n) : 1;
}

cpu_meter::cpu_meter(std::chrono::steady_clock::time_point since)
    : last_wall_(since) {}

double cpu_meter::percent() {
    const auto now = std::chrono::steady_clock::now();
    if (sampled_ && now - last_wall_ < std::chrono::seconds(1)) return last_percent_;
    const auto cpu = process_cpu_time();
    const double wall = std::chrono::duration<double>(now - last_wall_).count();
    if (wall > 0)
        last_percent_ = 100.0 * std::chrono::duration<double>(cpu - last_cpu_).count() / wall;
    // One decimal, as ps(1) shows it.
    last_percent_ = static_cast<double>(static_cast<long long>(last_percent_ * 10 + 0.5)) / 10;
    last_wall_ = now;
    last_cpu_ = cpu;
    sampled_ = true;
    return last_percent_;
}

} // namespace natrix::monitor
