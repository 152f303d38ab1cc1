#pragma once
// One result of `natrix --check-host`: a check's verdict on one aspect of the
// machine, what was seen, and the fix to apply when it is not ok. Pure data.
#include <string>
#include <string_view>
#include <vector>

namespace natrix::host_check {

enum class severity {
    ok,   // nothing to do (a note may still say why)
    warn, // natrix runs, but slower or with jitter: tune when latency matters
    fail, // natrix will refuse to start, or cannot hold the configured load
};

const char* to_string(severity s) noexcept;

struct finding {
    std::string check; // stable name: "io_uring", "cpu_isolation", ...
    severity level = severity::ok;
    std::string message; // what was seen, one sentence
    std::string fix;     // what to do; empty when ok
};

// The worst level among the findings (ok when there are none).
severity worst(const std::vector<finding>& findings) noexcept;

} // namespace natrix::host_check
