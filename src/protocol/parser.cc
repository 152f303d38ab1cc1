#include <algorithm>
#include <cstring>

#include <natrix/protocol/parser.hh>

namespace natrix::protocol {

namespace {

enum class arg_shape : unsigned char {
    none,   // PING, PONG, +OK: anything up to the newline is ignored (as nats-server)
    text,   // CONNECT, INFO, -ERR: the rest of the line is one argument
    tokens, // PUB, SUB, ...: whitespace-separated fields
};

struct op_pattern {
    std::string_view name; // lower case; letters match either case
    op_kind kind;
    arg_shape shape;
    bool needs_separator; // a space or tab must follow the name
    bool client_ok;       // legal on a client connection
};

constexpr op_pattern k_ops[] = {
    {"pub", op_kind::pub, arg_shape::tokens, true, true},
    {"hpub", op_kind::hpub, arg_shape::tokens, true, true},
    {"sub", op_kind::sub, arg_shape::tokens, true, true},
    {"unsub", op_kind::unsub, arg_shape::tokens, true, true},
    {"ping", op_kind::ping, arg_shape::none, false, true},
    {"pong", op_kind::pong, arg_shape::none, false, true},
    {"connect", op_kind::connect, arg_shape::text, false, true},
    {"info", op_kind::info, arg_shape::text, false, true},
    {"+ok", op_kind::ok, arg_shape::none, false, true},
    {"-err", op_kind::err, arg_shape::text, true, true},
    {"rs+", op_kind::rs_sub, arg_shape::tokens, true, false},
    {"rs-", op_kind::rs_unsub, arg_shape::tokens, true, false},
    {"rmsg", op_kind::rmsg, arg_shape::tokens, true, false},
    {"hmsg", op_kind::hrmsg, arg_shape::tokens, true, false},
    {"ls+", op_kind::ls_sub, arg_shape::tokens, true, false},
    {"ls-", op_kind::ls_unsub, arg_shape::tokens, true, false},
    {"lmsg", op_kind::lmsg, arg_shape::tokens, true, false},
    {"a+", op_kind::account_sub, arg_shape::tokens, true, false},
    {"a-", op_kind::account_unsub, arg_shape::tokens, true, false},
};

inline bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

inline bool name_char_matches(char c, char pattern) {
    if (pattern >= 'a' && pattern <= 'z') return (c | 0x20) == pattern;
    return c == pattern;
}

enum class classify_status : unsigned char { ok, partial, invalid };

struct classified {
    classify_status status;
    const op_pattern* op;
    std::uint32_t arg_off; // first byte of the argument (after separators)
};

// Recognises the op at the start of [p, p+n). Works on incomplete input so
// that a bad op is reported as soon as its first wrong byte arrives, like
// nats-server's byte-at-a-time state machine.
classified classify(const char* p, std::uint32_t n, conn_role role) {
    bool maybe = false;
    for (const op_pattern& op : k_ops) {
        if (!op.client_ok && role == conn_role::client) continue;
        const auto m = static_cast<std::uint32_t>(op.name.size());
        const std::uint32_t cmp = std::min(n, m);
        bool match = true;
        for (std::uint32_t i = 0; i < cmp; ++i) {
            if (!name_char_matches(p[i], op.name[i])) {
                match = false;
                break;
            }
        }
        if (!match) continue;
        if (n < m) {
            maybe = true;
            continue;
        }
        std::uint32_t at = m;
        if (op.needs_separator) {
            if (n == m) {
                maybe = true;
                continue;
            }
            if (!is_blank(p[m])) continue;
            ++at;
        }
        if (op.shape != arg_shape::none) {
            while (at < n && is_blank(p[at])) ++at;
        }
        return {classify_status::ok, &op, at};
    }
    return {maybe ? classify_status::partial : classify_status::invalid, nullptr, 0};
}

// Length of an argument as nats-server measures it for max_control_line:
// from its first byte to the newline, less one trailing '\r'.
inline std::uint32_t arg_length(const char* arg, const char* newline) {
    auto len = static_cast<std::uint32_t>(newline - arg);
    if (len > 0 && arg[len - 1] == '\r') --len;
    return len;
}

inline std::string_view field(const char* base, const line_scan& s, std::uint32_t i) {
    return {base + s.start[i], s.end[i] - s.start[i]};
}

} // namespace

std::int64_t parse_size(std::string_view s) noexcept {
    if (s.empty() || s.size() > 9) return -1;
    std::int64_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return -1;
        n = n * 10 + (c - '0');
    }
    return n;
}

