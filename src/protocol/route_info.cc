#include <cstring>

#include <simdjson.h>

#include <natrix/protocol/route_info.hh>
#include <natrix/util/json_string.hh>

namespace natrix::protocol {

namespace {

struct json_obj {
    std::string s = "{";
    void key(const char* k) {
        if (s.size() > 1) s += ',';
        s += '"';
        s += k;
        s += "\":";
    }
    void str(const char* k, std::string_view v) {
        key(k);
        util::append_json_string(s, v);
    }
    void boolean(const char* k, bool v) {
        key(k);
        s += v ? "true" : "false";
    }
    void num(const char* k, long long v) {
        key(k);
        s += std::to_string(v);
    }
};

void string_array(json_obj& j, const char* k, const std::vector<std::string>& v) {
    j.key(k);
    j.s += '[';
    for (std::size_t n = 0; n < v.size(); ++n) {
        if (n) j.s += ',';
        util::append_json_string(j.s, v[n]);
    }
    j.s += ']';
}

constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Go encodes a []byte field as standard base64 with padding.
std::string base64(std::string_view in) {
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                           (static_cast<unsigned char>(in[i + 1]) << 8) |
                           static_cast<unsigned char>(in[i + 2]);
        for (int k = 18; k >= 0; k -= 6) out += b64_alphabet[(v >> k) & 63];
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += b64_alphabet[(v >> 18) & 63];
        out += b64_alphabet[(v >> 12) & 63];
        out += i + 1 < in.size() ? b64_alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

bool unbase64(std::string_view in, std::string& out) {
    out.clear();
    unsigned acc = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=') break;
        const char* p = std::strchr(b64_alphabet, c);
        if (!p || !c) return false;
        acc = (acc << 6) | static_cast<unsigned>(p - b64_alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return true;
}

bool fail(std::string* error, std::string msg) {
    if (error) *error = std::move(msg);
    return false;
}

template <typename Fn>
bool for_each_field(std::string_view json, const char* what, std::string* error, Fn&& fn) {
    using namespace simdjson;
    thread_local dom::parser parser;
    dom::element doc;
    if (auto e = parser.parse(json.data(), json.size(), true).get(doc); e)
        return fail(error, std::string("invalid ") + what + " JSON: " + error_message(e));
    dom::object obj;
    if (auto e = doc.get_object().get(obj); e)
        return fail(error, std::string("invalid ") + what + " JSON: not an object");
    for (dom::key_value_pair kv : obj) {
        if (kv.value.is_null()) continue;
        if (!fn(std::string_view(kv.key), kv.value))
            return fail(error, std::string(what) + " field '" + std::string(kv.key) +
                                   "' has the wrong type");
    }
    return true;
}

bool get(const simdjson::dom::element& v, std::string& out) {
    std::string_view sv;
    if (v.get_string().get(sv)) return false;
    out.assign(sv);
    return true;
}
bool get(const simdjson::dom::element& v, bool& out) {
    return !v.get_bool().get(out);
}
template <typename I>
bool get_int(const simdjson::dom::element& v, I& out) {
    std::int64_t n;
    if (v.get_int64().get(n)) return false;
    out = static_cast<I>(n);
    return true;
}

} // namespace

std::string write_route_info(const route_info& i) {
    json_obj j;
    j.str("server_id", i.server_id);
    j.str("server_name", i.server_name);
    j.str("version", i.version);
    j.num("proto", 2);
    if (!i.go.empty()) j.str("go", i.go);
    j.str("host", i.host);
    j.num("port", i.port);
    if (!i.ip.empty()) j.str("ip", i.ip);
    if (i.auth_required) j.boolean("auth_required", true);
    if (i.tls_required) {
        j.boolean("tls_required", true);
        j.boolean("tls_verify", true);
    }
    j.boolean("headers", i.headers);
    j.num("max_payload", i.max_payload);
    j.str("cluster", i.cluster);
    if (i.cluster_dynamic) j.boolean("cluster_dynamic", true);
    if (!i.connect_urls.empty()) string_array(j, "connect_urls", i.connect_urls);
    if (i.ldm) j.boolean("ldm", true);
    if (!i.gateway_url.empty()) j.str("gateway_url", i.gateway_url);
    return "INFO " + j.s + "}\r\n";
}

std::string write_gateway_info(const route_info& i) {
    json_obj j;
    if (i.gateway_cmd == 2 || i.gateway_cmd == 3) {
        j.str("gateway", i.gateway);
        j.num("gateway_cmd", i.gateway_cmd);
        j.str("gateway_cmd_payload", base64(i.gateway_cmd_payload));
        return "INFO " + j.s + "}\r\n";
    }
    j.str("server_id", i.server_id);
    j.str("server_name", i.server_name);
    if (i.gateway_cmd == 1) { // gossip: another cluster's gateways
        j.str("gateway", i.gateway);
        string_array(j, "gateway_urls", i.gateway_urls);
        j.num("gateway_cmd", 1);
        return "INFO " + j.s + "}\r\n";
    }
    j.str("version", i.version);
    j.num("proto", 1);
    if (!i.go.empty()) j.str("go", i.go);
    j.str("host", i.host);
    j.num("port", i.port);
    if (i.auth_required) j.boolean("auth_required", true);
    if (i.tls_required) {
        j.boolean("tls_required", true);
        j.boolean("tls_verify", true);
    }
    j.num("max_payload", i.max_payload);
    j.boolean("headers", i.headers);
    j.str("gateway", i.gateway);
    if (!i.gateway_url.empty()) j.str("gateway_url", i.gateway_url);
    if (!i.gateway_urls.empty()) string_array(j, "gateway_urls", i.gateway_urls);
    j.boolean("gateway_nrp", true);
    j.boolean("gateway_iom", true);
    return "INFO " + j.s + "}\r\n";
}

std::string write_gateway_connect(const route_connect& c) {
    json_obj j;
    j.boolean("echo", false);
    j.boolean("verbose", false);
    j.boolean("pedantic", false);
    if (!c.user.empty()) j.str("user", c.user);
    if (!c.pass.empty()) j.str("pass", c.pass);
    j.boolean("tls_required", false);
    j.boolean("headers", false);
    j.str("name", c.name);
    j.str("cluster", "");
    j.str("gateway", c.gateway);
    return "CONNECT " + j.s + "}\r\n";
}

std::string write_route_connect(const route_connect& c) {
    json_obj j;
    j.boolean("echo", true);
    j.boolean("verbose", false);
    j.boolean("pedantic", false);
    if (!c.user.empty()) j.str("user", c.user);
    if (!c.pass.empty()) j.str("pass", c.pass);
    j.boolean("tls_required", c.tls_required);
    j.boolean("headers", c.headers);
    j.str("name", c.name);
    j.str("cluster", c.cluster);
    if (c.cluster_dynamic) j.boolean("cluster_dynamic", true);
    return "CONNECT " + j.s + "}\r\n";
}

bool parse_route_info(std::string_view json, route_info& out, std::string* error) {
    return for_each_field(json, "INFO", error,
                          [&](std::string_view k, const simdjson::dom::element& v) {
                              if (k == "server_id") return get(v, out.server_id);
                              if (k == "server_name") return get(v, out.server_name);
                              if (k == "version") return get(v, out.version);
                              if (k == "host") return get(v, out.host);
                              if (k == "port") return get_int(v, out.port);
                              if (k == "ip") return get(v, out.ip);
                              if (k == "auth_required") return get(v, out.auth_required);
                              if (k == "headers") return get(v, out.headers);
                              if (k == "cluster") return get(v, out.cluster);
                              if (k == "cluster_dynamic") return get(v, out.cluster_dynamic);
                              if (k == "ldm") return get(v, out.ldm);
                              if (k == "route_account") return get(v, out.route_account);
                              if (k == "route_pool_size") return get_int(v, out.route_pool_size);
                              if (k == "gateway_url") return get(v, out.gateway_url);
                              if (k == "gateway") return get(v, out.gateway);
                              if (k == "gateway_nrp") return get(v, out.gateway_nrp);
                              if (k == "gateway_iom") return get(v, out.gateway_iom);
                              if (k == "gateway_cmd") return get_int(v, out.gateway_cmd);
                              if (k == "gateway_cmd_payload") {
                                  std::string b;
                                  return get(v, b) && unbase64(b, out.gateway_cmd_payload);
                              }
                              if (k == "gateway_urls") {
                                  simdjson::dom::array a;
                                  if (v.get_array().get(a)) return false;
                                  out.gateway_urls.clear();
                                  for (simdjson::dom::element e : a) {
                                      std::string u;
                                      if (!get(e, u)) return false;
                                      out.gateway_urls.push_back(std::move(u));
                                  }
                                  return true;
                              }
                              if (k == "connect_urls") {
                                  simdjson::dom::array a;
                                  if (v.get_array().get(a)) return false;
                                  out.connect_urls.clear();
                                  for (simdjson::dom::element e : a) {
                                      std::string u;
                                      if (!get(e, u)) return false;
                                      out.connect_urls.push_back(std::move(u));
                                  }
                                  return true;
                              }
                              return true; // unknown fields: ignored, as a 2.9 peer does
                          });
}

bool parse_route_connect(std::string_view json, route_connect& out, std::string* error) {
    return for_each_field(json, "CONNECT", error,
                          [&](std::string_view k, const simdjson::dom::element& v) {
                              if (k == "name") return get(v, out.name);
                              if (k == "cluster") return get(v, out.cluster);
                              if (k == "cluster_dynamic") return get(v, out.cluster_dynamic);
                              if (k == "user") return get(v, out.user);
                              if (k == "pass") return get(v, out.pass);
                              if (k == "headers") return get(v, out.headers);
                              if (k == "tls_required") return get(v, out.tls_required);
                              if (k == "lang") return get(v, out.lang);
                              if (k == "gateway") return get(v, out.gateway);
                              return true;
                          });
}

} // namespace natrix::protocol
