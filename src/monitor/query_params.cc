#include <limits>

#include <natrix/monitor/http_request.hh>
#include <natrix/monitor/query_params.hh>
#include <natrix/util/go_quote.hh>

namespace natrix::monitor {

namespace {

enum class num_error { none, syntax, range };

// Go's strconv.ParseUint(s, 10, 64): digits only, checked left to right, so
// "99999999999999999999x" is out of range and "x9" bad syntax, as in Go.
num_error parse_uint(std::string_view s, std::uint64_t* out) {
    if (s.empty()) return num_error::syntax;
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t n = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return num_error::syntax;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (n > max / 10 || n * 10 > max - d) return num_error::range;
        n = n * 10 + d;
    }
    *out = n;
    return num_error::none;
}

// Go's strconv.Atoi with a 64-bit int: a sign, then ParseUint's rules.
num_error parse_int(std::string_view s, long long* out) {
    bool neg = false;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s.remove_prefix(1);
    }
    std::uint64_t u = 0;
    const num_error e = parse_uint(s, &u);
    if (e == num_error::syntax) return e;
    constexpr std::uint64_t cutoff = std::uint64_t{1} << 63;
    if (e == num_error::range || (neg ? u > cutoff : u >= cutoff)) return num_error::range;
    *out = neg ? static_cast<long long>(0 - u) : static_cast<long long>(u);
    return num_error::none;
}

// nats-server's decodeInt/decodeUint64/decodeBool message around Go's NumError.
std::string decode_error(std::string_view what, std::string_view key, std::string_view func,
                         std::string_view value, num_error e) {
    std::string out = "Error decoding " + std::string(what) + " for '" + std::string(key) +
                      "': strconv." + std::string(func) + ": parsing ";
    util::append_go_quoted(out, value);
    out += e == num_error::range ? ": value out of range" : ": invalid syntax";
    return out;
}

} // namespace

query_params query_params::parse(std::string_view query) {
    query_params out;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (part.empty() || part.find(';') != std::string_view::npos) continue;
        const std::size_t eq = part.find('=');
        std::string k, v;
        if (!url_decode(part.substr(0, eq), true, &k) ||
            (eq != std::string_view::npos && !url_decode(part.substr(eq + 1), true, &v)))
            continue;
        out.items_.emplace_back(std::move(k), std::move(v));
    }
    return out;
}

std::optional<std::string_view> query_params::get(std::string_view key) const {
    for (const auto& [k, v] : items_)
        if (k == key) return std::string_view(v);
    return std::nullopt;
}

bool query_params::get_int(std::string_view key, std::optional<long long>* out,
                           std::string* error) const {
    out->reset();
    const auto v = get(key);
    if (!v || v->empty()) return true;
    long long n = 0;
    if (const num_error e = parse_int(*v, &n); e != num_error::none) {
        if (error) *error = decode_error("int", key, "Atoi", *v, e);
        return false;
    }
    *out = n;
    return true;
}

bool query_params::get_uint64(std::string_view key, std::optional<std::uint64_t>* out,
                              std::string* error) const {
    out->reset();
    const auto v = get(key);
    if (!v || v->empty()) return true;
    std::uint64_t n = 0;
    if (const num_error e = parse_uint(*v, &n); e != num_error::none) {
        if (error) *error = decode_error("uint64", key, "ParseUint", *v, e);
        return false;
    }
    *out = n;
    return true;
}

bool query_params::get_bool(std::string_view key, std::optional<bool>* out,
                            std::string* error) const {
    out->reset();
    const auto v = get(key);
    if (!v || v->empty()) return true;
    for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
        if (*v == t) {
            *out = true;
            return true;
        }
    for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
        if (*v == f) {
            *out = false;
            return true;
        }
    if (error) *error = decode_error("boolean", key, "ParseBool", *v, num_error::syntax);
    return false;
}

bool query_params::get_paging(std::size_t* offset, std::size_t* limit, std::string* error) const {
    // nats-server decodes both before it looks at either (decodeInt), then
    // Connz/Subsz clamp: offset < 0 reads as 0, limit <= 0 as the default.
    std::optional<long long> off, lim;
    if (!get_int("offset", &off, error) || !get_int("limit", &lim, error)) return false;
    if (off) *offset = *off > 0 ? static_cast<std::size_t>(*off) : 0;
    if (lim && *lim > 0) *limit = static_cast<std::size_t>(*lim);
    return true;
}

} // namespace natrix::monitor
