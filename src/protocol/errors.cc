#include <array>
#include <cstdint>
#include <cstdio>

#include <natrix/protocol/errors.hh>
#include <natrix/util/utf8.hh>

namespace natrix::protocol {

namespace {
// Texts from nats-server 2.9 (server/errors.go, client.go); see
// ../shared/reference/nats-features.md §1.9 for the source lines.
constexpr std::array<proto_error_info, static_cast<std::size_t>(proto_error::count_)> k_errors{{
    {"Unknown Protocol Operation", true},
    {"Authorization Violation", true},
    {"Authentication Timeout", true},
    {"Maximum Payload Violation", true},
    {"maximum control line exceeded", true},
    {"maximum connections exceeded", true},
    {"maximum subscriptions exceeded", false},
    {"Invalid Subject", false},
    {"Invalid Publish Subject", false},
    {"Stale Connection", true},
    {"invalid client protocol", true},
    {"no responders requires headers support", true},
    {"Secure Connection - TLS Required", true},
}};

// Go's %q: printable ASCII as is, quotes and backslashes escaped, the rest
// as \xNN. Subjects are nearly always printable, so this stays simple.
// Go's unicode.IsPrint for the runes a subject is likely to hold: control,
// format, separator and private-use ranges are not printable. (Unassigned
// code points are taken as printable: an approximation.)
bool go_printable(std::uint32_t r) {
    if (r < 0x20 || r == 0x7f) return false;
    if (r < 0x7f) return true;
    if (r <= 0x9f || r == 0xa0 || r == 0xad) return false;
    if (r == 0x61c || (r >= 0x200b && r <= 0x200f) || (r >= 0x2028 && r <= 0x202f) ||
        (r >= 0x205f && r <= 0x206f) || r == 0x3000 || r == 0xfeff ||
        (r >= 0xfff9 && r <= 0xfffb) || (r >= 0xe000 && r <= 0xf8ff) || r >= 0xf0000 ||
        r == 0x1680 || (r >= 0x2000 && r <= 0x200a))
        return false;
    return true;
}

// Go's %q (strconv.Quote), as nats-server quotes subjects in -ERR texts.
std::size_t quote_go(char* buf, std::size_t cap, std::string_view s) {
    std::size_t n = 0;
    auto put = [&](char c) {
        if (n < cap) buf[n] = c;
        ++n;
    };
    static constexpr char hex[] = "0123456789abcdef";
    auto put_hex = [&](std::uint32_t v, int digits) {
        for (int d = digits - 1; d >= 0; --d) put(hex[(v >> (4 * d)) & 15]);
    };
    put('"');
    for (std::size_t i = 0; i < s.size();) {
        std::uint32_t r = 0;
        const std::size_t len = util::utf8_decode(s, i, &r);
        if (len == 0) {
            put('\\'), put('x'), put_hex(static_cast<unsigned char>(s[i]), 2);
            ++i;
            continue;
        }
        if (r == '"' || r == '\\') {
            put('\\'), put(static_cast<char>(r));
        } else if (go_printable(r)) {
            for (std::size_t k = 0; k < len; ++k) put(s[i + k]);
        } else {
            switch (r) {
            case '\a':
                put('\\'), put('a');
                break;
            case '\b':
                put('\\'), put('b');
                break;
            case '\f':
                put('\\'), put('f');
                break;
            case '\n':
                put('\\'), put('n');
                break;
            case '\r':
                put('\\'), put('r');
                break;
            case '\t':
                put('\\'), put('t');
                break;
            case '\v':
                put('\\'), put('v');
                break;
            default:
                if (r < 0x20 || r == 0x7f)
                    put('\\'), put('x'), put_hex(r, 2);
                else if (r < 0x10000)
                    put('\\'), put('u'), put_hex(r, 4);
                else
                    put('\\'), put('U'), put_hex(r, 8);
            }
        }
        i += len;
    }
    put('"');
    return n;
}

std::size_t append(char* buf, std::size_t cap, std::size_t n, std::string_view s) {
    for (char c : s) {
        if (n < cap) buf[n] = c;
        ++n;
    }
    return n;
}
} // namespace

const proto_error_info& error_info(proto_error e) noexcept {
    return k_errors[static_cast<std::size_t>(e)];
}

std::size_t format_pub_permission_violation(char* buf, std::size_t cap, std::string_view subject) {
    std::size_t n = append(buf, cap, 0, "Permissions Violation for Publish to ");
    n += quote_go(n < cap ? buf + n : buf, n < cap ? cap - n : 0, subject);
    return n < cap ? n : cap;
}

std::size_t format_sub_permission_violation(char* buf, std::size_t cap, std::string_view subject,
                                            std::string_view queue) {
    std::size_t n = append(buf, cap, 0, "Permissions Violation for Subscription to ");
    n += quote_go(n < cap ? buf + n : buf, n < cap ? cap - n : 0, subject);
    if (!queue.empty()) {
        n = append(buf, cap, n, " using queue ");
        n += quote_go(n < cap ? buf + n : buf, n < cap ? cap - n : 0, queue);
    }
    return n < cap ? n : cap;
}

std::size_t format_reply_permission_violation(char* buf, std::size_t cap, std::string_view reply) {
    std::size_t n = append(buf, cap, 0, "Permissions Violation for Publish with Reply of ");
    n += quote_go(n < cap ? buf + n : buf, n < cap ? cap - n : 0, reply);
    return n < cap ? n : cap;
}

std::size_t format_sub_permission_revoked(char* buf, std::size_t cap, std::string_view subject,
                                          std::string_view sid) {
    std::size_t n = append(buf, cap, 0, "Permissions Violation for Subscription to ");
    n += quote_go(n < cap ? buf + n : buf, n < cap ? cap - n : 0, subject);
    n = append(buf, cap, n, " (sid ");
    n += quote_go(n < cap ? buf + n : buf, n < cap ? cap - n : 0, sid);
    n = append(buf, cap, n, ")");
    return n < cap ? n : cap;
}

} // namespace natrix::protocol
