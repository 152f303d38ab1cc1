#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <iterator>

#include <natrix/config/cluster_options.hh>
#include <natrix/config/config_parser.hh>
#include <natrix/config/cpu_list.hh>
#include <natrix/config/go_duration.hh>
#include <natrix/config/server_options.hh>

#include "fail_closed.hh"
#include "options_mapper.hh"

namespace natrix::config {

const std::string_view builtin_default_config =
    R"(# natrix built-in configuration, used when no -c FILE is given.
# It spells out the defaults; every key means what it means to nats-server.
listen: 0.0.0.0:4222
max_payload: 1MB
max_pending: 64MB
max_connections: 65536
max_subscriptions: 0
max_control_line: 4096
ping_interval: "2m"
ping_max: 2
write_deadline: "10s"
debug: false
trace: false
logtime: true
lame_duck_duration: "2m"
lame_duck_grace_period: "10s"

natrix {
  shards: 0               # one per allowed core
  idle_strategy: backoff
  spin_us: 50
  ring_capacity: 64KB
  io {
    recv_buffer_size: 64KB
    recv_buffer_count: 256
  }
}
)";

namespace {

// Keys nats-server 2.9/2.10+ accepts at the top level that natrix does not
// implement yet, and that are safe to ignore: accepted with a warning (and
// listed in /varz) so that a nats-server config loads. Keys that would leave
// the server more open if ignored (operator, tls, ...) are refused instead
// (fail_closed.hh), and the gateway/leafnodes/websocket/mqtt blocks are
// inspected for them before being ignored.
constexpr std::string_view unsupported_keys[] = {
    "trace_headers",
    "logtime_utc",
    "mappings",
    "maps",
    "disable_sublist_cache",
    "no_sublist_cache",
    "default_sentinel",
    "https",
    "https_port",
    "http_base_path",
    "store_dir",
    "storedir",
    "jetstream",
    "logfile_size_limit",
    "log_size_limit",
    "logfile_max_num",
    "log_max_num",
    "syslog",
    "remote_syslog",
    "ports_file_dir",
    "prof_port",
    "prof_block_rate",
    "proxy_protocol",
    "max_sub_tokens",
    "max_subscription_tokens",
    "ocsp",
    "write_timeout",
    "system_account",
    "system",
    "no_system_account",
    "no_system",
    "no_sys_acc",
    "no_header_support",
    "connect_error_reports",
    "reconnect_error_reports",
    "server_tags",
    "server_metadata",
    "feature_flags",
    "default_js_domain",
    "ocsp_cache",
    "no_fast_producer_stall",
    "max_closed_clients",
    "proxies",
};

bool is_power_of_two(std::int64_t v) {
    return v > 0 && (v & (v - 1)) == 0;
}

} // namespace

namespace detail {

std::string lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool mapper::get_host_port(const std::string& key, const value& v, std::string* host, int* port,
                           bool http) {
    if (v.is_integer()) {
        if (http) {
            std::int64_t p = 0;
            if (!get_range(key, v, -1, 65535, &p)) return false;
            *port = static_cast<int>(p);
            return true;
        }
        return get_port(key, v, 4222, port);
    }
    if (!v.is_string()) {
        type_error(key, v, "a port or \"host:port\"");
        return false;
    }
    std::string_view s = v.as_string();
    std::string_view h, p;
    if (!s.empty() && s[0] == '[') {
        std::size_t close = s.find(']');
        if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
            error(v.pos(), "could not parse address string \"" + std::string(s) + "\" for '" + key +
                               "' (expected host:port)");
            return false;
        }
        h = s.substr(1, close - 1);
        p = s.substr(close + 2);
    } else {
        std::size_t colon = s.rfind(':');
        if (colon == std::string_view::npos || s.find(':') != colon) {
            error(v.pos(),
                  "could not parse address string \"" + std::string(s) + "\" for '" + key +
                      "' (expected host:port" +
                      (colon == std::string_view::npos ? "" : "; write IPv6 as [addr]:port") + ")");
            return false;
        }
        h = s.substr(0, colon);
        p = s.substr(colon + 1);
    }
    int n = 0;
    auto rc = std::from_chars(p.data(), p.data() + p.size(), n);
    if (p.empty() || rc.ec != std::errc() || rc.ptr != p.data() + p.size() || n < -1 || n > 65535) {
        error(v.pos(), "could not parse port \"" + std::string(p) + "\" for '" + key + "'");
        return false;
    }
    if (!h.empty())
        *host = std::string(h);
    else if (!http)
        *host = "0.0.0.0"; // an empty monitoring host follows `host`, as in nats-server
    if (http)
        *port = n;
    else
        *port = n == -1 ? 0 : n == 0 ? 4222 : n;
    return true;
}

