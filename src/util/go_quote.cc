#include <algorithm>
#include <iterator>

#include <natrix/util/go_quote.hh>
#include <natrix/util/utf8.hh>

namespace natrix::util {

namespace {

struct cp_range {
    std::uint32_t lo, hi;
};

constexpr cp_range not_printed[] = {
#include "go_print_ranges.inc"
};

constexpr char hex[] = "0123456789abcdef";

// What Go writes as a backslash and a letter (or the character itself).
constexpr std::string_view escaped = "\"\\\a\b\f\n\r\t\v";
constexpr std::string_view escape_letters = "\"\\abfnrtv";
constexpr std::size_t npos = std::string_view::npos;

void append_hex(std::string& out, std::uint32_t v, int digits) {
    for (int k = digits - 1; k >= 0; --k) out += hex[(v >> (4 * k)) & 15];
}

} // namespace

bool go_prints(std::uint32_t cp) noexcept {
    if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
    // The first range whose end is at or past cp.
    const auto* r = std::lower_bound(std::begin(not_printed), std::end(not_printed), cp,
                                     [](const cp_range& a, std::uint32_t v) { return a.hi < v; });
    return r == std::end(not_printed) || cp < r->lo;
}

void append_go_quoted(std::string& out, std::string_view s) {
    out.reserve(out.size() + s.size() + 2);
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        std::uint32_t cp = 0;
        const std::size_t n = utf8_decode(s, i, &cp);
        if (n == 0) { // invalid UTF-8: Go escapes it a byte at a time
            out += "\\x";
            append_hex(out, static_cast<unsigned char>(s[i]), 2);
            ++i;
            continue;
        }
        i += n;
        if (const std::size_t e = cp < 0x80 ? escaped.find(static_cast<char>(cp)) : npos;
            e != npos) {
            out += '\\';
            out += escape_letters[e];
            continue;
        }
        if (go_prints(cp)) {
            out.append(s.substr(i - n, n));
        } else if (cp < 0x80) {
            out += "\\x";
            append_hex(out, cp, 2);
        } else if (cp < 0x10000) {
            out += "\\u";
            append_hex(out, cp, 4);
        } else {
            out += "\\U";
            append_hex(out, cp, 8);
        }
    }
    out += '"';
}

} // namespace natrix::util
