#include <natrix/protocol/errors.hh>

#include <array>
#include <cstdio>

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
std::size_t quote_go(char* buf, std::size_t cap, std::string_view s) {
    std::size_t n = 0;
    auto put = [&](char c) {
        if (n < cap) buf[n] = c;
        ++n;
    };
    put('"');
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            put('\\');
            put(static_cast<char>(c));
        } else if (c >= 0x20 && c < 0x7f) {
            put(static_cast<char>(c));
        } else {
            static constexpr char hex[] = "0123456789abcdef";
            put('\\');
            put('x');
            put(hex[c >> 4]);
            put(hex[c & 15]);
        }
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
