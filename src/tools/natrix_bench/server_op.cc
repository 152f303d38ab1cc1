#include <cstring>

#include <natrix/bench_client/server_op.hh>

namespace natrix::bench_client {

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t';
}

// Splits the arguments of a control line into at most max tokens; returns the count, or
// max + 1 if there are more.
int split_args(std::string_view args, std::string_view* out, int max) {
    int n = 0;
    std::size_t i = 0;
    while (i < args.size()) {
        while (i < args.size() && is_space(args[i])) ++i;
        if (i == args.size()) break;
        std::size_t j = i;
        while (j < args.size() && !is_space(args[j])) ++j;
        if (n == max) return max + 1;
        out[n++] = args.substr(i, j - i);
        i = j;
    }
    return n;
}

bool to_size(std::string_view s, std::size_t& out) {
    if (s.empty() || s.size() > 12) return false;
    std::size_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::size_t>(c - '0');
    }
    out = v;
    return true;
}

bool starts_with_op(std::string_view line, std::string_view op) {
    if (line.size() < op.size()) return false;
    for (std::size_t i = 0; i < op.size(); ++i) {
        char c = line[i];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
        if (c != op[i]) return false;
    }
    return line.size() == op.size() || is_space(line[op.size()]);
}

std::size_t bad_line(server_op& op, std::string_view line, std::size_t consumed) {
    op = server_op{};
    op.kind = op_kind::bad;
    op.text = line;
    return consumed ? consumed : 1;
}

} // namespace

std::size_t parse_server_op(const char* data, std::size_t len, server_op& op) noexcept {
    const auto* nl = static_cast<const char*>(std::memchr(data, '\n', len));
    if (!nl) {
        if (len > max_control_line_bytes) return bad_line(op, {data, 64}, len);
        return 0;
    }
    const std::size_t line_end = static_cast<std::size_t>(nl - data) + 1; // past '\n'
    std::string_view line(data, line_end - 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    if (line.empty()) return bad_line(op, line, line_end);
    const char c0 = static_cast<char>(line[0] & ~0x20); // upper-case letters
    if (c0 == 'M' || c0 == 'H') {
        const bool h = c0 == 'H';
        if (!starts_with_op(line, h ? "HMSG" : "MSG")) return bad_line(op, line, line_end);
        std::string_view tok[6];
        const int n = split_args(line.substr(h ? 4 : 3), tok, 5);
        const int sizes = h ? 2 : 1;
        if (n < 2 + sizes || n > 3 + sizes) return bad_line(op, line, line_end);
        std::size_t hdr = 0, total = 0;
        if (!to_size(tok[n - 1], total)) return bad_line(op, line, line_end);
        if (h && (!to_size(tok[n - 2], hdr) || hdr > total)) return bad_line(op, line, line_end);
        const std::size_t need = line_end + total + 2;
        if (len < need) return 0;
        const char* body = data + line_end;
        if (body[total] != '\r' || body[total + 1] != '\n') return bad_line(op, line, line_end);
        op.kind = h ? op_kind::hmsg : op_kind::msg;
        op.subject = tok[0];
        op.sid = tok[1];
        op.reply = (n == 3 + sizes) ? tok[2] : std::string_view{};
        op.headers = std::string_view(body, hdr);
        op.payload = std::string_view(body + hdr, total - hdr);
        op.text = {};
        return need;
    }
    op = server_op{};
    if (starts_with_op(line, "PING")) {
        op.kind = op_kind::ping;
    } else if (starts_with_op(line, "PONG")) {
        op.kind = op_kind::pong;
    } else if (starts_with_op(line, "+OK")) {
        op.kind = op_kind::ok;
    } else if (starts_with_op(line, "-ERR")) {
        op.kind = op_kind::err;
        auto t = line.substr(4);
        while (!t.empty() && is_space(t.front())) t.remove_prefix(1);
        op.text = t;
    } else if (starts_with_op(line, "INFO")) {
        op.kind = op_kind::info;
        auto t = line.substr(4);
        while (!t.empty() && is_space(t.front())) t.remove_prefix(1);
        while (!t.empty() && is_space(t.back())) t.remove_suffix(1);
        op.text = t;
    } else {
        return bad_line(op, line, line_end);
    }
    return line_end;
}

} // namespace natrix::bench_client
