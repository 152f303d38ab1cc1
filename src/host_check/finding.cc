#include <natrix/host_check/finding.hh>

namespace natrix::host_check {

const char* to_string(severity s) noexcept {
    switch (s) {
    case severity::ok:
        return "ok";
    case severity::warn:
        return "warn";
    case severity::fail:
        return "fail";
    }
    return "?";
}

severity worst(const std::vector<finding>& findings) noexcept {
    severity w = severity::ok;
    for (const finding& f : findings)
        if (static_cast<int>(f.level) > static_cast<int>(w)) w = f.level;
    return w;
}

} // namespace natrix::host_check