void mapper::run(const value& root) {
    // strict_config first: it decides how every other unknown key is reported.
    for (const map_entry& e : root.as_map()) {
        if (lowered(e.key) != "natrix" || !e.val.is_map()) continue;
        for (const map_entry& n : e.val.as_map())
            if (lowered(n.key) == "strict_config" && n.val.is_bool()) strict_ = n.val.as_bool();
    }
    o_.natrix.strict_config = strict_;

    for (const map_entry& e : root.as_map()) {
        const std::string key = lowered(e.key);
        const value& v = e.val;
        std::int64_t n = 0;
        if (key == "listen") {
            get_host_port(e.key, v, &o_.host, &o_.port, false);
        } else if (key == "host" || key == "net") {
            std::string h;
            if (get_string(e.key, v, &h)) {
                if (h.empty())
                    error(v.pos(), "'" + e.key + "' must not be empty");
                else
                    o_.host = h;
            }
        } else if (key == "port") {
            get_port(e.key, v, 4222, &o_.port);
        } else if (key == "server_name") {
            std::string name;
            if (get_string(e.key, v, &name)) {
                if (name.find(' ') != std::string::npos)
                    error(v.pos(), "server_name cannot contain spaces");
                else
                    o_.server_name = name;
            }
        } else if (key == "max_payload") {
            if (get_range(e.key, v, 0, INT32_MAX, &n)) o_.max_payload = n == 0 ? 1 << 20 : n;
        } else if (key == "max_pending") {
            if (get_range(e.key, v, 0, INT64_MAX, &n)) o_.max_pending = n == 0 ? 64 << 20 : n;
        } else if (key == "max_connections" || key == "max_conn") {
            if (get_range(e.key, v, 0, INT32_MAX, &n))
                o_.max_connections = n == 0 ? 65536 : static_cast<int>(n);
        } else if (key == "max_subscriptions" || key == "max_subs") {
            if (get_range(e.key, v, 0, INT32_MAX, &n)) o_.max_subscriptions = static_cast<int>(n);
        } else if (key == "max_control_line") {
            if (get_range(e.key, v, 0, INT32_MAX, &n))
                o_.max_control_line = n == 0 ? 4096 : static_cast<int>(n);
        } else if (key == "ping_interval") {
            positive_duration(e.key, v, &o_.ping_interval, std::chrono::minutes(2));
        } else if (key == "ping_max") {
            if (get_range(e.key, v, 0, INT32_MAX, &n))
                o_.ping_max = n == 0 ? 2 : static_cast<int>(n);
        } else if (key == "write_deadline") {
            positive_duration(e.key, v, &o_.write_deadline, std::chrono::seconds(10));
        } else if (key == "debug") {
            get_bool(e.key, v, &o_.debug);
        } else if (key == "trace" || key == "trace_verbose") {
            // trace_verbose adds the system account's traffic, which natrix lacks.
            get_bool(e.key, v, &o_.trace);
        } else if (key == "max_traced_msg_len") {
            if (get_range(e.key, v, INT32_MIN, INT32_MAX, &n))
                o_.max_traced_msg_len = static_cast<int>(n);
        } else if (key == "logtime") {
            get_bool(e.key, v, &o_.logtime);
        } else if (key == "log_file" || key == "logfile") {
            get_string(e.key, v, &o_.log_file);
        } else if (key == "pid_file" || key == "pidfile") {
            get_string(e.key, v, &o_.pid_file);
        } else if (key == "http") {
            get_host_port(e.key, v, &o_.http_host, &o_.http_port, true);
        } else if (key == "http_port" || key == "monitor_port") {
            if (get_range(e.key, v, -1, 65535, &n)) o_.http_port = static_cast<int>(n);
        } else if (key == "lame_duck_duration") {
            duration d{};
            if (get_duration(e.key, v, &d)) {
                if (d < std::chrono::seconds(30))
                    error(v.pos(), "invalid lame_duck_duration of " + format_go_duration(d) +
                                       ", minimum is 30 seconds");
                else
                    o_.lame_duck_duration = d;
            }
        } else if (key == "lame_duck_grace_period") {
            positive_duration(e.key, v, &o_.lame_duck_grace_period, std::chrono::seconds(10));
        } else if (key == "authorization") {
            authorization_block(e.key, e);
        } else if (key == "accounts") {
            accounts_block(e);
        } else if (key == "no_auth_user") {
            get_string(e.key, v, &o_.security.no_auth_user);
        } else if (key == "cluster") {
            cluster_block(e);
        } else if (key == "gateway") {
            gateway_block(e);
        } else if (key == "tls") {
            tls_block(e.key, v, &o_.tls);
        } else if (key == "allow_non_tls") {
            get_bool(e.key, v, &o_.allow_non_tls);
        } else if (key == "client_advertise") {
            std::string s, why;
            if (!get_string(e.key, v, &s)) continue;
            if (!s.empty() && !check_advertise(s, &why))
                error(v.pos(), "invalid '" + e.key + "' \"" + s + "\": " + why);
            else
                o_.client_advertise = s;
        } else if (key == "natrix") {
            natrix_block(v);
        } else if (auto open = fail_closed_top_level(key)) {
            refuse("'" + e.key + "'", e.key_pos, *open);
        } else if (is_inspected_section(key)) {
            refuse_nested(e.key, v, true);
            ignore(e.key, e.key, e.key_pos,
                   "'" + e.key + "' is not supported by natrix yet; ignored");
        } else if (std::find(std::begin(unsupported_keys), std::end(unsupported_keys), key) !=
                   std::end(unsupported_keys)) {
            ignore(e.key, e.key, e.key_pos,
                   "'" + e.key + "' is not supported by natrix yet; ignored");
        } else {
            unknown(e.key, e);
        }
    }
    check_security(root.pos());
    // Monitoring binds where clients do unless `http` names its own host.
    if (!config_sets_http_host(root)) o_.http_host = o_.host;
}

