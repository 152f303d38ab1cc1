#include <algorithm>
#include <charconv>

#include <natrix/config/cpu_list.hh>

namespace natrix::config {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool number(std::string_view s, int* out) {
    s = trim(s);
    if (s.empty() || s.size() > 6) return false;
    auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size() && *out >= 0;
}

} // namespace

bool parse_cpu_list(std::string_view text, std::vector<int>* out, std::string* error) {
    if (trim(text).empty()) {
        *error = "the cpu list is empty";
        return false;
    }
    std::vector<int> cpus;
    while (true) {
        std::size_t comma = text.find(',');
        std::string_view item = trim(text.substr(0, comma));
        std::size_t dash = item.find('-');
        int first = 0, last = 0;
        bool ok = dash == std::string_view::npos ? number(item, &first) && (last = first, true)
                                                 : number(item.substr(0, dash), &first) &&
                                                       number(item.substr(dash + 1), &last);
        if (!ok) {
            *error =
                "bad cpu list item '" + std::string(item) + "' (expected N or N-M, e.g. \"0-3,6\")";
            return false;
        }
        if (first > last) {
            *error = "cpu range '" + std::string(item) + "' is reversed";
            return false;
        }
        if (last > max_cpu_id) {
            *error = "cpu " + std::to_string(last) + " is above the maximum of " +
                     std::to_string(max_cpu_id);
            return false;
        }
        for (int c = first; c <= last; ++c) {
            if (std::find(cpus.begin(), cpus.end(), c) != cpus.end()) {
                *error = "cpu " + std::to_string(c) + " is listed twice";
                return false;
            }
            cpus.push_back(c);
        }
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    out->insert(out->end(), cpus.begin(), cpus.end());
    return true;
}

} // namespace natrix::config
