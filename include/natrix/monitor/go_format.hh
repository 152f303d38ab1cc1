#pragma once
// The text forms nats-server's monitoring JSON uses for times and
// durations. Pure functions; any thread.
#include <chrono>
#include <string>

namespace natrix::monitor {

// Go's time.RFC3339Nano in UTC: "2006-01-02T15:04:05.999999999Z", trailing
// zeros of the fraction dropped (and the dot, when the fraction is zero).
std::string format_rfc3339_nano(std::chrono::system_clock::time_point t);
// The same for a steady-clock time (what sessions record), placed on the
// wall clock by `wall_offset` (system minus steady, taken once).
std::string format_rfc3339_nano(std::chrono::steady_clock::time_point t,
                                std::chrono::system_clock::duration wall_offset);

// nats-server's uptime/idle form: whole seconds as "1y2d3h4m5s", leading
// zero units left out ("9s", "2m0s", "1h0m0s").
std::string format_uptime(std::chrono::nanoseconds d);

// nats-server's connz "rtt": Go's Duration.String() after truncating an RTT
// between 1 µs and 1 ms to whole microseconds ("407µs", "1.234567ms", "0s").
std::string format_rtt(std::chrono::nanoseconds rtt);

} // namespace natrix::monitor
