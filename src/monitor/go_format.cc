#include <cstdio>
#include <ctime>

#include <natrix/config/go_duration.hh>
#include <natrix/monitor/go_format.hh>

namespace natrix::monitor {

std::string format_rfc3339_nano(std::chrono::steady_clock::time_point t,
                                std::chrono::system_clock::duration wall_offset) {
    return format_rfc3339_nano(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(t.time_since_epoch()) +
        wall_offset));
}

std::string format_rfc3339_nano(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const auto ns = duration_cast<nanoseconds>(t.time_since_epoch()).count();
    std::int64_t secs = ns / 1000000000;
    std::int64_t frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        --secs;
    }
    const std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                          tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    std::string out(buf, static_cast<std::size_t>(n));
    if (frac) {
        n = std::snprintf(buf, sizeof buf, ".%09lld", static_cast<long long>(frac));
        std::string f(buf, static_cast<std::size_t>(n));
        while (f.back() == '0') f.pop_back();
        out += f;
    }
    out += 'Z';
    return out;
}

std::string format_uptime(std::chrono::nanoseconds d) {
    const long long tsecs = std::chrono::duration_cast<std::chrono::seconds>(d).count();
    const long long tmins = tsecs / 60, thrs = tmins / 60, tdays = thrs / 24, tyrs = tdays / 365;
    char buf[96];
    if (tyrs > 0)
        std::snprintf(buf, sizeof buf, "%lldy%lldd%lldh%lldm%llds", tyrs, tdays % 365, thrs % 24,
                      tmins % 60, tsecs % 60);
    else if (tdays > 0)
        std::snprintf(buf, sizeof buf, "%lldd%lldh%lldm%llds", tdays, thrs % 24, tmins % 60,
                      tsecs % 60);
    else if (thrs > 0)
        std::snprintf(buf, sizeof buf, "%lldh%lldm%llds", thrs, tmins % 60, tsecs % 60);
    else if (tmins > 0)
        std::snprintf(buf, sizeof buf, "%lldm%llds", tmins, tsecs % 60);
    else
        std::snprintf(buf, sizeof buf, "%llds", tsecs);
    return buf;
}

std::string format_rtt(std::chrono::nanoseconds rtt) {
    using namespace std::chrono;
    if (rtt > microseconds(1) && rtt < milliseconds(1)) rtt = duration_cast<microseconds>(rtt);
    return config::format_go_duration(rtt);
}

} // namespace natrix::monitor
