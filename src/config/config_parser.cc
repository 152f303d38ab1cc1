// Recursive-descent parser for nats-server's config syntax. The grammar is
// the one nats-server's state-machine lexer accepts; where that lexer has
// accidents (a bare `]` glued to a number becomes a string, a key with no
// value is dropped) we give the evident meaning or a clear error instead.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <natrix/config/config_parser.hh>

namespace natrix::config {

namespace {

// State shared by a file, its includes and the environment values it expands.
struct shared_state {
    const parse_options& opts;
    std::vector<std::string> include_stack; // canonical paths being parsed
    std::vector<std::string> env_stack;     // environment variables being expanded
    std::size_t nodes = 0;
    std::size_t bytes = 0;
};

bool is_space(char c) {
    return c == ' ' || c == '\t';
}
bool is_newline(char c) {
    return c == '\n' || c == '\r';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

// Shows one character in an error message.
std::string show_char(char c) {
    switch (c) {
    case '\n':
        return "'\\n'";
    case '\r':
        return "'\\r'";
    case '\t':
        return "'\\t'";
    default:
        break;
    }
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
        static const char hex[] = "0123456789abcdef";
        return std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
    }
    return std::string("'") + c + "'";
}

// Size suffixes exactly as nats-server's conf/parse.go: a bare letter is a
// power of 1000, "b", "i" or "ib" after it a power of 1024.
bool unit_multiplier(std::string_view suffix, std::int64_t* mult) {
    static constexpr std::string_view letters = "kmgtpe";
    if (suffix.empty() || suffix.size() > 3) return false;
    std::size_t power = letters.find(lower(suffix[0]));
    if (power == std::string_view::npos) return false;
    std::string rest;
    for (char c : suffix.substr(1)) rest += lower(c);
    std::int64_t base;
    if (rest.empty())
        base = 1000;
    else if (rest == "b" || rest == "i" || rest == "ib")
        base = 1024;
    else
        return false;
    std::int64_t m = 1;
    for (std::size_t i = 0; i <= power; ++i) m *= base;
    *mult = m;
    return true;
}

struct measure {
    std::size_t nodes = 0;
    std::size_t bytes = 0;
    std::size_t depth = 0;
};

// Counts a value before it is copied for a variable reference; stops early
// once past `cap` nodes so a copy bomb costs no more than the budget.
void measure_value(const value& v, std::size_t level, measure& m, std::size_t cap) {
    if (m.nodes > cap) return;
    ++m.nodes;
    m.bytes += v.as_string().size();
    if (v.is_array() || v.is_map()) m.depth = std::max(m.depth, level + 1);
    for (const value& item : v.as_array()) measure_value(item, level + 1, m, cap);
    for (const map_entry& e : v.as_map()) {
        m.bytes += e.key.size();
        measure_value(e.val, level + 1, m, cap);
    }
}

void restamp(value& v, const position& p) {
    v.set_pos(p);
    for (value& item : v.array_items()) restamp(item, p);
    for (map_entry& e : v.map_entries()) {
        e.key_pos = p;
        restamp(e.val, p);
    }
}

// Reads a whole regular file of bounded size; returns false with a reason.
bool read_file(const std::string& path, std::size_t max_bytes, std::string* out, std::string* why) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *why = std::strerror(errno);
        return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        *why = std::strerror(errno);
        ::close(fd);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        *why = "not a regular file";
        ::close(fd);
        return false;
    }
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
        *why = "file is larger than " + std::to_string(max_bytes) + " bytes";
        ::close(fd);
        return false;
    }
    out->clear();
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            *why = std::strerror(errno);
            ::close(fd);
            return false;
        }
        if (n == 0) break;
        out->append(buf, static_cast<std::size_t>(n));
        if (out->size() > max_bytes) {
            *why = "file is larger than " + std::to_string(max_bytes) + " bytes";
            ::close(fd);
            return false;
        }
    }
    ::close(fd);
    return true;
}

