#include <vector>

#include <natrix/broker/protocol_trace.hh>
#include <natrix/util/go_quote.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

namespace {

// nats-server's client String(): "127.0.0.1:51044 - cid:4 - ", and once a
// CONNECT gave them, version, lang and name joined by ':' in Go quotes.
void append_prefix(std::string& out, const session& s) {
    const bool v6 = s.ip.find(':') != std::string::npos;
    if (v6) out += '[';
    out += s.ip;
    if (v6) out += ']';
    out += ':';
    out += std::to_string(s.port);
    out += s.is_route() ? " - rid:" : " - cid:";
    out += std::to_string(s.cid);
    out += " - ";
    std::string named;
    const auto join = [&](std::string_view part, std::string_view lead = {}) {
        if (part.empty()) return;
        if (!named.empty()) named += ':';
        named += lead;
        named += part;
    };
    join(s.opts.version, "v");
    join(s.opts.lang);
    join(s.opts.name);
    if (!named.empty()) {
        util::append_go_quoted(out, named);
        out += " - ";
    }
}

// "<<- [OP arg]": Go's %s of the op and its argument, when it has one.
std::string op_line(const session& s, std::string_view dir, std::string_view op,
                    const std::string_view* arg) {
    std::string out;
    append_prefix(out, s);
    out += dir;
    out += " [";
    out += op;
    if (arg) {
        out += ' ';
        out += *arg;
    }
    out += ']';
    return out;
}

// The pieces of nats-server's patterns: RE2's \s, \w and the value's class.
bool re_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}
bool word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool ends_value(char c) {
    return c == '"' || c == ',' || c == '\r' || c == '\n' || c == '}';
}

constexpr std::size_t npos = std::string_view::npos;

// `"?\s*[:=]\s*"?` from i, right after a key: where its value starts, or npos.
std::size_t value_start(std::string_view t, std::size_t i) {
    if (i < t.size() && t[i] == '"') ++i;
    while (i < t.size() && re_space(t[i])) ++i;
    if (i >= t.size() || (t[i] != ':' && t[i] != '=')) return npos;
    ++i;
    while (i < t.size() && re_space(t[i])) ++i;
    if (i < t.size() && t[i] == '"') ++i;
    return i;
}

// `([^",\r\n}]*)`
std::size_t value_end(std::string_view t, std::size_t i) {
    while (i < t.size() && !ends_value(t[i])) ++i;
    return i;
}

struct span {
    std::size_t from, to;
};

// The key at p, if t holds one of `keys` there; else empty.
std::string_view key_at(std::string_view t, std::size_t p,
                        std::initializer_list<std::string_view> keys) {
    for (std::string_view k : keys)
        if (t.substr(p, k.size()) == k) return k;
    return {};
}

// prefixAuthPat: "?\s*(?:auth_token\S*?|pass\S*?)"?\s*[:=]\s*"?([^",\r\n}]*)
// Matches are leftmost and do not overlap; \S*? takes the fewest bytes after
// the key with which the rest matches. The keys cannot overlap each other,
// so once a key's run of non-space bytes fails, every key inside it fails too.
std::vector<span> prefixed_values(std::string_view t) {
    std::vector<span> found;
    for (std::size_t p = 0; p < t.size(); ++p) {
        const std::string_view key = key_at(t, p, {"auth_token", "pass"});
        if (key.empty()) continue;
        for (std::size_t k = p + key.size();; ++k) {
            if (const std::size_t v = value_start(t, k); v != npos) {
                const std::size_t e = value_end(t, v);
                found.push_back({v, e});
                p = e - 1; // the next match starts at e
                break;
            }
            if (k >= t.size() || re_space(t[k])) {
                p = k;
                break;
            }
        }
    }
    return found;
}