// A block natrix ignores (gateway, leafnodes, ...): its tls blocks, at any
// depth, and its own authorization are refused rather than ignored.
void mapper::refuse_nested(const std::string& path, const value& v, bool section) {
    if (v.is_map()) {
        for (const map_entry& e : v.as_map()) {
            const std::string where = path + "." + e.key;
            if (auto open = fail_closed_in_section(lowered(e.key), section))
                refuse("'" + where + "'", e.key_pos, *open);
            else
                refuse_nested(where, e.val, false);
        }
    } else if (v.is_array()) {
        std::size_t i = 0;
        for (const value& item : v.as_array())
            refuse_nested(path + "[" + std::to_string(i++) + "]", item, false);
    }
}

void mapper::natrix_block(const value& v) {
    if (!v.is_map()) {
        type_error("natrix", v, "a map");
        return;
    }
    natrix_tuning& t = o_.natrix;
    for (const map_entry& e : v.as_map()) {
        const std::string key = lowered(e.key);
        const value& x = e.val;
        std::int64_t n = 0;
        if (key == "shards") {
            if (get_range("natrix.shards", x, 0, max_cpu_id + 1, &n))
                t.shards = static_cast<std::uint32_t>(n);
        } else if (key == "cpus") {
            cpus(x);
        } else if (key == "idle_strategy") {
            std::string s;
            if (!get_string("natrix.idle_strategy", x, &s)) continue;
            s = lowered(s);
            if (s != "spin" && s != "backoff" && s != "sleep")
                error(x.pos(), "'natrix.idle_strategy' must be spin, backoff or sleep, not \"" +
                                   x.as_string() + "\"");
            else
                t.idle_strategy = s;
        } else if (key == "spin_us") {
            if (get_range("natrix.spin_us", x, 0, 1'000'000, &n))
                t.spin_us = static_cast<std::uint32_t>(n);
        } else if (key == "ring_capacity") {
            if (!get_range("natrix.ring_capacity", x, 1024, 1 << 30, &n)) continue;
            if (!is_power_of_two(n))
                error(x.pos(),
                      "'natrix.ring_capacity' must be a power of two, not " + std::to_string(n));
            else
                t.ring_capacity = static_cast<std::uint32_t>(n);
        } else if (key == "slow_consumer") {
            std::string s;
            if (!get_string("natrix.slow_consumer", x, &s)) continue;
            s = lowered(s);
            if (s != "throttle" && s != "evict")
                error(x.pos(), "'natrix.slow_consumer' must be throttle or evict, not \"" +
                                   x.as_string() + "\"");
            else
                t.slow_consumer = s;
        } else if (key == "stall_timeout") {
            positive_duration("natrix.stall_timeout", x, &t.stall_timeout, std::chrono::seconds(2));
        } else if (key == "io") {
            if (x.is_map())
                io_block(x);
            else if (x.is_string())
                io_backend("natrix.io", x);
            else
                type_error("natrix.io", x, "a string or a map");
        } else if (key == "strict_config") {
            get_bool("natrix.strict_config", x, &t.strict_config);
        } else {
            unknown("natrix." + e.key, e);
        }
    }
}