parser::parser(const parser_config& config)
    : config_(config)
    , scan_(scan_kernel(config.isa)) {
    set_max_control_line(config_.max_control_line);
}

void parser::set_max_control_line(std::uint32_t v) {
    config_.max_control_line = v;
    // Room for the longest op name and its separators on top of the limit.
    std::uint32_t limit = v;
    if (config_.role != conn_role::client) limit *= 16; // routes carry long RS+/RMSG lines
    const std::uint32_t cap = limit + 64;
    if (cap <= scratch_cap_) return;
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (scratch_len_) std::memcpy(bigger.get(), scratch_.get(), scratch_len_);
    // A split payload's fields point into the scratch: rebase them.
    if (state_ == state::payload_partial) {
        auto rebase = [&](std::string_view& f) {
            if (!f.empty())
                f = std::string_view(bigger.get() + (f.data() - scratch_.get()), f.size());
        };
        rebase(pending_.subject);
        rebase(pending_.reply);
        rebase(pending_.arg);
        rebase(pending_.size_text);
        rebase(pending_.header_size_text);
        for (std::uint32_t i = 0; i < pending_.ntokens && i < max_line_tokens; ++i)
            rebase(pending_.tokens[i]);
    }
    scratch_ = std::move(bigger);
    scratch_cap_ = cap;
}

std::size_t parser::buffered_bytes() const noexcept {
    return scratch_len_ + body_.capacity();
}

parse_status parser::fail(parse_error e, const char* detail) {
    error_ = e;
    detail_ = detail;
    return parse_status::error;
}

parse_status parser::next(std::string_view& in, parsed_op& out) {
    if (error_ != parse_error::none) return parse_status::error;
    switch (state_) {
    case state::op_start:
        // Keep small assembly buffers for reuse; give large ones back once
        // the op that pointed into it has been handled.
        if (body_.capacity() > 64 * 1024) std::vector<char>().swap(body_);
        break;
    case state::line_partial:
        return continue_partial(in, out);
    case state::payload_partial:
        return continue_payload(in, out);
    case state::skip_line: {
        const void* nl = std::memchr(in.data(), '\n', in.size());
        if (!nl) {
            in.remove_prefix(in.size());
            return parse_status::need_more;
        }
        in.remove_prefix(static_cast<const char*>(nl) - in.data() + 1);
        state_ = state::op_start;
        out = parsed_op{};
        out.kind = pending_.kind;
        return parse_status::op;
    }
    }

    if (in.empty()) return parse_status::need_more;
    const char* p = in.data();
    const char* end = p + in.size();
    const char* after = nullptr;
    switch (try_line(p, end, out, &after)) {
    case line_result::failed:
        return parse_status::error;
    case line_result::partial:
        return begin_partial(in);
    case line_result::done:
        break;
    }
    in.remove_prefix(after - p);
    if (out.kind == op_kind::pub || out.kind == op_kind::hpub || out.kind == op_kind::rmsg ||
        out.kind == op_kind::hrmsg || out.kind == op_kind::lmsg) {
        return take_payload(in, out, p, after);
    }
    return parse_status::op;
}

