#pragma once
// Formats server-to-client protocol lines into caller-provided memory,
// without allocating. Stateless; any thread.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <natrix/protocol/errors.hh>

namespace natrix::protocol {

inline constexpr std::string_view ping_line = "PING\r\n";
inline constexpr std::string_view pong_line = "PONG\r\n";
inline constexpr std::string_view ok_line = "+OK\r\n";
inline constexpr std::string_view crlf = "\r\n";

// Upper bound of a MSG/HMSG control line for these fields.
constexpr std::size_t msg_header_bound(std::string_view subject, std::string_view sid,
                                       std::string_view reply) noexcept {
    // Size fields are at most 9 digits (parse_size), whether echoed or computed.
    return 5 /*HMSG */ + subject.size() + 1 + sid.size() + 1 + reply.size() + 1 + 2 * 11 + 2;
}

// "MSG <subject> <sid> [reply] <size>\r\n". Returns bytes written;
// `out` must hold msg_header_bound() bytes.
std::size_t write_msg_header(char* out, std::string_view subject, std::string_view sid,
                             std::string_view reply, std::size_t size) noexcept;
// "HMSG <subject> <sid> [reply] <hdr> <total>\r\n".
std::size_t write_hmsg_header(char* out, std::string_view subject, std::string_view sid,
                              std::string_view reply, std::size_t header_size,
                              std::size_t total_size) noexcept;

// A delivery as it goes on the wire: control line, body, CRLF.
struct delivery {
    std::size_t header_len = 0; // bytes of the control line written into the caller's buffer
    std::string_view body;      // payload as sent (header block stripped if needed)
};

// Chooses MSG or HMSG for a subscriber and strips the header block for a
// client that did not ask for headers, as nats-server does: such a client
// gets MSG with size total-hdr. `out` must hold msg_header_bound() bytes.
// `size_text`/`header_size_text`, when given, are the publisher's own
// spelling of the sizes ("00003"), which nats-server echoes unchanged when
// the body goes out as published.
delivery write_delivery(char* out, bool client_headers, std::string_view subject,
                        std::string_view sid, std::string_view reply, std::string_view payload,
                        std::uint32_t header_size, std::string_view size_text = {},
                        std::string_view header_size_text = {}) noexcept;

// "-ERR '<text>'\r\n". Returns bytes needed; writes at most cap.
std::size_t write_err(char* out, std::size_t cap, std::string_view text) noexcept;
inline std::size_t write_err(char* out, std::size_t cap, proto_error e) noexcept {
    return write_err(out, cap, error_text(e));
}

// Decimal digits of v into out; returns the count.
std::size_t write_u64(char* out, std::uint64_t v) noexcept;

} // namespace natrix::protocol
