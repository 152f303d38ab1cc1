#pragma once
// Test helpers: run the parser over a stream cut into chunks and render each
// op as a line of text, so tests compare readable transcripts.
#include <random>
#include <string>
#include <vector>

#include <natrix/protocol/parser.hh>

namespace natrix::protocol::test {

inline std::string render(const parsed_op& op) {
    auto s = [](std::string_view v) { return std::string(v); };
    switch (op.kind) {
    case op_kind::pub:
        return "PUB " + s(op.subject) + " [" + s(op.reply) + "] " + s(op.payload);
    case op_kind::hpub:
        return "HPUB " + s(op.subject) + " [" + s(op.reply) + "] " +
               std::to_string(op.header_size) + " " + s(op.payload);
    case op_kind::sub:
        return "SUB " + s(op.subject) + " [" + s(op.queue) + "] " + s(op.sid);
    case op_kind::unsub:
        return "UNSUB " + s(op.sid) + " " + std::to_string(op.max_msgs);
    case op_kind::ping:
        return "PING";
    case op_kind::pong:
        return "PONG";
    case op_kind::ok:
        return "+OK";
    case op_kind::connect:
        return "CONNECT " + s(op.arg);
    case op_kind::info:
        return "INFO " + s(op.arg);
    case op_kind::err:
        return "-ERR " + s(op.arg);
    default: {
        std::string r(op_name(op.kind));
        for (std::uint32_t i = 0; i < op.ntokens; ++i) r += " " + s(op.tokens[i]);
        if (op.kind == op_kind::rmsg || op.kind == op_kind::hrmsg || op.kind == op_kind::lmsg)
            r += " {" + s(op.payload) + "}";
        return r;
    }
    }
}

struct run_result {
    std::vector<std::string> ops;
    parse_error error = parse_error::none;
    bool at_boundary = true;
};

// Feeds `stream` in chunks whose sizes come from `next_chunk`. Each chunk is
// copied into its own heap buffer (as a receive buffer would be) and freed
// after use, so ASan catches any view that outlives its buffer.
template <typename ChunkFn>
run_result run_chunks(const std::string& stream, parser_config cfg, bool headers,
                      ChunkFn next_chunk) {
    parser p(cfg);
    p.set_headers(headers);
    run_result r;
    std::size_t pos = 0;
    while (pos < stream.size()) {
        std::size_t n = std::min(next_chunk(), stream.size() - pos);
        if (n == 0) n = 1;
        std::vector<char> buf(stream.begin() + static_cast<long>(pos),
                              stream.begin() + static_cast<long>(pos + n));
        pos += n;
        std::string_view in(buf.data(), buf.size());
        parsed_op op;
        for (;;) {
            parse_status st = p.next(in, op);
            if (st == parse_status::op) {
                r.ops.push_back(render(op));
                continue;
            }
            if (st == parse_status::error) {
                r.error = p.error();
                r.at_boundary = false;
                return r;
            }
            break;
        }
        if (!in.empty()) {
            r.ops.push_back("<<input left unconsumed>>");
            return r;
        }
    }
    r.at_boundary = p.at_boundary();
    return r;
}

inline run_result run_whole(const std::string& stream, parser_config cfg = {},
                            bool headers = true) {
    return run_chunks(stream, cfg, headers, [&] { return stream.size(); });
}

inline run_result run_fixed(const std::string& stream, std::size_t chunk, parser_config cfg = {},
                            bool headers = true) {
    return run_chunks(stream, cfg, headers, [&] { return chunk; });
}

inline run_result run_random(const std::string& stream, std::uint32_t seed, parser_config cfg = {},
                             bool headers = true) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> d(1, 64);
    return run_chunks(stream, cfg, headers, [&] { return d(rng); });
}

// Two pieces: [0, cut) and [cut, end).
inline run_result run_split(const std::string& stream, std::size_t cut, parser_config cfg = {},
                            bool headers = true) {
    bool first = true;
    return run_chunks(stream, cfg, headers, [&]() -> std::size_t {
        if (first) {
            first = false;
            return cut;
        }
        return stream.size();
    });
}

} // namespace natrix::protocol::test
