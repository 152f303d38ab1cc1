#pragma once
// A parsed protocol operation. All views point into the caller's receive
// buffer or into the parser's own scratch; they stay valid until the next
// call to parser::next().
#include <cstdint>
#include <string_view>

#include <natrix/protocol/scanner.hh>

namespace natrix::protocol {

enum class op_kind : unsigned char {
    none,
    // client -> server
    connect,
    pub,
    hpub,
    sub,
    unsub,
    ping,
    pong,
    // server -> client (also accepted from clients, as nats-server does)
    info,
    ok,
    err,
    // route / gateway / leafnode ops (only accepted on those connection kinds)
    rs_sub,        // RS+ <account> <subject> [<queue> <weight>]
    rs_unsub,      // RS- <account> <subject> [<queue>]
    ls_sub,        // LS+ ...
    ls_unsub,      // LS- ...
    rmsg,          // RMSG <account> <subject> [reply] <size> (+ queue forms)
    hrmsg,         // HMSG on a route: <account> <subject> [reply] <hdr> <size>
    lmsg,          // LMSG
    account_sub,   // A+ <account>
    account_unsub, // A- <account>
};

// Wire spelling of an op, for logs and traces.
constexpr std::string_view op_name(op_kind k) noexcept {
    constexpr std::string_view names[] = {"?",    "CONNECT", "PUB",  "HPUB", "SUB", "UNSUB", "PING",
                                          "PONG", "INFO",    "+OK",  "-ERR", "RS+", "RS-",   "LS+",
                                          "LS-",  "RMSG",    "HMSG", "LMSG", "A+",  "A-"};
    return names[static_cast<unsigned>(k)];
}

// Which side of the wire the parser serves; decides which ops are legal.
enum class conn_role : unsigned char { client, route, gateway, leaf };

struct parsed_op {
    op_kind kind = op_kind::none;
    // PUB/HPUB/SUB: subject. UNSUB: unused. RS+/RMSG: subject.
    std::string_view subject;
    std::string_view reply;   // PUB/HPUB reply, empty when absent
    std::string_view queue;   // SUB queue group, empty when absent
    std::string_view sid;     // SUB/UNSUB subscription id
    std::string_view account; // route ops
    // The argument as the client wrote it, from its first byte to the line
    // end (less one '\r'): CONNECT/INFO json, -ERR text, and for PUB, HPUB,
    // SUB, UNSUB and route ops the whole argument line (protocol traces show it).
    std::string_view arg;
    // PUB/HPUB: the whole message body (headers + payload), without the
    // trailing CRLF.
    std::string_view payload;
    std::uint32_t header_size = 0; // HPUB: bytes of header block within payload
    // The size fields exactly as the client wrote them ("00003" stays so):
    // nats-server echoes them in MSG/HMSG.
    std::string_view size_text;
    std::string_view header_size_text;
    std::int64_t max_msgs = -1; // UNSUB: -1 when absent or not a number
    // Route ops: the raw tokens after the op, for the clustering layer.
    std::uint32_t ntokens = 0;
    std::string_view tokens[max_line_tokens];
};

} // namespace natrix::protocol