std::string dir_of(std::string_view path) {
    std::size_t slash = path.rfind('/');
    if (slash == std::string_view::npos) return {};
    if (slash == 0) return "/";
    return std::string(path.substr(0, slash));
}

// Empty on failure, with the reason in *err (errno value).
std::string canonical_path(const std::string& path, int* err = nullptr) {
    char* real = ::realpath(path.c_str(), nullptr);
    if (!real) {
        if (err) *err = errno;
        return {};
    }
    std::string out(real);
    std::free(real);
    return out;
}

class parser {
public:
    parser(std::string_view text, std::shared_ptr<const std::string> file, std::string base_dir,
           shared_state& st, std::size_t depth)
        : s_(text)
        , file_(std::move(file))
        , base_dir_(std::move(base_dir))
        , st_(st)
        , depth_(depth) {}

    // A whole file: entries of the top-level map.
    bool parse_document(value& root);
    // An environment variable's text: exactly one value (empty text is "").
    bool parse_lone_value(value& out);

    const std::string& error() const { return error_; }

private:
    // ---- input ----
    bool eof() const { return i_ >= s_.size(); }
    char peek(std::size_t ahead = 0) const {
        return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0';
    }
    void advance() {
        if (s_[i_] == '\n') {
            ++line_;
            line_start_ = i_ + 1;
        }
        ++i_;
    }
    position here() const {
        return position{file_, line_, static_cast<std::uint32_t>(i_ - line_start_ + 1)};
    }
    std::string what_here() const { return eof() ? std::string("end of file") : show_char(peek()); }

    bool fail(const position& p, const std::string& message) {
        if (error_.empty()) error_ = p.to_string() + ": " + message;
        return false;
    }

    bool at_comment() const { return peek() == '#' || (peek() == '/' && peek(1) == '/'); }
    void skip_comment() {
        while (!eof() && peek() != '\n') advance();
    }
    void skip_spaces() {
        while (!eof() && is_space(peek())) advance();
    }
    // Spaces, newlines and comments between entries.
    void skip_blank() {
        for (;;) {
            if (eof()) return;
            char c = peek();
            if (is_space(c) || is_newline(c))
                advance();
            else if (at_comment())
                skip_comment();
            else
                return;
        }
    }

    bool account(std::size_t nodes, std::size_t bytes, const position& p) {
        st_.nodes += nodes;
        st_.bytes += bytes;
        if (st_.nodes > st_.opts.max_nodes)
            return fail(p, "configuration is too large (more than " +
                               std::to_string(st_.opts.max_nodes) + " values)");
        if (st_.bytes > st_.opts.max_string_bytes)
            return fail(p, "configuration is too large (more than " +
                               std::to_string(st_.opts.max_string_bytes) + " bytes of text)");
        return true;
    }

    // ---- grammar ----
    bool parse_entry(value& map);
    bool parse_key(std::string* key, bool* quoted);
    bool expect_value_end();
    bool parse_value(value& out);
    bool parse_map(value& out, const position& open);
    bool parse_array(value& out, const position& open);
    bool parse_double_quoted(std::string* out);
    bool parse_single_quoted(std::string* out);
    bool parse_block_string(std::string* out, const position& open);
    bool parse_bare(value& out);
    bool classify_number(std::string_view token, const position& p, value& out, bool* is_number);
    bool resolve_variable(std::string_view name, const position& p, value& out);
    bool include_file(value& map, const std::string& target, const position& p);

    std::string_view s_;
    std::shared_ptr<const std::string> file_;
    std::string base_dir_;
    shared_state& st_;
    std::size_t depth_;
    std::size_t i_ = 0;
    std::uint32_t line_ = 1;
    std::size_t line_start_ = 0;
    std::vector<value*> scopes_; // maps under construction, innermost last
    std::string error_;
};

