// Config fuzz target. Any bytes must parse or fail with a positioned error,
// never crash, hang or blow up memory. A tree that parses is written back in
// config syntax and must re-parse to the same tree (round trip), and must map
// onto options without trouble. The same bytes also go through the duration
// and cpu-list parsers.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <natrix/config/config_parser.hh>
#include <natrix/config/cpu_list.hh>
#include <natrix/config/go_duration.hh>
#include <natrix/config/server_options.hh>

using namespace natrix::config;

namespace {

void write_string(std::string& out, const std::string& s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    out += '"';
}

void write_value(std::string& out, const value& v);

void write_key(std::string& out, const std::string& key) {
    // A quoted key has no escapes and ends at its quote; a parsed key never
    // holds both kinds of quote.
    char q = key.find('"') == std::string::npos ? '"' : '\'';
    out += q;
    out += key;
    out += q;
}

void write_entries(std::string& out, const value& map) {
    for (const map_entry& e : map.as_map()) {
        write_key(out, e.key);
        out += " = ";
        write_value(out, e.val);
        out += '\n';
    }
}

void write_value(std::string& out, const value& v) {
    switch (v.kind()) {
    case value_kind::map:
        out += "{\n";
        write_entries(out, v);
        out += "}";
        break;
    case value_kind::array:
        out += "[";
        for (const value& item : v.as_array()) {
            write_value(out, item);
            out += ",\n";
        }
        out += "]";
        break;
    case value_kind::string:
        write_string(out, v.as_string());
        break;
    case value_kind::integer:
        out += std::to_string(v.as_integer());
        break;
    case value_kind::floating: {
        // Floats come from "digits.digits", so they are finite; fixed
        // notation with the shortest round-trip digits reads back exactly.
        char buf[512];
        auto r = std::to_chars(buf, buf + sizeof buf, v.as_float(), std::chars_format::fixed);
        if (r.ec != std::errc()) std::abort();
        std::string s(buf, r.ptr);
        if (s.find('.') == std::string::npos) s += ".0";
        out += s;
        break;
    }
    case value_kind::boolean:
        out += v.as_bool() ? "true" : "false";
        break;
    }
}

bool same(const value& a, const value& b) {
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
    case value_kind::map: {
        const auto& x = a.as_map();
        const auto& y = b.as_map();
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i)
            if (x[i].key != y[i].key || !same(x[i].val, y[i].val)) return false;
        return true;
    }
    case value_kind::array: {
        const auto& x = a.as_array();
        const auto& y = b.as_array();
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i)
            if (!same(x[i], y[i])) return false;
        return true;
    }
    case value_kind::string:
        return a.as_string() == b.as_string();
    case value_kind::integer:
        return a.as_integer() == b.as_integer();
    case value_kind::floating:
        return a.as_float() == b.as_float() &&
               std::signbit(a.as_float()) == std::signbit(b.as_float());
    case value_kind::boolean:
        return a.as_bool() == b.as_bool();
    }
    return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    parse_options opts;
    opts.allow_includes = false;  // no reading the fuzzing machine's files
    opts.use_environment = false; // deterministic
    opts.max_nodes = 50'000;
    opts.max_string_bytes = 1u << 20;

    parse_result r = parse_string(text, "fuzz.conf", opts);
    if (!r.ok()) {
        // Every parse error says where.
        if (r.error.rfind("fuzz.conf:", 0) != 0) std::abort();
        if (!r.root.as_map().empty()) std::abort();
    } else {
        std::string again;
        write_entries(again, r.root);
        parse_options loose = opts;
        loose.max_nodes = 1'000'000; // the copy holds expanded variables
        loose.max_string_bytes = 64u << 20;
        parse_result back = parse_string(again, "again.conf", loose);
        if (!back.ok() || !same(r.root, back.root)) {
            std::fprintf(stderr, "round trip failed: %s\n--- written ---\n%s\n", back.error.c_str(),
                         again.c_str());
            std::abort();
        }
        options_result o =
            options_from_tree(std::make_shared<const value>(std::move(r.root)), "fuzz.conf");
        if (o.ok()) (void)validate_options(o.options);
        for (const std::string& e : o.errors)
            if (e.empty()) std::abort();
    }

    std::chrono::nanoseconds d{};
    std::string why;
    if (parse_go_duration(text, &d, &why)) {
        std::chrono::nanoseconds d2{};
        if (!parse_go_duration(format_go_duration(d), &d2, &why) || d2 != d) std::abort();
    } else if (why.empty()) {
        std::abort();
    }
    std::vector<int> cpus;
    if (!parse_cpu_list(text, &cpus, &why) && why.empty()) std::abort();
    for (int c : cpus)
        if (c < 0 || c > max_cpu_id) std::abort();
    return 0;
}
