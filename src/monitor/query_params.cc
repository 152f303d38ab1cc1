#include <cerrno>
#include <cstdlib>

#include <natrix/monitor/http_request.hh>
#include <natrix/monitor/query_params.hh>

namespace natrix::monitor {

bool query_params::parse(std::string_view query, query_params* out, std::string* error) {
    out->items_.clear();
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        std::string_view part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (part.empty()) continue;
        const std::size_t eq = part.find('=');
        std::string k, v;
        if (!url_decode(part.substr(0, eq), true, &k) ||
            (eq != std::string_view::npos && !url_decode(part.substr(eq + 1), true, &v))) {
            if (error) *error = "invalid URL escape in query \"" + std::string(part) + "\"";
            return false;
        }
        out->items_.emplace_back(std::move(k), std::move(v));
    }
    return true;
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
    std::string s(*v);
    std::size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
    bool digits = i < s.size();
    for (std::size_t k = i; k < s.size(); ++k)
        if (s[k] < '0' || s[k] > '9') digits = false;
    errno = 0;
    const long long n = digits ? std::strtoll(s.c_str(), nullptr, 10) : 0;
    if (!digits || errno == ERANGE) {
        if (error)
            *error = "Error decoding int for '" + std::string(key) + "': strconv.Atoi: parsing \"" +
                     s + "\": " + (digits ? "value out of range" : "invalid syntax");
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
    if (error)
        *error = "Error decoding boolean for '" + std::string(key) +
                 "': strconv.ParseBool: parsing \"" + std::string(*v) + "\": invalid syntax";
    return false;
}

bool query_params::get_paging(std::size_t* offset, std::size_t* limit, std::string* error) const {
    std::optional<long long> n;
    if (!get_int("offset", &n, error)) return false;
    if (n) {
        if (*n < 0) {
            *error = "offset must not be negative";
            return false;
        }
        *offset = static_cast<std::size_t>(*n);
    }
    if (!get_int("limit", &n, error)) return false;
    if (n) {
        if (*n < 0) {
            *error = "limit must not be negative";
            return false;
        }
        if (*n > 0) *limit = static_cast<std::size_t>(*n);
    }
    return true;
}

} // namespace natrix::monitor
