#pragma once
// Zero-copy, resumable parser for the NATS wire protocol.
//
// Lives on the shard that owns the connection; one instance per connection,
// never shared. It behaves like nats-server's server/parser.go (same ops,
// same limits, same error classes) but works a control line at a time: the
// SIMD scanner finds the line end and the fields in one pass, the size is
// read from the last field, and the payload is skipped by length.
//
// Copies happen only when a read ends mid-operation:
//  - a split control line is kept in a scratch buffer bounded by
//    max_control_line (plus room for the op name);
//  - a split payload is assembled in a per-connection buffer of exactly
//    size+2 bytes (bounded by max_payload). A payload that arrives whole is
//    a view into the caller's buffer. See docs/decisions/0002-protocol-codec.md.
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <natrix/protocol/op.hh>
#include <natrix/protocol/scanner.hh>

namespace natrix::protocol {

struct parser_config {
    std::uint32_t max_control_line = 4096;
    std::int64_t max_payload = 1 << 20; // <= 0: unlimited
    conn_role role = conn_role::client;
    scan_isa isa = best_scan_isa();
};

enum class parse_status : unsigned char {
    op,        // `out` holds one operation
    need_more, // all input consumed; state kept for the next read
    error,     // protocol error; see error(). The connection must be closed.
};

enum class parse_error : unsigned char {
    none,
    unknown_op,            // send -ERR 'Unknown Protocol Operation', close
    max_control_line,      // send -ERR 'maximum control line exceeded', close
    max_payload,           // send -ERR 'Maximum Payload Violation', close
    malformed,             // close without -ERR (nats-server does the same)
    headers_not_supported, // HPUB before CONNECT {"headers":true}: close without -ERR
};

class parser {
public:
    explicit parser(const parser_config& config = {});

    // Parses the next operation from `in` and advances `in` past what was
    // consumed. Views in `out` stay valid until the next call.
    parse_status next(std::string_view& in, parsed_op& out);

    parse_error error() const noexcept { return error_; }
    // A short reason for logs ("PUB: size is not a number", ...).
    const char* error_detail() const noexcept { return detail_; }
    // When next() failed after the op's argument line was read (a malformed
    // or oversized PUB, a SUB with too many fields, a payload without CRLF):
    // that op, with `arg` set; kind none when it failed before. nats-server
    // traces such a line before it reports the error.
    struct failed_line {
        op_kind kind = op_kind::none;
        std::string_view arg;
    };
    const failed_line& failed_op() const noexcept { return failed_; }

    // CONNECT {"headers":true} enables HPUB for this connection.
    void set_headers(bool on) noexcept { headers_ = on; }
    void set_max_payload(std::int64_t v) noexcept { config_.max_payload = v; }
    // Grows the scratch when the limit grows (config reload), keeping any
    // partial line already buffered.
    void set_max_control_line(std::uint32_t v);
    const parser_config& config() const noexcept { return config_; }

    // True when no partial operation is buffered.
    bool at_boundary() const noexcept { return state_ == state::op_start; }
    // Bytes currently held for split reads (for memory accounting).
    std::size_t buffered_bytes() const noexcept;

private:
    enum class state : unsigned char { op_start, line_partial, skip_line, payload_partial };
    enum class line_result : unsigned char { done, partial, failed };

    line_result try_line(const char* p, const char* end, parsed_op& out, const char** next);
    bool extract(const char* args, const line_scan& s, parsed_op& out);
    parse_status take_payload(std::string_view& in, parsed_op& out, const char* line,
                              const char* line_end);
    parse_status begin_partial(std::string_view& in);
    parse_status continue_partial(std::string_view& in, parsed_op& out);
    parse_status continue_payload(std::string_view& in, parsed_op& out);
    bool check_partial_line();
    parse_status fail(parse_error e, const char* detail);

    parser_config config_;
    scan_fn scan_;
    bool headers_ = false;
    state state_ = state::op_start;
    parse_error error_ = parse_error::none;
    const char* detail_ = "";
    failed_line failed_;

    // Split control line. Capacity is fixed at construction.
    std::unique_ptr<char[]> scratch_;
    std::uint32_t scratch_cap_ = 0;
    std::uint32_t scratch_len_ = 0;

    // Split payload: the op's fields live in scratch_, the body here.
    parsed_op pending_;
    std::vector<char> body_;
    std::size_t body_have_ = 0;
    std::size_t body_need_ = 0;    // payload size + 2 for CRLF
    std::size_t payload_size_ = 0; // from the control line being parsed
};

// nats-server's parseSize: 1..9 ASCII digits, else -1.
std::int64_t parse_size(std::string_view s) noexcept;

} // namespace natrix::protocol
