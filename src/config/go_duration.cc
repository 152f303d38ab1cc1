#include <cstdint>

#include <natrix/config/go_duration.hh>

namespace natrix::config {

namespace {

bool unit_nanos(std::string_view unit, std::uint64_t* ns) {
    if (unit == "ns")
        *ns = 1;
    else if (unit == "us" || unit == "\xc2\xb5s" /* µ U+00B5 */ ||
             unit == "\xce\xbcs" /* μ U+03BC */)
        *ns = 1000;
    else if (unit == "ms")
        *ns = 1000 * 1000;
    else if (unit == "s")
        *ns = 1000 * 1000 * 1000;
    else if (unit == "m")
        *ns = 60ull * 1000 * 1000 * 1000;
    else if (unit == "h")
        *ns = 3600ull * 1000 * 1000 * 1000;
    else
        return false;
    return true;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string quoted(std::string_view s) {
    return "\"" + std::string(s) + "\"";
}

// Digits of a fraction without trailing zeros, e.g. 500000000 of 9 digits -> "5".
std::string fraction(std::uint64_t v, int digits) {
    std::string s(static_cast<std::size_t>(digits), '0');
    for (int i = digits - 1; i >= 0; --i) {
        s[static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    while (!s.empty() && s.back() == '0') s.pop_back();
    return s;
}

} // namespace

bool parse_go_duration(std::string_view text, std::chrono::nanoseconds* out, std::string* error) {
    std::string_view s = text;
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s == "0") {
        *out = std::chrono::nanoseconds(0);
        return true;
    }
    if (s.empty()) {
        *error = "invalid duration " + quoted(text);
        return false;
    }
    // Accumulate in 128 bits so that overflow is a plain comparison.
    unsigned __int128 total = 0;
    const unsigned __int128 limit = negative ? (static_cast<unsigned __int128>(1) << 63)
                                             : (static_cast<unsigned __int128>(1) << 63) - 1;
    while (!s.empty()) {
        std::size_t i = 0;
        unsigned __int128 whole = 0;
        bool any = false;
        while (i < s.size() && is_digit(s[i])) {
            whole = whole * 10 + static_cast<unsigned>(s[i] - '0');
            if (whole > limit) {
                *error = "invalid duration " + quoted(text) + " (out of range)";
                return false;
            }
            any = true;
            ++i;
        }
        std::uint64_t frac = 0, scale = 1;
        if (i < s.size() && s[i] == '.') {
            ++i;
            while (i < s.size() && is_digit(s[i])) {
                if (scale < 1'000'000'000'000'000'000ull) { // keep 18 digits; the rest is noise
                    frac = frac * 10 + static_cast<unsigned>(s[i] - '0');
                    scale *= 10;
                }
                any = true;
                ++i;
            }
        }
        if (!any) {
            *error = "invalid duration " + quoted(text);
            return false;
        }
        std::size_t u = i;
        while (u < s.size() && !is_digit(s[u]) && s[u] != '.') ++u;
        std::string_view unit = s.substr(i, u - i);
        if (unit.empty()) {
            *error = "missing unit in duration " + quoted(text) + " (use ns, us, ms, s, m or h)";
            return false;
        }
        std::uint64_t ns = 0;
        if (!unit_nanos(unit, &ns)) {
            *error = "unknown unit " + quoted(unit) + " in duration " + quoted(text) +
                     " (use ns, us, ms, s, m or h)";
            return false;
        }
        total += whole * ns + static_cast<unsigned __int128>(frac) * ns / scale;
        if (total > limit) {
            *error = "invalid duration " + quoted(text) + " (out of range)";
            return false;
        }
        s.remove_prefix(u);
    }
    auto v = static_cast<std::int64_t>(negative ? -static_cast<__int128>(total)
                                                : static_cast<__int128>(total));
    *out = std::chrono::nanoseconds(v);
    return true;
}

std::string format_go_duration(std::chrono::nanoseconds d) {
    std::int64_t v = d.count();
    if (v == 0) return "0s";
    bool negative = v < 0;
    // Magnitude as unsigned so that INT64_MIN works.
    std::uint64_t u = negative ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    std::string out = negative ? "-" : "";
    if (u < 1000ull) return out + std::to_string(u) + "ns";
    if (u < 1000ull * 1000) {
        std::string f = fraction(u % 1000, 3);
        return out + std::to_string(u / 1000) + (f.empty() ? "" : "." + f) + "\xc2\xb5s";
    }
    if (u < 1000ull * 1000 * 1000) {
        std::string f = fraction(u % 1000000, 6);
        return out + std::to_string(u / 1000000) + (f.empty() ? "" : "." + f) + "ms";
    }
    const std::uint64_t sec = 1000ull * 1000 * 1000;
    std::uint64_t hours = u / (3600 * sec);
    std::uint64_t minutes = u / (60 * sec) % 60;
    std::uint64_t seconds = u / sec % 60;
    std::string f = fraction(u % sec, 9);
    if (hours > 0) out += std::to_string(hours) + "h";
    if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
    out += std::to_string(seconds) + (f.empty() ? "" : "." + f) + "s";
    return out;
}

} // namespace natrix::config
