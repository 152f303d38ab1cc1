#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <natrix/host_check/host_files.hh>

namespace natrix::host_check {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() &&
           (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

std::optional<int> number(std::string_view s) {
    int v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || v < 0)
        return std::nullopt;
    return v;
}

} // namespace

host_files::host_files(std::string root)
    : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string host_files::full(std::string_view path) const {
    if (root_ == "/" || root_.empty()) return std::string(path);
    return root_ + std::string(path);
}

std::optional<std::string> host_files::read(std::string_view path) const {
    std::ifstream in(full(path), std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return ss.str();
}

std::optional<std::string> host_files::read_line(std::string_view path) const {
    auto text = read(path);
    if (!text) return std::nullopt;
    std::string_view s = *text;
    s = s.substr(0, s.find('\n'));
    return std::string(trim(s));
}

std::optional<long long> host_files::read_integer(std::string_view path) const {
    auto line = read_line(path);
    if (!line) return std::nullopt;
    std::string_view s = *line;
    s = s.substr(0, s.find_first_of(" \t"));
    long long v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

std::vector<std::string> host_files::list(std::string_view dir) const {
    std::vector<std::string> names;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(full(dir), ec), end; !ec && it != end;
         it.increment(ec))
        names.push_back(it->path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

std::optional<std::vector<int>> parse_kernel_cpu_list(std::string_view text) {
    std::vector<int> out;
    text = trim(text);
    while (!text.empty()) {
        const std::size_t comma = text.find(',');
        std::string_view item = trim(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (item.empty()) return std::nullopt;
        const std::size_t dash = item.find('-');
        if (dash == std::string_view::npos) {
            auto v = number(item);
            if (!v) return std::nullopt;
            out.push_back(*v);
            continue;
        }
        auto lo = number(item.substr(0, dash));
        // "0-31:8/16" (group syntax, cmdline only): keep the range part.
        std::string_view hi_text = item.substr(dash + 1);
        hi_text = hi_text.substr(0, hi_text.find(':'));
        auto hi = number(hi_text);
        if (!lo || !hi || *hi < *lo || *hi - *lo > 65535) return std::nullopt;
        for (int c = *lo; c <= *hi; ++c) out.push_back(c);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::string format_cpu_list(const std::vector<int>& cpus) {
    std::vector<int> c = cpus;
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());
    std::string out;
    for (std::size_t i = 0; i < c.size();) {
        std::size_t j = i;
        while (j + 1 < c.size() && c[j + 1] == c[j] + 1) ++j;
        if (!out.empty()) out += ',';
        out += std::to_string(c[i]);
        if (j > i) out += (j == i + 1 ? "," : "-") + std::to_string(c[j]);
        i = j + 1;
    }
    return out;
}

} // namespace natrix::host_check
