// The report of `natrix --check-host`, for people and for scripts (--json).
#include <natrix/host_check/host_check.hh>
#include <natrix/util/json_string.hh>

namespace natrix::host_check {

namespace {

struct counts {
    int ok = 0, warn = 0, fail = 0;
};

counts count(const std::vector<finding>& findings) {
    counts c;
    for (const finding& f : findings) {
        if (f.level == severity::ok) ++c.ok;
        if (f.level == severity::warn) ++c.warn;
        if (f.level == severity::fail) ++c.fail;
    }
    return c;
}

std::string config_name(const std::string& file) {
    return file.empty() ? "(built-in)" : file;
}

} // namespace

std::string format_text(const std::vector<finding>& findings, const std::string& config_file) {
    std::string out = "natrix: host check against configuration " + config_name(config_file) + "\n";
    for (const finding& f : findings) {
        std::string level = to_string(f.level);
        level.resize(5, ' ');
        std::string check = f.check;
        if (check.size() < 22) check.resize(22, ' ');
        out += level + " " + check + " " + f.message + "\n";
        if (!f.fix.empty()) out += std::string(5 + 1 + 22 + 1, ' ') + "fix: " + f.fix + "\n";
    }
    const counts c = count(findings);
    out += "natrix: " + std::to_string(c.ok) + " ok, " + std::to_string(c.warn) + " warn, " +
           std::to_string(c.fail) + " fail\n";
    return out;
}

std::string format_json(const std::vector<finding>& findings, const std::string& config_file) {
    std::string out = "{\"config\":";
    util::append_json_string(out, config_name(config_file));
    out += ",\"findings\":[";
    bool first = true;
    for (const finding& f : findings) {
        if (!first) out += ',';
        first = false;
        out += "{\"check\":";
        util::append_json_string(out, f.check);
        out += ",\"status\":";
        util::append_json_string(out, to_string(f.level));
        out += ",\"message\":";
        util::append_json_string(out, f.message);
        out += ",\"fix\":";
        util::append_json_string(out, f.fix);
        out += '}';
    }
    const counts c = count(findings);
    out += "],\"ok\":" + std::to_string(c.ok) + ",\"warn\":" + std::to_string(c.warn) +
           ",\"fail\":" + std::to_string(c.fail) + "}\n";
    return out;
}

} // namespace natrix::host_check
