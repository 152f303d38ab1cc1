#include <natrix/monitor/http_request.hh>

namespace natrix::monitor {

namespace {

bool is_tchar(char c) {
    // RFC 9110 token characters.
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_tchar(c)) return false;
    return true;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

http_parse_status fail(std::string* error, const char* why) {
    if (error) *error = why;
    return http_parse_status::bad_request;
}

} // namespace

bool url_decode(std::string_view in, bool plus_is_space, std::string* out) {
    out->clear();
    out->reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) return false;
            const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return false;
            out->push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out->push_back(' ');
        } else {
            out->push_back(c);
        }
    }
    return true;
}

http_parse_status parse_http_request(std::string_view buf, std::size_t max_head, http_request* out,
                                     std::size_t* head_len, std::string* error) {
    // Find the end of the head: an empty line.
    std::size_t end = std::string_view::npos, after = 0;
    for (std::size_t i = buf.find('\n'); i != std::string_view::npos; i = buf.find('\n', i + 1)) {
        // The line that ends here is empty when the previous line ended at
        // i-1 (LF LF) or i-2 (LF CR LF).
        if (i >= 1 && buf[i - 1] == '\n') {
            end = i - 1, after = i + 1;
            break;
        }
        if (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n') {
            end = i - 2, after = i + 1;
            break;
        }
        if (i > max_head) break;
    }
    if (end == std::string_view::npos)
        return buf.size() >= max_head ? http_parse_status::too_large
                                      : http_parse_status::incomplete;
    if (after > max_head) return http_parse_status::too_large;
    // Empty lines before the request line are tolerated (RFC 9112 2.2).
    std::string_view head = buf.substr(0, end);
    while (!head.empty() && (head.front() == '\r' || head.front() == '\n')) head.remove_prefix(1);

    std::vector<std::string_view> lines;
    while (!head.empty()) {
        const std::size_t nl = head.find('\n');
        std::string_view line = head.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.push_back(line);
        if (nl == std::string_view::npos) break;
        head.remove_prefix(nl + 1);
    }
    if (lines.empty()) return fail(error, "empty request");

    // Request line: METHOD SP target SP HTTP/1.x
    const std::string_view rl = lines[0];
    const std::size_t sp1 = rl.find(' ');
    const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : rl.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || rl.find(' ', sp2 + 1) != std::string_view::npos)
        return fail(error, "malformed request line");
    const std::string_view method = rl.substr(0, sp1);
    std::string_view target = rl.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = rl.substr(sp2 + 1);
    if (!is_token(method)) return fail(error, "malformed method");
    if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' ||
        version[7] > '9')
        return fail(error, "unsupported HTTP version");
    for (char c : target)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            return fail(error, "malformed target");
    out->method.assign(method);
    out->target.assign(target);
    out->version_minor = version[7] - '0';

    // absolute-form: drop scheme and authority.
    for (std::string_view scheme : {"http://", "https://"}) {
        if (target.size() >= scheme.size()) {
            bool same = true;
            for (std::size_t i = 0; i < scheme.size() && same; ++i)
                same = (target[i] | 0x20) == scheme[i] || target[i] == scheme[i];
            if (same) {
                target.remove_prefix(scheme.size());
                const std::size_t slash = target.find_first_of("/?");
                target =
                    slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
                break;
            }
        }
    }
    if (target.empty() || target.front() != '/') return fail(error, "target must be a path");
    const std::size_t q = target.find('?');
    std::string_view raw_path = target.substr(0, q);
    std::string_view query =
        q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    const std::size_t hash = query.find('#');
    if (hash != std::string_view::npos) query = query.substr(0, hash);
    if (!url_decode(raw_path, false, &out->path))
        return fail(error, "malformed percent escape in path");
    out->query.assign(query);

    out->headers.clear();
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const std::string_view line = lines[i];
        if (line.empty()) return fail(error, "malformed header field");
        if (line.front() == ' ' || line.front() == '\t')
            return fail(error, "obsolete header folding");
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return fail(error, "malformed header field");
        const std::string_view name = line.substr(0, colon);
        if (!is_token(name)) return fail(error, "malformed header name");
        out->headers.emplace_back(std::string(name), std::string(trim(line.substr(colon + 1))));
    }
    *head_len = after;
    return http_parse_status::complete;
}

} // namespace natrix::monitor
