#include <cassert>
#include <charconv>
#include <cmath>

#include <natrix/monitor/json_writer.hh>

namespace natrix::monitor {

std::string format_json_number(double v) {
    if (!std::isfinite(v)) return "0"; // Go refuses these; a monitor answer must still parse
    if (v == 0) return "0";
    char buf[64];
    const double a = std::fabs(v);
    const bool exp = a < 1e-6 || a >= 1e21;
    auto r = std::to_chars(buf, buf + sizeof buf, v,
                           exp ? std::chars_format::scientific : std::chars_format::fixed);
    std::string s(buf, r.ptr);
    if (exp) {
        // Both write at least two exponent digits; encoding/json then
        // shortens e-07 to e-7 (but keeps e+21).
        const std::size_t n = s.size();
        if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
    }
    return s;
}

void json_writer::newline_indent(std::size_t depth) {
    if (!pretty_) return;
    out_ += '\n';
    out_.append(depth * 2, ' ');
}

void json_writer::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (stack_.empty()) {
        assert(out_.empty() && "one top-level value");
        return;
    }
    frame& f = stack_.back();
    assert(!f.object && "object members need a key");
    if (f.count++) out_ += ',';
    newline_indent(stack_.size());
}

json_writer& json_writer::key(std::string_view k) {
    assert(!stack_.empty() && stack_.back().object && !after_key_);
    frame& f = stack_.back();
    if (f.count++) out_ += ',';
    newline_indent(stack_.size());
    append_json_string(out_, k);
    out_ += pretty_ ? ": " : ":";
    after_key_ = true;
    return *this;
}

json_writer& json_writer::begin_object() {
    before_value();
    out_ += '{';
    stack_.push_back({true});
    return *this;
}

json_writer& json_writer::end_object() {
    assert(!stack_.empty() && stack_.back().object && !after_key_);
    const bool any = stack_.back().count > 0;
    stack_.pop_back();
    if (any) newline_indent(stack_.size());
    out_ += '}';
    return *this;
}

json_writer& json_writer::begin_array() {
    before_value();
    out_ += '[';
    stack_.push_back({false});
    return *this;
}

json_writer& json_writer::end_array() {
    assert(!stack_.empty() && !stack_.back().object);
    const bool any = stack_.back().count > 0;
    stack_.pop_back();
    if (any) newline_indent(stack_.size());
    out_ += ']';
    return *this;
}

json_writer& json_writer::value(std::string_view s) {
    before_value();
    append_json_string(out_, s);
    return *this;
}

json_writer& json_writer::value(bool b) {
    before_value();
    out_ += b ? "true" : "false";
    return *this;
}

json_writer& json_writer::value(std::int64_t v) {
    before_value();
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
}

json_writer& json_writer::value(std::uint64_t v) {
    before_value();
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
}

json_writer& json_writer::value(double v) {
    before_value();
    out_ += format_json_number(v);
    return *this;
}

json_writer& json_writer::null() {
    before_value();
    out_ += "null";
    return *this;
}

} // namespace natrix::monitor