// Parses one control line starting at p. On success *next points past the
// newline. `partial` means [p, end) holds no complete line yet (and nothing
// wrong was seen so far).
parser::line_result parser::try_line(const char* p, const char* end, parsed_op& out,
                                     const char** next) {
    const auto avail = static_cast<std::uint32_t>(std::min<std::ptrdiff_t>(end - p, UINT32_MAX));
    classified c;
    // Fast path for the op that dominates every stream.
    if (avail >= 5 && (p[0] | 0x20) == 'p' && (p[1] | 0x20) == 'u' && (p[2] | 0x20) == 'b' &&
        is_blank(p[3])) {
        std::uint32_t at = 4;
        while (at < avail && is_blank(p[at])) ++at;
        c = {classify_status::ok, &k_ops[0], at};
    } else {
        c = classify(p, avail, config_.role);
    }
    if (c.status == classify_status::invalid) {
        fail(parse_error::unknown_op, "unknown protocol operation");
        return line_result::failed;
    }
    if (c.status == classify_status::partial) return line_result::partial;

    const char* arg = p + c.arg_off;
    // Fields an op does not set are empty, never left over from the last op.
    out.kind = c.op->kind;
    out.subject = out.reply = out.queue = out.sid = out.account = out.arg = out.payload = {};
    out.size_text = out.header_size_text = {};
    out.header_size = 0;
    out.max_msgs = -1;
    out.ntokens = 0;
    if (c.op->shape == arg_shape::tokens) {
        line_scan s;
        scan_(arg, end, s);
        if (s.newline < 0) return line_result::partial;
        const char* nl = arg + s.newline;
        *next = nl + 1;
        const std::uint32_t len = arg_length(arg, nl);
        if (config_.role == conn_role::client && len > config_.max_control_line) {
            fail(parse_error::max_control_line, "control line exceeds max_control_line");
            return line_result::failed;
        }
        out.arg = std::string_view(arg, len);
        if (extract(arg, s, out)) return line_result::done;
        failed_ = {out.kind, out.arg};
        return line_result::failed;
    }
    const void* nlv = std::memchr(arg, '\n', end - arg);
    if (!nlv) return line_result::partial;
    const char* nl = static_cast<const char*>(nlv);
    *next = nl + 1;
    if (c.op->shape == arg_shape::text) {
        const std::uint32_t len = arg_length(arg, nl);
        // nats-server 2.9 checks CONNECT's argument against max_control_line
        // (INFO and -ERR only when split).
        if (out.kind == op_kind::connect && config_.role == conn_role::client &&
            len > config_.max_control_line) {
            fail(parse_error::max_control_line, "CONNECT exceeds max_control_line");
            return line_result::failed;
        }
        out.arg = std::string_view(arg, len);
    }
    return line_result::done;
}