// exactAuthPat: (?:^|[^A-Za-z0-9_])"?\s*(?:proxy_sig|nkey|sig)"?\s*[:=]\s*"?([^",\r\n}]*)
// The byte before the key is the boundary (a quote or a blank is one), and
// it belongs to the match, so it must lie past the previous match.
std::vector<span> exact_values(std::string_view t) {
    std::vector<span> found;
    std::size_t from = 0;
    for (std::size_t p = 0; p < t.size(); ++p) {
        if (p > 0 && (p - 1 < from || word_char(t[p - 1]))) continue;
        const std::string_view key = key_at(t, p, {"proxy_sig", "nkey", "sig"});
        if (key.empty()) continue;
        const std::size_t v = value_start(t, p + key.size());
        if (v == npos) continue;
        const std::size_t e = value_end(t, v);
        found.push_back({v, e});
        from = e;
        p = e - 1;
    }
    return found;
}

std::string replace_spans(std::string_view t, const std::vector<span>& spans) {
    std::string out;
    out.reserve(t.size() + spans.size() * 10);
    std::size_t at = 0;
    for (const span& s : spans) {
        out.append(t.substr(at, s.from - at));
        out += "[REDACTED]";
        at = s.to;
    }
    out.append(t.substr(at));
    return out;
}

void write(const std::string& line) {
    util::log_write_text(util::log_level::trace, line);
}

} // namespace

std::string redact_secrets(std::string_view connect_json) {
    const std::string once = replace_spans(connect_json, prefixed_values(connect_json));
    return replace_spans(once, exact_values(once));
}

std::string trace_in_line(const session& s, protocol::op_kind kind, std::string_view arg) {
    using protocol::op_kind;
    switch (kind) {
    case op_kind::connect: {
        const std::string redacted = redact_secrets(arg);
        const std::string_view v = redacted;
        return op_line(s, "<<-", "CONNECT", &v);
    }
    case op_kind::pub:
    case op_kind::hpub:
    case op_kind::sub:
    case op_kind::unsub:
        return op_line(s, "<<-", protocol::op_name(kind), &arg);
    case op_kind::ping:
    case op_kind::pong:
        return op_line(s, "<<-", protocol::op_name(kind), nullptr);
    default:
        return {}; // INFO, +OK and -ERR from a client are not traced
    }
}

std::string trace_payload_line(const session& s, std::string_view payload, int max_len) {
    std::string out;
    append_prefix(out, s);
    out += "<<- MSG_PAYLOAD: [";
    if (max_len > 0 && payload.size() > static_cast<std::size_t>(max_len)) {
        // nats-server quotes the first max_len bytes and keeps max_len bytes
        // of the quoted text, even where that cuts an escape in two.
        std::string quoted;
        util::append_go_quoted(quoted, payload.substr(0, static_cast<std::size_t>(max_len)));
        out += '"';
        out.append(quoted, 1, static_cast<std::size_t>(max_len));
        out += "...\"";
    } else {
        util::append_go_quoted(out, payload);
    }
    out += ']';
    return out;
}

std::string trace_out_line(const session& s, std::string_view op, std::string_view arg) {
    return op_line(s, "->>", op, arg.empty() ? nullptr : &arg);
}

std::string trace_delsub_line(const session& s, std::string_view sid) {
    return op_line(s, "<->", "DELSUB", &sid);
}

void trace_in(const session& s, protocol::op_kind kind, std::string_view arg) {
    const std::string line = trace_in_line(s, kind, arg);
    if (!line.empty()) write(line);
}

void trace_payload(const session& s, std::string_view payload) {
    write(trace_payload_line(s, payload, util::log_max_traced_msg_len()));
}

void trace_out(const session& s, std::string_view op, std::string_view arg) {
    write(trace_out_line(s, op, arg));
}

std::string trace_route_line(const session& s, bool in, std::string_view line) {
    return op_line(s, in ? "<<-" : "->>", line, nullptr);
}

void trace_route(const session& s, bool in, std::string_view line) {
    write(trace_route_line(s, in, line));
}

void trace_delsub(const session& s, std::string_view sid) {
    write(trace_delsub_line(s, sid));
}

} // namespace natrix::broker