void mapper::io_backend(const std::string& name, const value& v) {
    std::string s;
    if (!get_string(name, v, &s)) return;
    s = lowered(s);
    if (s != "uring" && s != "io_uring" && s != "epoll" && s != "auto")
        error(v.pos(),
              "'" + name + "' must be uring, epoll or auto, not \"" + v.as_string() + "\"");
    else
        o_.natrix.io_backend = s == "io_uring" ? "uring" : s;
}

void mapper::io_block(const value& v) {
    if (!v.is_map()) {
        type_error("natrix.io", v, "a map");
        return;
    }
    natrix_tuning& t = o_.natrix;
    for (const map_entry& e : v.as_map()) {
        const std::string key = lowered(e.key);
        std::int64_t n = 0;
        if (key == "recv_buffer_size") {
            if (get_range("natrix.io.recv_buffer_size", e.val, 1024, 16 << 20, &n))
                t.recv_buffer_size = static_cast<std::uint32_t>(n);
        } else if (key == "backend") {
            io_backend("natrix.io.backend", e.val);
        } else if (key == "recv_buffer_count") {
            if (!get_range("natrix.io.recv_buffer_count", e.val, 1, 32768, &n)) continue;
            if (!is_power_of_two(n))
                error(e.val.pos(), "'natrix.io.recv_buffer_count' must be a power of two "
                                   "(io_uring buffer rings), not " +
                                       std::to_string(n));
            else
                t.recv_buffer_count = static_cast<std::uint32_t>(n);
        } else {
            unknown("natrix.io." + e.key, e);
        }
    }
}