bool parser::extract(const char* a, const line_scan& s, parsed_op& out) {
    const std::uint32_t n = s.ntokens;
    switch (out.kind) {
    case op_kind::pub: {
        if (n != 2 && n != 3) {
            fail(parse_error::malformed, "PUB: wrong number of arguments");
            return false;
        }
        out.subject = field(a, s, 0);
        out.reply = n == 3 ? field(a, s, 1) : std::string_view{};
        const std::int64_t size = parse_size(field(a, s, n - 1));
        if (size < 0) {
            fail(parse_error::malformed, "PUB: size is not a number");
            return false;
        }
        if (config_.max_payload > 0 && size > config_.max_payload) {
            fail(parse_error::max_payload, "PUB: payload exceeds max_payload");
            return false;
        }
        out.header_size = 0;
        out.size_text = field(a, s, n - 1);
        out.header_size_text = {};
        payload_size_ = static_cast<std::size_t>(size);
        return true;
    }
    case op_kind::hpub: {
        if (!headers_) {
            fail(parse_error::headers_not_supported, "HPUB: headers not enabled by CONNECT");
            return false;
        }
        if (n != 3 && n != 4) {
            fail(parse_error::malformed, "HPUB: wrong number of arguments");
            return false;
        }
        out.subject = field(a, s, 0);
        out.reply = n == 4 ? field(a, s, 1) : std::string_view{};
        const std::int64_t hdr = parse_size(field(a, s, n - 2));
        const std::int64_t size = parse_size(field(a, s, n - 1));
        if (hdr < 0 || size < 0) {
            fail(parse_error::malformed, "HPUB: size is not a number");
            return false;
        }
        if (hdr > size) {
            fail(parse_error::malformed, "HPUB: header size larger than total size");
            return false;
        }
        if (config_.max_payload > 0 && size > config_.max_payload) {
            fail(parse_error::max_payload, "HPUB: payload exceeds max_payload");
            return false;
        }
        out.header_size = static_cast<std::uint32_t>(hdr);
        out.size_text = field(a, s, n - 1);
        out.header_size_text = field(a, s, n - 2);
        payload_size_ = static_cast<std::size_t>(size);
        return true;
    }
    case op_kind::sub:
        if (n != 2 && n != 3) {
            fail(parse_error::malformed, "SUB: wrong number of arguments");
            return false;
        }
        out.subject = field(a, s, 0);
        out.queue = n == 3 ? field(a, s, 1) : std::string_view{};
        out.sid = field(a, s, n - 1);
        return true;
    case op_kind::unsub:
        if (n != 1 && n != 2) {
            fail(parse_error::malformed, "UNSUB: wrong number of arguments");
            return false;
        }
        out.sid = field(a, s, 0);
        out.max_msgs = n == 2 ? parse_size(field(a, s, 1)) : -1;
        return true;
    default:
        break;
    }
    // Route, gateway and leafnode ops: hand the fields to the cluster layer.
    if (n == 0 || n > max_line_tokens) {
        fail(parse_error::malformed, "route op: wrong number of arguments");
        return false;
    }
    out.ntokens = n;
    for (std::uint32_t i = 0; i < n; ++i) out.tokens[i] = field(a, s, i);
    if (out.kind == op_kind::rmsg || out.kind == op_kind::lmsg || out.kind == op_kind::hrmsg) {
        const bool hdr = out.kind == op_kind::hrmsg;
        if (n < (hdr ? 4u : 3u)) {
            fail(parse_error::malformed, "routed message: too few arguments");
            return false;
        }
        const std::int64_t size = parse_size(out.tokens[n - 1]);
        const std::int64_t hsize = hdr ? parse_size(out.tokens[n - 2]) : 0;
        if (size < 0 || hsize < 0 || hsize > size) {
            fail(parse_error::malformed, "routed message: bad size");
            return false;
        }
        out.header_size = static_cast<std::uint32_t>(hsize);
        payload_size_ = static_cast<std::size_t>(size);
    }
    return true;
}

// The control line of a message op has been parsed into `out` (payload
// holds only its size so far); `in` starts right after the line.
parse_status parser::take_payload(std::string_view& in, parsed_op& out, const char* line,
                                  const char* line_end) {
    const std::size_t size = payload_size_;
    if (in.size() >= size + 2) {
        const char* body = in.data();
        if (body[size] != '\r' || body[size + 1] != '\n') {
            failed_ = {out.kind, out.arg};
            return fail(parse_error::unknown_op, "payload not followed by CRLF");
        }
        out.payload = std::string_view(body, size);
        in.remove_prefix(size + 2);
        return parse_status::op;
    }
    // Split payload: keep the fields by copying the control line into
    // scratch (unless it already lives there) and rebasing the views.
    const char* base = line;
    const auto len = static_cast<std::uint32_t>(line_end - line);
    if (line != scratch_.get()) {
        if (len > scratch_cap_) return fail(parse_error::max_control_line, "control line too long");
        std::memcpy(scratch_.get(), line, len);
        scratch_len_ = len;
    }
    auto rebase = [&](std::string_view v) {
        if (v.data() == nullptr || v.empty()) return v;
        return std::string_view(scratch_.get() + (v.data() - base), v.size());
    };
    pending_ = out;
    pending_.subject = rebase(out.subject);
    pending_.reply = rebase(out.reply);
    pending_.arg = rebase(out.arg);
    pending_.size_text = rebase(out.size_text);
    pending_.header_size_text = rebase(out.header_size_text);
    for (std::uint32_t i = 0; i < out.ntokens && i < max_line_tokens; ++i)
        pending_.tokens[i] = rebase(out.tokens[i]);
    body_need_ = size + 2;
    body_.resize(body_need_);
    body_have_ = in.size();
    std::memcpy(body_.data(), in.data(), in.size());
    in.remove_prefix(in.size());
    state_ = state::payload_partial;
    return parse_status::need_more;
}

