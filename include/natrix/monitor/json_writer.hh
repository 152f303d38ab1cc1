#pragma once
// A streaming JSON writer that produces what Go's json.MarshalIndent(v, "",
// "  ") produces for the same values, so monitoring answers look like
// nats-server's: two-space indentation, "key": value, empty containers as
// {} and [], strings escaped the way encoding/json escapes them (HTML-safe
// <, >, &; U+2028/U+2029; invalid UTF-8 becomes U+FFFD), floats in Go's
// shortest 'f' form (exponent form outside 1e-6 .. 1e21).
//
// Plain value type; one thread at a time. Misuse (a value where a key is
// due, unbalanced ends) is a programming error caught by assertions.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/util/json_string.hh>

namespace natrix::monitor {

class json_writer {
public:
    // pretty = false writes the compact form (json.Marshal).
    explicit json_writer(bool pretty = true)
        : pretty_(pretty) {}

    json_writer& begin_object();
    json_writer& end_object();
    json_writer& begin_array();
    json_writer& end_array();
    json_writer& key(std::string_view k);

    json_writer& value(std::string_view s);
    json_writer& value(const char* s) { return value(std::string_view(s)); }
    json_writer& value(const std::string& s) { return value(std::string_view(s)); }
    json_writer& value(bool b);
    json_writer& value(std::int64_t v);
    json_writer& value(std::uint64_t v);
    json_writer& value(int v) { return value(static_cast<std::int64_t>(v)); }
    json_writer& value(unsigned v) { return value(static_cast<std::uint64_t>(v)); }
    json_writer& value(long long v) { return value(static_cast<std::int64_t>(v)); }
    json_writer& value(unsigned long long v) { return value(static_cast<std::uint64_t>(v)); }
    json_writer& value(double v);
    json_writer& null();

    template <typename T>
    json_writer& field(std::string_view k, const T& v) {
        key(k);
        return value(v);
    }

    const std::string& str() const noexcept { return out_; }
    std::string take() { return std::move(out_); }
    // True once every container opened has been closed.
    bool complete() const noexcept { return stack_.empty() && !out_.empty(); }

private:
    void before_value();
    void newline_indent(std::size_t depth);

    struct frame {
        bool object;
        std::size_t count = 0;
    };
    bool pretty_;
    bool after_key_ = false;
    std::vector<frame> stack_;
    std::string out_;
};

using util::append_json_string; // strings are escaped as Go's encoding/json does
// Go's strconv.FormatFloat(v, 'f' or 'e', -1, 64) as encoding/json uses it.
std::string format_json_number(double v);

} // namespace natrix::monitor