void mapper::cpus(const value& v) {
    std::vector<int> list;
    std::string why;
    auto add = [&](const value& item) {
        if (item.is_integer()) {
            std::int64_t c = item.as_integer();
            if (c < 0 || c > max_cpu_id) {
                error(item.pos(), "'natrix.cpus': cpu " + std::to_string(c) +
                                      " is out of range (0-" + std::to_string(max_cpu_id) + ")");
                return false;
            }
            list.push_back(static_cast<int>(c));
            return true;
        }
        if (item.is_string()) {
            if (parse_cpu_list(item.as_string(), &list, &why)) return true;
            error(item.pos(), "'natrix.cpus': " + why);
            return false;
        }
        type_error("natrix.cpus", item, "an array of cpu numbers or a string like \"0-3,6\"");
        return false;
    };
    if (v.is_array()) {
        for (const value& item : v.as_array())
            if (!add(item)) return;
    } else if (!add(v)) {
        return;
    }
    std::vector<int> sorted = list;
    std::sort(sorted.begin(), sorted.end());
    auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    if (dup != sorted.end()) {
        error(v.pos(), "'natrix.cpus': cpu " + std::to_string(*dup) + " is listed twice");
        return;
    }
    o_.natrix.cpus = std::move(list);
}

} // namespace detail

using detail::lowered;
using detail::mapper;

bool config_sets_http_host(const value& root) {
    bool set = false;
    for (const map_entry& e : root.as_map()) {
        if (lowered(e.key) != "http") continue;
        std::string_view s = e.val.as_string(); // "" unless a string
        std::size_t colon = s.rfind(':');
        set = !s.empty() && (s[0] == '[' || (colon != std::string_view::npos && colon > 0));
    }
    return set;
}

std::string options_result::error_text() const {
    std::string out;
    for (const std::string& e : errors) {
        if (!out.empty()) out += '\n';
        out += e;
    }
    return out;
}

options_result options_from_tree(std::shared_ptr<const value> root, std::string config_file) {
    options_result r;
    if (!root) root = std::make_shared<const value>();
    mapper(r).run(*root);
    r.options.config_file = std::move(config_file);
    r.options.tree = std::move(root);
    return r;
}

std::vector<std::string> validate_options(const server_options& o) {
    std::vector<std::string> errors;
    if (o.max_payload > o.max_pending)
        errors.push_back("max_payload (" + std::to_string(o.max_payload) +
                         ") cannot be higher than max_pending (" + std::to_string(o.max_pending) +
                         ")");
    if (o.lame_duck_grace_period >= o.lame_duck_duration)
        errors.push_back("lame duck grace period (" + format_go_duration(o.lame_duck_grace_period) +
                         ") should be strictly lower than lame duck duration (" +
                         format_go_duration(o.lame_duck_duration) + ")");
    if (o.natrix.shards > 0 && !o.natrix.cpus.empty() && o.natrix.shards > o.natrix.cpus.size())
        errors.push_back("natrix.shards (" + std::to_string(o.natrix.shards) +
                         ") is more than the cpus listed in natrix.cpus (" +
                         std::to_string(o.natrix.cpus.size()) + ")");
    const security_options& sec = o.security;
    if ((!sec.user.empty() || !sec.password.empty()) && !sec.token.empty())
        errors.push_back("Cannot have a user/pass and token");
    const std::string& nau = sec.no_auth_user;
    if (!nau.empty()) {
        if (!sec.users_list)
            errors.push_back("no_auth_user: \"" + nau +
                             "\" present, but users/nkeys are not defined");
        else if (std::none_of(sec.users.begin(), sec.users.end(),
                              [&](const user_option& u) { return u.user == nau || u.nkey == nau; }))
            errors.push_back("no_auth_user: \"" + nau +
                             "\" not present as user or nkey in authorization block or account "
                             "configuration");
    }
    return errors;
}

namespace {

options_result finish(parse_result parsed, std::string config_file) {
    if (!parsed.ok()) {
        options_result r;
        r.errors.push_back(std::move(parsed.error));
        r.options.config_file = std::move(config_file);
        r.options.tree = std::make_shared<const value>();
        return r;
    }
    options_result r =
        options_from_tree(std::make_shared<const value>(std::move(parsed.root)), config_file);
    if (r.ok()) r.errors = validate_options(r.options);
    return r;
}

} // namespace

options_result load_config_file(const std::string& path) {
    return finish(parse_file(path), path);
}

options_result load_config_string(std::string_view text, std::string_view source_name) {
    return finish(parse_string(text, source_name), std::string(source_name));
}

} // namespace natrix::config
