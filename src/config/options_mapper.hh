#pragma once
// The one pass that maps a parsed config tree onto server_options, shared by
// server_options.cc (server keys), security_options.cc (authorization,
// accounts) and cluster_options.cc (cluster). Internal to the config module.
// Control thread only.
#include <algorithm>
#include <climits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/config/go_duration.hh>
#include <natrix/config/server_options.hh>

#include "fail_closed.hh"

namespace natrix::config::detail {

std::string lowered(std::string_view s);

class mapper {
public:
    explicit mapper(options_result& r)
        : r_(r)
        , o_(r.options) {}

    void run(const value& root);

private:
    void error(const position& p, const std::string& msg) {
        r_.errors.push_back(p.to_string() + ": " + msg);
    }
    void warn(const std::string& key, const position& p, const std::string& msg) {
        r_.warnings.push_back(config_warning{key, p.to_string() + ": " + msg});
    }
    void type_error(const std::string& key, const value& v, std::string_view expected) {
        error(v.pos(), "'" + key + "' must be " + std::string(expected) + ", not " +
                           std::string(kind_name(v.kind())));
    }
    // A key natrix accepts and ignores: a warning for the log, and its path
    // in server_options::ignored_keys for /varz.
    void ignore(const std::string& key, const std::string& path, const position& p,
                const std::string& msg) {
        warn(key, p, msg);
        std::vector<std::string>& list = o_.ignored_keys;
        if (std::find(list.begin(), list.end(), path) == list.end()) list.push_back(path);
    }
    // A setting that would leave the server more open if ignored
    // (fail_closed.hh): an error, whatever strict_config says.
    void refuse(const std::string& what, const position& p, exposure e) {
        error(p, refusal(what, e));
    }
    void unknown(const std::string& key, const map_entry& e) {
        if (e.used_as_variable) return; // nats-server skips keys used as $variables
        if (strict_)
            error(e.key_pos, "unknown field \"" + key + "\"");
        else
            ignore(key, key, e.key_pos,
                   "unknown field \"" + key + "\" ignored (strict_config is off)");
    }

    bool get_int(const std::string& key, const value& v, std::int64_t* out) {
        if (!v.is_integer()) {
            type_error(key, v, "an integer");
            return false;
        }
        *out = v.as_integer();
        return true;
    }
    bool get_string(const std::string& key, const value& v, std::string* out) {
        if (!v.is_string()) {
            type_error(key, v, "a string");
            return false;
        }
        *out = v.as_string();
        return true;
    }
    bool get_bool(const std::string& key, const value& v, bool* out) {
        if (!v.is_bool()) {
            type_error(key, v, "a boolean (true/false, yes/no, on/off)");
            return false;
        }
        *out = v.as_bool();
        return true;
    }
    // Integer in [lo, hi].
    bool get_range(const std::string& key, const value& v, std::int64_t lo, std::int64_t hi,
                   std::int64_t* out) {
        if (!get_int(key, v, out)) return false;
        if (*out < lo || *out > hi) {
            error(v.pos(), "'" + key + "' must be between " + std::to_string(lo) + " and " +
                               std::to_string(hi) + ", not " + std::to_string(*out));
            return false;
        }
        return true;
    }
    // A duration string ("2s"); an integer means seconds, as nats-server
    // accepts for old configs, with the same warning it gives.
    bool get_duration(const std::string& key, const value& v, duration* out) {
        if (v.is_integer()) {
            std::int64_t s = v.as_integer();
            if (s > INT64_MAX / 1'000'000'000 || s < INT64_MIN / 1'000'000'000) {
                error(v.pos(), "'" + key + "' is out of range");
                return false;
            }
            // An unquoted 1m is the integer 1000000 (m = mega), not a minute.
            std::string hint = s != 0 && s % 1000 == 0
                                   ? "; note that unquoted 1m or 2k are numbers (1000000, 2000): "
                                     "quote durations, e.g. \"1m\""
                                   : "";
            warn(key, v.pos(),
                 "invalid use of field \"" + key + "\": " + key +
                     " should be converted to a duration (a plain number is read as seconds" +
                     hint + ")");
            *out = std::chrono::seconds(s);
            return true;
        }
        if (!v.is_string()) {
            type_error(key, v, "a duration string such as \"30s\"");
            return false;
        }
        std::string why;
        if (!parse_go_duration(v.as_string(), out, &why)) {
            error(v.pos(), "error parsing " + key + ": " + why);
            return false;
        }
        return true;
    }
    // A positive duration; zero selects the default (nats-server's rule).
    void positive_duration(const std::string& key, const value& v, duration* field,
                           duration fallback) {
        duration d{};
        if (!get_duration(key, v, &d)) return;
        if (d.count() < 0) {
            error(v.pos(), "'" + key + "' must not be negative");
            return;
        }
        *field = d.count() == 0 ? fallback : d;
    }
    // A port: -1 = any free port (stored as 0), 0 = `fallback`.
    bool get_port(const std::string& key, const value& v, int fallback, int* out) {
        std::int64_t p = 0;
        if (!get_range(key, v, -1, 65535, &p)) return false;
        *out = p == -1 ? 0 : p == 0 ? fallback : static_cast<int>(p);
        return true;
    }
    // listen/http: "host:port", ":port", "[v6]:port" or a bare port.
    bool get_host_port(const std::string& key, const value& v, std::string* host, int* port,
                       bool http);

    void refuse_nested(const std::string& path, const value& v, bool section);
    void natrix_block(const value& v);
    void io_block(const value& v);
    void io_backend(const std::string& name, const value& v);
    // security_options.cc
    void authorization_block(const std::string& key, const map_entry& e);
    void auth_timeout(const value& v, duration* out);
    bool users_list(const value& v, const std::string& account, std::vector<user_option>* out);
    void connection_types(const map_entry& x, const std::string& path, const user_option& u);
    std::optional<permissions_option> permissions(const value& v);
    std::optional<subject_permission> subject_permissions(const std::string& key, const value& v);
    bool permission_subjects(const std::string& key, const value& v, std::vector<std::string>* out);
    std::optional<response_permission> allow_responses(const value& v);
    void accounts_block(const map_entry& e);
    bool account_exports(const value& v, account_option* a);
    bool account_imports(const value& v, account_option* a);
    void check_security(const position& where);
    void cpus(const value& v);
    // cluster_options.cc
    bool listen_key(const std::string& key, const std::string& path, const value& x,
                    std::string* host, std::int64_t* port);
    void cluster_block(const map_entry& block);
    void cluster_authorization(const std::string& path, const map_entry& e,
                               cluster::cluster_config* c);
    void cluster_routes(const std::string& path, const value& v, cluster::cluster_config* c);
    // tls_options.cc
    bool string_list(const std::string& path, const value& v, std::vector<std::string>* out);
    void tls_block(const std::string& path, const value& v, tls::tls_config* out);
    // gateway_options.cc
    void gateway_block(const map_entry& block);
    void gateway_remotes(const std::string& path, const value& v, cluster::gateway_config* g);

    options_result& r_;
    server_options& o_;
    bool strict_ = true;
    position accounts_pos_; // where cross-account errors are reported
};

} // namespace natrix::config::detail
