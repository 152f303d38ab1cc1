#pragma once
// The one clock natrix-bench uses: CLOCK_MONOTONIC in nanoseconds. It is system-wide, so send
// stamps written by one natrix-bench process can be compared by another on the same host.
#include <cstdint>
#include <ctime>

namespace natrix::bench_client {

inline std::uint64_t now_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

// Sleeps until the monotonic time t (absolute), without drift from repeated relative sleeps.
inline void sleep_until_ns(std::uint64_t t) noexcept {
    timespec ts;
    ts.tv_sec = static_cast<time_t>(t / 1000000000ull);
    ts.tv_nsec = static_cast<long>(t % 1000000000ull);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
    }
}

inline void sleep_for_ns(std::uint64_t d) noexcept {
    sleep_until_ns(now_ns() + d);
}

} // namespace natrix::bench_client
