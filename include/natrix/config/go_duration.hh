#pragma once
// Go's time.ParseDuration syntax, which nats-server uses for every duration
// option: a possibly signed sequence of decimal numbers, each with optional
// fraction and a unit suffix, e.g. "300ms", "-1.5h", "2h45m". Units: ns, us
// (or µs/μs), ms, s, m, h. "0" needs no unit. Pure functions; any thread.
#include <chrono>
#include <string>
#include <string_view>

namespace natrix::config {

// Returns false with a reason in *error (no position) for bad syntax or a
// value that does not fit in int64 nanoseconds.
bool parse_go_duration(std::string_view text, std::chrono::nanoseconds* out, std::string* error);

// Go's Duration.String(): "2m0s", "1h30m0s", "500ms", "1.5µs", "0s".
std::string format_go_duration(std::chrono::nanoseconds d);

} // namespace natrix::config
