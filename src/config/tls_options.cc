// A `tls {}` block, as nats-server 2.9.10's opts.go parseTLS reads it, plus
// 2.10's handshake_first and min_version. Files are not read here: the TLS
// module loads them at start (tls_context::load) and reports what is wrong.
#include <algorithm>

#include <natrix/config/tls_options.hh>

#include "options_mapper.hh"

namespace natrix::config {

namespace {

struct go_name {
    std::string_view go, openssl; // empty openssl: refused as insecure
};

// crypto/tls names nats-server accepts (CipherSuites in Go 1.19).
constexpr go_name ciphers[] = {
    {"TLS_RSA_WITH_RC4_128_SHA", ""},
    {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", ""},
    {"TLS_ECDHE_RSA_WITH_RC4_128_SHA", ""},
    {"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", ""},
    {"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", ""},
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {"TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
};

constexpr go_name curves[] = {
    {"CurveP256", "P-256"}, {"P256", "P-256"}, {"CurveP384", "P-384"}, {"P384", "P-384"},
    {"CurveP521", "P-521"}, {"P521", "P-521"}, {"X25519", "X25519"},
};

// TLS 1.3 suites are not configurable in Go, so nats-server accepts and
// ignores their names; so does natrix.
bool is_tls13_suite(std::string_view n) {
    return n == "TLS_AES_128_GCM_SHA256" || n == "TLS_AES_256_GCM_SHA384" ||
           n == "TLS_CHACHA20_POLY1305_SHA256";
}

std::string_view trim_space(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

} // namespace

bool openssl_cipher_list(const std::vector<std::string>& go_names, std::string* out,
                         std::string* why) {
    out->clear();
    for (const std::string& n : go_names) {
        if (is_tls13_suite(n)) continue;
        const go_name* hit = nullptr;
        for (const go_name& g : ciphers)
            if (g.go == n) hit = &g;
        if (!hit) {
            *why = "unrecognized cipher suite '" + n + "'";
            return false;
        }
        if (hit->openssl.empty()) {
            *why = "cipher suite '" + n + "' is insecure; natrix does not offer it";
            return false;
        }
        if (!out->empty()) *out += ':';
        *out += hit->openssl;
    }
    return true;
}

bool openssl_groups(const std::vector<std::string>& go_names, std::string* out, std::string* why) {
    out->clear();
    for (const std::string& n : go_names) {
        const go_name* hit = nullptr;
        for (const go_name& g : curves)
            if (g.go == n) hit = &g;
        if (!hit) {
            *why = "unrecognized curve preference '" + n + "'";
            return false;
        }
        if (!out->empty()) *out += ':';
        *out += hit->openssl;
    }
    return true;
}

namespace detail {

bool mapper::string_list(const std::string& path, const value& v, std::vector<std::string>* out) {
    out->clear();
    if (v.is_string()) { // nats-server also takes one string
        out->push_back(v.as_string());
        return true;
    }
    if (!v.is_array()) {
        type_error(path, v, "an array of strings");
        return false;
    }
    for (const value& x : v.as_array()) {
        if (!x.is_string()) {
            type_error(path, x, "an array of strings");
            return false;
        }
        out->push_back(x.as_string());
    }
    return true;
}

void mapper::tls_block(const std::string& path, const value& v, tls::tls_config* out) {
    if (!v.is_map()) {
        type_error(path, v, "a map");
        return;
    }
    tls::tls_config t;
    t.enabled = true;
    for (const map_entry& e : v.as_map()) {
        const std::string key = lowered(e.key);
        const std::string where = path + "." + e.key;
        const value& x = e.val;
        if (key == "cert_file") {
            get_string(where, x, &t.cert_file);
        } else if (key == "key_file") {
            get_string(where, x, &t.key_file);
        } else if (key == "ca_file") {
            get_string(where, x, &t.ca_file);
        } else if (key == "verify") {
            get_bool(where, x, &t.verify);
        } else if (key == "verify_and_map") {
            get_bool(where, x, &t.verify_and_map);
        } else if (key == "verify_cert_and_check_known_urls") {
            get_bool(where, x, &t.verify_cert_and_check_known_urls);
        } else if (key == "insecure") {
            get_bool(where, x, &t.insecure);
        } else if (key == "timeout") {
            duration d{};
            auth_timeout(x, &d); // seconds (integer or float) or a duration, as nats-server
            t.timeout = d;
        } else if (key == "cipher_suites") {
            std::vector<std::string> names;
            std::string why;
            if (string_list(where, x, &names) && !openssl_cipher_list(names, &t.cipher_list, &why))
                error(x.pos(), "error parsing " + where + ": " + why);
        } else if (key == "curve_preferences") {
            std::vector<std::string> names;
            std::string why;
            if (string_list(where, x, &names) && !openssl_groups(names, &t.groups, &why))
                error(x.pos(), "error parsing " + where + ": " + why);
        } else if (key == "min_version") {
            std::string s;
            if (!get_string(where, x, &s)) continue;
            if (s == "1.2")
                t.min_version = 0x0303;
            else if (s == "1.3")
                t.min_version = 0x0304;
            else
                error(x.pos(), "error parsing " + where + ": unsupported TLS version \"" + s +
                                   "\" (1.2 or 1.3)");
        } else if (key == "handshake_first" || key == "first" || key == "immediate") {
            if (x.is_bool()) {
                t.handshake_first =
                    x.as_bool() ? tls::handshake_first_mode::on : tls::handshake_first_mode::off;
            } else if (x.is_string() && lowered(std::string(trim_space(x.as_string()))) == "auto") {
                t.handshake_first = tls::handshake_first_mode::automatic;
            } else if (x.is_string()) {
                duration d{};
                std::string why;
                if (!parse_go_duration(x.as_string(), &d, &why) || d.count() <= 0) {
                    error(x.pos(), "error parsing " + where +
                                       ": true, false, \"auto\" or a duration such as \"300ms\"");
                    continue;
                }
                t.handshake_first = tls::handshake_first_mode::automatic;
                t.handshake_first_delay = d;
            } else {
                type_error(where, x, "a boolean, \"auto\" or a duration");
            }
        } else if (key == "pinned_certs") {
            std::vector<std::string> pins;
            if (!string_list(where, x, &pins)) continue;
            for (std::string& p : pins) {
                p = lowered(p);
                if (p.size() != 64 || !std::all_of(p.begin(), p.end(), [](char c) {
                        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                    })) {
                    error(x.pos(), "error parsing " + where + ": \"" + p +
                                       "\" is not a hex SHA-256 of a public key");
                    continue;
                }
                t.pinned_certs.push_back(p);
            }
        } else if (key == "connection_rate_limit") {
            std::int64_t n = 0;
            if (get_range(where, x, 0, INT32_MAX, &n))
                t.connection_rate_limit = static_cast<int>(n);
        } else if (key == "cert_store" || key == "cert_match_by" || key == "cert_match" ||
                   key == "ocsp_peer" || key == "certs" || key == "ca_certs_match") {
            // Windows certificate store and OCSP: a certificate natrix cannot
            // load would leave it without TLS, so these fail closed.
            error(e.key_pos,
                  "'" + where + "' is not supported by natrix: use cert_file and key_file");
        } else {
            unknown(where, e);
        }
    }
    if (t.cert_file.empty() || t.key_file.empty()) {
        error(v.pos(), "missing 'cert_file' or 'key_file' in TLS configuration ('" + path + "')");
        return;
    }
    if (t.verify_and_map) t.verify = true;
    *out = std::move(t);
}

} // namespace detail

} // namespace natrix::config