struct scope_guard {
    std::vector<value*>& scopes;
    explicit scope_guard(std::vector<value*>& s, value* v)
        : scopes(s) {
        scopes.push_back(v);
    }
    ~scope_guard() { scopes.pop_back(); }
    scope_guard(const scope_guard&) = delete;
    scope_guard& operator=(const scope_guard&) = delete;
};

bool parser::parse_document(value& root) {
    root = value::make_map(position{file_, 1, 1});
    scope_guard guard(scopes_, &root);
    // A file may be wrapped in one pair of braces, which makes JSON a valid
    // config (nats-server accepts that too).
    bool wrapped = false;
    bool closed = false;
    position wrap_pos;
    for (;;) {
        skip_blank();
        if (eof()) break;
        char c = peek();
        if (closed) return fail(here(), "unexpected " + show_char(c) + " after the closing '}'");
        if (c == '{' && !wrapped && root.as_map().empty()) {
            wrapped = true;
            wrap_pos = here();
            advance();
            continue;
        }
        if (c == '}') {
            if (!wrapped) return fail(here(), "unexpected '}' with no '{' open");
            closed = true;
            advance();
            continue;
        }
        if (!parse_entry(root)) return false;
    }
    if (wrapped && !closed)
        return fail(here(), "missing '}' to close the '{' at " + wrap_pos.to_string());
    return true;
}

bool parser::parse_lone_value(value& out) {
    skip_spaces();
    if (eof()) {
        out = value::make_string("", here());
        return true;
    }
    if (is_newline(peek())) return fail(here(), "expected a value but found a new line");
    if (!parse_value(out)) return false;
    skip_spaces();
    if (at_comment()) skip_comment();
    skip_blank();
    if (!eof()) return fail(here(), "unexpected " + show_char(peek()) + " after the value");
    return true;
}

bool parser::parse_key(std::string* key, bool* quoted) {
    position p = here();
    char c = peek();
    if (c == '"' || c == '\'') {
        *quoted = true;
        advance();
        std::size_t start = i_;
        while (!eof() && peek() != c) advance();
        if (eof()) return fail(p, "unterminated quoted key");
        *key = std::string(s_.substr(start, i_ - start));
        advance();
        return account(0, key->size(), p);
    }
    *quoted = false;
    std::size_t start = i_;
    while (!eof()) {
        c = peek();
        if (is_space(c) || is_newline(c) || c == '=' || c == ':' || c == '{' || c == '[' ||
            c == '}' || c == ']' || c == ',' || c == ';' || c == '"' || c == '\'')
            break;
        advance();
    }
    if (i_ == start) return fail(p, "expected a key but found " + what_here());
    *key = std::string(s_.substr(start, i_ - start));
    return account(0, key->size(), p);
}

bool parser::parse_entry(value& map) {
    position key_pos = here();
    std::string key;
    bool quoted = false;
    if (!parse_key(&key, &quoted)) return false;

    if (!quoted && iequals(key, "include") && (eof() || is_space(peek()) || is_newline(peek()))) {
        skip_spaces();
        if (eof() || is_newline(peek()))
            return fail(key_pos, "include needs a file name on the same line");
        position target_pos = here();
        std::string target;
        char c = peek();
        if (c == '"' || c == '\'') {
            advance();
            std::size_t start = i_;
            while (!eof() && peek() != c && !is_newline(peek())) advance();
            if (peek() != c) return fail(target_pos, "unterminated quoted include file name");
            target = std::string(s_.substr(start, i_ - start));
            advance();
        } else {
            std::size_t start = i_;
            while (!eof() && !is_space(peek()) && !is_newline(peek()) && peek() != ';' &&
                   peek() != ',' && peek() != '}')
                advance();
            target = std::string(s_.substr(start, i_ - start));
        }
        if (target.empty()) return fail(target_pos, "include needs a file name");
        if (!include_file(map, target, key_pos)) return false;
        return expect_value_end();
    }

    skip_spaces();
    bool separator = false;
    if (peek() == '=' || peek() == ':') {
        separator = true;
        advance();
        skip_spaces();
    }
    if (eof()) return fail(key_pos, "key '" + key + "' has no value");
    if (is_newline(peek())) {
        // `name\n{ ... }` (brace on the next line) is fine; anything else
        // after a line break is a key without a value.
        std::size_t save_i = i_, save_start = line_start_;
        std::uint32_t save_line = line_;
        while (!eof() && (is_space(peek()) || is_newline(peek()))) advance();
        if (separator || peek() != '{') {
            i_ = save_i;
            line_start_ = save_start;
            line_ = save_line;
            return fail(key_pos, separator ? "expected a value for '" + key + "' on the same line"
                                           : "key '" + key + "' has no value");
        }
    }
    value v;
    if (!parse_value(v)) return false;
    map.set(std::move(key), key_pos, std::move(v));
    return expect_value_end();
}