parse_status parser::continue_payload(std::string_view& in, parsed_op& out) {
    const std::size_t take = std::min(in.size(), body_need_ - body_have_);
    std::memcpy(body_.data() + body_have_, in.data(), take);
    body_have_ += take;
    in.remove_prefix(take);
    if (body_have_ < body_need_) return parse_status::need_more;
    const std::size_t size = body_need_ - 2;
    if (body_[size] != '\r' || body_[size + 1] != '\n') {
        failed_ = {pending_.kind, pending_.arg};
        return fail(parse_error::unknown_op, "payload not followed by CRLF");
    }
    out = pending_;
    out.payload = std::string_view(body_.data(), size);
    state_ = state::op_start;
    scratch_len_ = 0;
    return parse_status::op;
}

// Checks what has been buffered of an incomplete control line: the op so
// far must be a prefix of a real op, and the argument must not already be
// over max_control_line (nats-server checks at every read boundary).
bool parser::check_partial_line() {
    const char* p = scratch_.get();
    const classified c = classify(p, scratch_len_, config_.role);
    if (c.status == classify_status::invalid) {
        fail(parse_error::unknown_op, "unknown protocol operation");
        return false;
    }
    if (c.status == classify_status::ok && c.op->shape != arg_shape::none &&
        config_.role == conn_role::client) {
        std::uint32_t len = scratch_len_ - c.arg_off;
        if (len > 0 && p[scratch_len_ - 1] == '\r') --len;
        if (len > config_.max_control_line) {
            fail(parse_error::max_control_line, "control line exceeds max_control_line");
            return false;
        }
    }
    return true;
}

parse_status parser::begin_partial(std::string_view& in) {
    const auto n = in.size();
    // PING/PONG/+OK ignore the rest of their line: drop it unbuffered.
    const classified c =
        classify(in.data(), static_cast<std::uint32_t>(std::min<std::size_t>(n, 64)), config_.role);
    if (c.status == classify_status::ok && c.op->shape == arg_shape::none) {
        pending_.kind = c.op->kind;
        state_ = state::skip_line;
        in.remove_prefix(n);
        return parse_status::need_more;
    }
    if (n > scratch_cap_) return fail(parse_error::max_control_line, "control line too long");
    std::memcpy(scratch_.get(), in.data(), n);
    scratch_len_ = static_cast<std::uint32_t>(n);
    in.remove_prefix(n);
    if (!check_partial_line()) return parse_status::error;
    state_ = state::line_partial;
    return parse_status::need_more;
}

parse_status parser::continue_partial(std::string_view& in, parsed_op& out) {
    const void* nlv = std::memchr(in.data(), '\n', in.size());
    const std::size_t take = nlv ? static_cast<const char*>(nlv) - in.data() + 1 : in.size();
    if (scratch_len_ + take > scratch_cap_) {
        return fail(parse_error::max_control_line, "control line too long");
    }
    std::memcpy(scratch_.get() + scratch_len_, in.data(), take);
    scratch_len_ += static_cast<std::uint32_t>(take);
    in.remove_prefix(take);
    if (!nlv) {
        if (!check_partial_line()) return parse_status::error;
        // The op may have become PING/PONG/+OK: stop buffering its tail.
        const classified c = classify(scratch_.get(), scratch_len_, config_.role);
        if (c.status == classify_status::ok && c.op->shape == arg_shape::none) {
            pending_.kind = c.op->kind;
            scratch_len_ = 0;
            state_ = state::skip_line;
        }
        return parse_status::need_more;
    }
    state_ = state::op_start;
    const char* line = scratch_.get();
    const char* after = nullptr;
    if (try_line(line, line + scratch_len_, out, &after) != line_result::done) {
        if (error_ == parse_error::none) fail(parse_error::unknown_op, "incomplete control line");
        return parse_status::error;
    }
    if (out.kind == op_kind::pub || out.kind == op_kind::hpub || out.kind == op_kind::rmsg ||
        out.kind == op_kind::hrmsg || out.kind == op_kind::lmsg) {
        return take_payload(in, out, line, after);
    }
    scratch_len_ = 0;
    return parse_status::op;
}

} // namespace natrix::protocol
