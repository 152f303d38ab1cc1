// Parser fuzz target: the first bytes choose the limits and the cut points;
// the rest is the stream. The same stream parsed whole, split at arbitrary
// points, and with the scalar kernel must give the same ops and the same
// error, and nothing may crash or read out of bounds.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <natrix/protocol/parser.hh>

using namespace natrix::protocol;

namespace {

struct outcome {
    std::string ops;
    parse_error error = parse_error::none;
};

void append_op(std::string& out, const parsed_op& op) {
    out += op_name(op.kind);
    out += '|';
    out.append(op.subject);
    out += '|';
    out.append(op.reply);
    out += '|';
    out.append(op.queue);
    out += '|';
    out.append(op.sid);
    out += '|';
    out.append(op.arg);
    out += '|';
    out.append(op.payload);
    out += '|';
    out += std::to_string(op.header_size) + "|" + std::to_string(op.max_msgs) + "\n";
}

outcome run(const std::uint8_t* data, std::size_t size, const parser_config& cfg,
            const std::vector<std::size_t>& cuts) {
    parser p(cfg);
    p.set_headers(true);
    outcome o;
    std::size_t pos = 0;
    std::size_t ci = 0;
    while (pos < size) {
        std::size_t n = ci < cuts.size() ? cuts[ci++] : size - pos;
        if (n == 0 || n > size - pos) n = size - pos;
        // Each read gets its own buffer, freed right after, like a recv buffer.
        std::unique_ptr<char[]> buf(new char[n]);
        std::memcpy(buf.get(), data + pos, n);
        pos += n;
        std::string_view in(buf.get(), n);
        parsed_op op;
        for (;;) {
            parse_status st = p.next(in, op);
            if (st == parse_status::op) {
                append_op(o.ops, op);
                continue;
            }
            if (st == parse_status::error) {
                o.error = p.error();
                return o;
            }
            break;
        }
        if (!in.empty()) std::abort(); // need_more must consume everything
    }
    return o;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 4) return 0;
    parser_config cfg;
    cfg.max_control_line = 16 + data[0] * 4u;
    cfg.max_payload = 1 + data[1] * 64;
    cfg.role = data[2] & 1 ? conn_role::route : conn_role::client;
    std::vector<std::size_t> cuts;
    std::size_t seed = data[3];
    data += 4;
    size -= 4;
    for (std::size_t i = 0; i < 64; ++i) {
        seed = seed * 1103515245 + 12345;
        cuts.push_back(1 + (seed >> 8) % 40);
    }

    const outcome whole = run(data, size, cfg, {});
    const outcome split = run(data, size, cfg, cuts);
    const outcome bytes = run(data, size, cfg, std::vector<std::size_t>(size, 1));
    cfg.isa = scan_isa::scalar;
    const outcome scalar = run(data, size, cfg, cuts);

    // CONNECT/INFO/-ERR lines only hit max_control_line when split (as in
    // nats-server), so a split run may stop earlier with that error; its ops
    // must then be a prefix of the whole run's ops.
    auto same = [&](const outcome& a, const outcome& b) {
        if (a.error == b.error && a.ops == b.ops) return true;
        if (b.error == parse_error::max_control_line && a.ops.compare(0, b.ops.size(), b.ops) == 0)
            return true;
        return false;
    };
    if (!same(whole, split) || !same(whole, bytes)) std::abort();
    if (scalar.error != split.error || scalar.ops != split.ops) std::abort();
    return 0;
}
