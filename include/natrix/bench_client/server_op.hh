#pragma once
// Parser for what a NATS server sends a client: INFO, MSG, HMSG, PING, PONG, +OK, -ERR. It works
// on a caller-owned buffer and returns views into it, so parsing allocates nothing; an op split
// across reads is reported as incomplete and parsed again once more bytes have arrived.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace natrix::bench_client {

enum class op_kind { msg, hmsg, ping, pong, ok, err, info, bad };

struct server_op {
    op_kind kind = op_kind::bad;
    std::string_view subject;
    std::string_view sid;
    std::string_view reply;   // empty when the message has none
    std::string_view headers; // HMSG only: the header block, "NATS/1.0..." through CRLFCRLF
    std::string_view payload; // MSG/HMSG payload (after the headers)
    std::string_view text;    // INFO JSON, -ERR text, or the offending line for bad
};

// Longest control line accepted before the input is declared bad (nats-server allows 4 KiB of
// arguments; subjects in MSG lines are bounded by what we subscribed to).
inline constexpr std::size_t max_control_line_bytes = 64 * 1024;

// Parses the op at the start of [data, data + len). Returns the bytes it spans, or 0 when the
// buffer holds only part of it. On malformed input op.kind is bad and the return value is the
// length of the offending line (at least 1), so callers can report it and drop the connection.
std::size_t parse_server_op(const char* data, std::size_t len, server_op& op) noexcept;

} // namespace natrix::bench_client