bool parser::expect_value_end() {
    skip_spaces();
    if (eof()) return true;
    char c = peek();
    if (is_newline(c) || c == ';' || c == ',') {
        advance();
        return true;
    }
    if (at_comment()) {
        skip_comment();
        return true;
    }
    if (c == '}') return true; // the enclosing map (or JSON wrapper) closes
    return fail(here(),
                "expected a new line, ';', ',' or '}' after a value but found " + show_char(c));
}

bool parser::parse_value(value& out) {
    position p = here();
    char c = peek();
    switch (c) {
    case '{':
        advance();
        return parse_map(out, p);
    case '[':
        advance();
        return parse_array(out, p);
    case '"': {
        std::string s;
        if (!parse_double_quoted(&s)) return false;
        if (!account(1, s.size(), p)) return false;
        out = value::make_string(std::move(s), p);
        return true;
    }
    case '\'': {
        std::string s;
        if (!parse_single_quoted(&s)) return false;
        if (!account(1, s.size(), p)) return false;
        out = value::make_string(std::move(s), p);
        return true;
    }
    case '(': {
        advance();
        std::string s;
        if (!parse_block_string(&s, p)) return false;
        if (!account(1, s.size(), p)) return false;
        out = value::make_string(std::move(s), p);
        return true;
    }
    case ',':
    case ';':
    case ']':
    case '}':
    case '\n':
    case '\r':
    case '\0':
        if (eof()) return fail(p, "expected a value but found end of file");
        return fail(p, "expected a value but found " + show_char(c));
    default:
        return parse_bare(out);
    }
}

bool parser::parse_map(value& out, const position& open) {
    if (depth_ + 1 > st_.opts.max_nesting)
        return fail(open,
                    "maps and arrays nested deeper than " + std::to_string(st_.opts.max_nesting));
    if (!account(1, 0, open)) return false;
    out = value::make_map(open);
    ++depth_;
    scope_guard guard(scopes_, &out);
    for (;;) {
        skip_blank();
        if (eof())
            return fail(here(), "missing '}' to close the map opened at " + open.to_string());
        char c = peek();
        if (c == '}') {
            advance();
            break;
        }
        if (c == ',' || c == ';' || c == ']' || c == '{')
            return fail(here(), "expected a key but found " + show_char(c));
        if (!parse_entry(out)) return false;
    }
    --depth_;
    return true;
}

