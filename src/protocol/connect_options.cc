#include <simdjson.h>

#include <natrix/protocol/connect_options.hh>

namespace natrix::protocol {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

bool fail(std::string* error, std::string msg) {
    if (error) *error = std::move(msg);
    return false;
}

} // namespace

bool parse_connect_options(std::string_view json, connect_options& out, std::string* error) {
    using namespace simdjson;
    // The DOM parser validates the whole document (trailing bytes included)
    // before we read it, as Go's json.Unmarshal does. One per thread, reused.
    thread_local dom::parser parser;
    dom::element doc;
    if (auto e = parser.parse(json.data(), json.size(), true).get(doc); e)
        return fail(error, std::string("invalid CONNECT JSON: ") + error_message(e));
    dom::object obj;
    if (auto e = doc.get_object().get(obj); e)
        return fail(error, "invalid CONNECT JSON: not an object");

    for (dom::key_value_pair kv : obj) {
        const std::string_view key = kv.key;
        const dom::element value = kv.value;
        if (value.is_null()) continue;

        auto get_bool = [&](bool& dst) {
            bool b;
            if (auto e = value.get_bool().get(b); e)
                return fail(error, "CONNECT field '" + std::string(key) + "' must be a boolean");
            dst = b;
            return true;
        };
        auto get_string = [&](std::string& dst) {
            std::string_view sv;
            if (auto e = value.get_string().get(sv); e)
                return fail(error, "CONNECT field '" + std::string(key) + "' must be a string");
            dst.assign(sv);
            return true;
        };

        bool ok = true;
        if (iequals(key, "verbose"))
            ok = get_bool(out.verbose);
        else if (iequals(key, "pedantic"))
            ok = get_bool(out.pedantic);
        else if (iequals(key, "tls_required"))
            ok = get_bool(out.tls_required);
        else if (iequals(key, "echo"))
            ok = get_bool(out.echo);
        else if (iequals(key, "headers"))
            ok = get_bool(out.headers);
        else if (iequals(key, "no_responders"))
            ok = get_bool(out.no_responders);
        else if (iequals(key, "protocol")) {
            int64_t v;
            if (auto e = value.get_int64().get(v); e)
                return fail(error, "CONNECT field 'protocol' must be an integer");
            out.protocol = v;
        } else if (iequals(key, "name"))
            ok = get_string(out.name);
        else if (iequals(key, "lang"))
            ok = get_string(out.lang);
        else if (iequals(key, "version"))
            ok = get_string(out.version);
        else if (iequals(key, "user"))
            ok = get_string(out.user);
        else if (iequals(key, "pass"))
            ok = get_string(out.pass);
        else if (iequals(key, "auth_token"))
            ok = get_string(out.auth_token);
        else if (iequals(key, "nkey"))
            ok = get_string(out.nkey);
        else if (iequals(key, "sig"))
            ok = get_string(out.sig);
        else if (iequals(key, "jwt"))
            ok = get_string(out.jwt);
        else if (iequals(key, "account"))
            ok = get_string(out.account);
        else if (iequals(key, "new_account"))
            ok = get_bool(out.new_account);
        if (!ok) return false;
    }
    return true;
}

bool is_valid_json(std::string_view json) {
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element doc;
    return !parser.parse(json.data(), json.size(), true).get(doc);
}

} // namespace natrix::protocol