bool parser::parse_array(value& out, const position& open) {
    if (depth_ + 1 > st_.opts.max_nesting)
        return fail(open,
                    "maps and arrays nested deeper than " + std::to_string(st_.opts.max_nesting));
    if (!account(1, 0, open)) return false;
    out = value::make_array(open);
    ++depth_;
    for (;;) {
        skip_blank();
        if (eof())
            return fail(here(), "missing ']' to close the array opened at " + open.to_string());
        char c = peek();
        if (c == ']') {
            advance();
            break;
        }
        if (c == ',') return fail(here(), "unexpected ',' in array (empty element)");
        value item;
        if (!parse_value(item)) return false;
        out.array_items().push_back(std::move(item));
        skip_spaces();
        if (at_comment()) skip_comment();
        if (eof())
            return fail(here(), "missing ']' to close the array opened at " + open.to_string());
        c = peek();
        if (c == ']') {
            advance();
            break;
        }
        if (c == ',' || is_newline(c)) {
            advance();
            continue;
        }
        return fail(here(), "expected ',', a new line or ']' after an array element but found " +
                                show_char(c));
    }
    --depth_;
    return true;
}

bool parser::parse_double_quoted(std::string* out) {
    position open = here();
    advance(); // "
    for (;;) {
        if (eof()) return fail(open, "unterminated string (missing closing '\"')");
        char c = peek();
        if (c == '"') {
            advance();
            return true;
        }
        if (c != '\\') {
            out->push_back(c);
            advance();
            continue;
        }
        position esc = here();
        advance();
        if (eof()) return fail(open, "unterminated string (missing closing '\"')");
        char e = peek();
        advance();
        switch (e) {
        case 't':
            out->push_back('\t');
            break;
        case 'n':
            out->push_back('\n');
            break;
        case 'r':
            out->push_back('\r');
            break;
        case '"':
            out->push_back('"');
            break;
        case '\\':
            out->push_back('\\');
            break;
        case 'x': {
            int v = 0;
            for (int k = 0; k < 2; ++k) {
                char h = peek();
                int d = is_digit(h)                            ? h - '0'
                        : (lower(h) >= 'a' && lower(h) <= 'f') ? lower(h) - 'a' + 10
                                                               : -1;
                if (eof() || d < 0) return fail(esc, "expected two hexadecimal digits after '\\x'");
                v = v * 16 + d;
                advance();
            }
            out->push_back(static_cast<char>(v));
            break;
        }
        default:
            return fail(esc, "invalid escape " + show_char(e) +
                                 " in string; allowed: \\t \\n \\r \\\" \\\\ \\xHH");
        }
    }
}

bool parser::parse_single_quoted(std::string* out) {
    position open = here();
    advance(); // '
    std::size_t start = i_;
    while (!eof() && peek() != '\'') advance();
    if (eof()) return fail(open, "unterminated string (missing closing \"'\")");
    *out = std::string(s_.substr(start, i_ - start));
    advance();
    return true;
}

// `(` text `)`: the text runs to the first line that holds only `)`; the
// line break before that `)` is not part of it (nats-server's rule).
bool parser::parse_block_string(std::string* out, const position& open) {
    std::size_t start = i_;
    for (;;) {
        if (eof())
            return fail(open, "unterminated block string: it ends at a line holding only ')'");
        if (peek() == '\n' && peek(1) == ')') {
            char after = peek(2);
            if (i_ + 2 >= s_.size() || after == '\n' || after == '\r') {
                *out = std::string(s_.substr(start, i_ - start));
                advance(); // \n
                advance(); // )
                return true;
            }
        }
        advance();
    }
}

bool parser::parse_bare(value& out) {
    position p = here();
    std::string text;
    bool escaped = false;
    while (!eof()) {
        char c = peek();
        if (is_space(c) || is_newline(c) || c == ',' || c == ';' || c == ']' || c == '}') break;
        if (c != '\\') {
            text.push_back(c);
            advance();
            continue;
        }
        // nats-server applies string escapes to unquoted values too.
        escaped = true;
        position esc = here();
        advance();
        char e = eof() ? '\0' : peek();
        switch (e) {
        case 't':
            text.push_back('\t');
            break;
        case 'n':
            text.push_back('\n');
            break;
        case 'r':
            text.push_back('\r');
            break;
        case '"':
            text.push_back('"');
            break;
        case '\\':
            text.push_back('\\');
            break;
        default:
            if (eof()) return fail(esc, "a '\\' at the end of the file");
            return fail(esc, "invalid escape " + show_char(e) +
                                 " in value; quote it or use \\t \\n \\r \\\" \\\\");
        }
        advance();
    }
    if (!account(1, text.size(), p)) return false;
    if (escaped) {
        out = value::make_string(std::move(text), p);
        return true;
    }
    for (std::string_view word : {"true", "yes", "on"}) {
        if (iequals(text, word)) {
            out = value::make_bool(true, p);
            return true;
        }
    }
    for (std::string_view word : {"false", "no", "off"}) {
        if (iequals(text, word)) {
            out = value::make_bool(false, p);
            return true;
        }
    }
    if (text[0] == '$') return resolve_variable(std::string_view(text).substr(1), p, out);
    if (is_digit(text[0]) || text[0] == '-') {
        bool is_number = false;
        if (!classify_number(text, p, out, &is_number)) return false;
        if (is_number) return true;
    }
    out = value::make_string(std::move(text), p);
    return true;
}

// Integers (with size units) and floats. A token that starts with a digit
// but is neither ("2s", "127.0.0.1:4222", "1h30m") is a string, as in
// nats-server; one that starts with '-' must be a number.
bool parser::classify_number(std::string_view t, const position& p, value& out, bool* is_number) {
    *is_number = false;
    std::size_t j = t[0] == '-' ? 1 : 0;
    std::size_t k = j;
    while (k < t.size() && is_digit(t[k])) ++k;
    if (k == j) return fail(p, "expected a digit after '-' in '" + std::string(t) + "'");
    std::string_view rest = t.substr(k);
    std::int64_t mult = 1;
    bool integer = rest.empty() || unit_multiplier(rest, &mult);
    if (integer) {
        std::int64_t n = 0;
        auto r = std::from_chars(t.data(), t.data() + k, n);
        std::int64_t scaled = 0;
        if (r.ec != std::errc() || __builtin_mul_overflow(n, mult, &scaled))
            return fail(p, "integer '" + std::string(t) + "' is out of range");
        out = value::make_integer(scaled, p);
        *is_number = true;
        return true;
    }
    if (rest.size() >= 2 && rest[0] == '.' &&
        std::all_of(rest.begin() + 1, rest.end(), [](char c) { return is_digit(c); })) {
        double d = 0;
        auto r = std::from_chars(t.data(), t.data() + t.size(), d);
        if (r.ec != std::errc() || r.ptr != t.data() + t.size())
            return fail(p, "float '" + std::string(t) + "' is out of range");
        out = value::make_float(d, p);
        *is_number = true;
        return true;
    }
    if (j == 1) return fail(p, "invalid number '" + std::string(t) + "'");
    return true; // a string
}

bool parser::resolve_variable(std::string_view name, const position& p, value& out) {
    if (name.empty()) return fail(p, "'$' must be followed by a variable name");
    // Raw bcrypt hashes ($2a$..., $2b$...) are values, not references.
    if (name.substr(0, 3) == "2a$" || name.substr(0, 3) == "2b$") {
        out = value::make_string("$" + std::string(name), p);
        return true;
    }
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
        for (map_entry& e : (*it)->map_entries()) {
            if (e.key != name) continue;
            measure m;
            measure_value(e.val, 0, m, st_.opts.max_nodes);
            if (depth_ + m.depth > st_.opts.max_nesting)
                return fail(p, "maps and arrays nested deeper than " +
                                   std::to_string(st_.opts.max_nesting) + " (via $" +
                                   std::string(name) + ")");
            // The reference itself was already counted as one node.
            if (!account(m.nodes - 1, m.bytes, p)) return false;
            e.used_as_variable = true;
            out = e.val;
            out.set_pos(p);
            return true;
        }
    }
    std::string env_name(name);
    const char* env = st_.opts.use_environment ? std::getenv(env_name.c_str()) : nullptr;
    if (!env)
        return fail(p, "variable reference for '" + env_name +
                           "' can not be found (not an earlier key in scope, nor an environment "
                           "variable)");
    if (std::find(st_.env_stack.begin(), st_.env_stack.end(), env_name) != st_.env_stack.end())
        return fail(p, "variable reference cycle for '" + env_name + "'");
    if (st_.env_stack.size() >= 16)
        return fail(p, "environment variable references nested deeper than 16");
    // The environment's text is parsed as a value, so NUM=4222 is an
    // integer; it sees only other environment variables.
    std::string text(env);
    auto source = std::make_shared<const std::string>("environment variable " + env_name);
    parser sub(text, source, base_dir_, st_, depth_);
    st_.env_stack.push_back(env_name);
    bool ok = sub.parse_lone_value(out);
    st_.env_stack.pop_back();
    if (!ok) {
        // The sub-parser's error already says where inside the variable.
        return fail(p, "variable reference for '" + env_name +
                           "' could not be parsed: " + sub.error());
    }
    restamp(out, p);
    return true;
}

bool parser::include_file(value& map, const std::string& target, const position& p) {
    if (!st_.opts.allow_includes) return fail(p, "include is not allowed here");
    if (st_.include_stack.size() > st_.opts.max_include_depth)
        return fail(p, "includes nested deeper than " + std::to_string(st_.opts.max_include_depth));
    // Unlike nats-server (which joins even absolute paths onto the including
    // file's directory) an absolute path is taken as is.
    std::string path = (target[0] == '/' || base_dir_.empty()) ? target : base_dir_ + "/" + target;
    int err = 0;
    std::string canon = canonical_path(path, &err);
    if (canon.empty())
        return fail(p, "cannot read include file '" + path + "': " + std::strerror(err));
    auto cycle = std::find(st_.include_stack.begin(), st_.include_stack.end(), canon);
    if (cycle != st_.include_stack.end()) {
        std::string chain;
        for (auto it = cycle; it != st_.include_stack.end(); ++it) chain += *it + " -> ";
        return fail(p, "include cycle: " + chain + canon);
    }
    std::string text, why;
    if (!read_file(path, st_.opts.max_file_bytes, &text, &why))
        return fail(p, "cannot read include file '" + path + "': " + why);
    // An included file is parsed on its own, as nats-server does: it does
    // not see the including file's variables, but its keys (and so its
    // variables) land in the current map.
    st_.include_stack.push_back(canon);
    value sub_root;
    parser sub(text, std::make_shared<const std::string>(path), dir_of(path), st_, depth_);
    bool ok = sub.parse_document(sub_root);
    st_.include_stack.pop_back();
    if (!ok) return fail(p, "in included file: " + sub.error());
    for (map_entry& e : sub_root.map_entries()) map.set(std::move(e));
    return true;
}

parse_result run(std::string_view text, std::string_view name, const parse_options& options,
                 const std::string& canonical) {
    parse_result result;
    shared_state st{options, {}, {}, 0, 0};
    if (!canonical.empty()) st.include_stack.push_back(canonical);
    parser p(text, std::make_shared<const std::string>(name), dir_of(name), st, 0);
    if (!p.parse_document(result.root)) {
        result.error = p.error();
        result.root = value();
    }
    return result;
}

} // namespace

parse_result parse_string(std::string_view text, std::string_view source_name,
                          const parse_options& options) {
    std::string canon;
    if (!source_name.empty()) canon = canonical_path(std::string(source_name));
    return run(text, source_name, options, canon);
}

parse_result parse_file(const std::string& path, const parse_options& options) {
    std::string text, why;
    if (!read_file(path, options.max_file_bytes, &text, &why)) {
        parse_result r;
        r.error = path + ": cannot read config file: " + why;
        return r;
    }
    return run(text, path, options, canonical_path(path));
}

} // namespace natrix::config
