// The `cluster {}` block, as nats-server 2.9.10's opts.go parseCluster reads
// it (plus 2.10's pool_size, accounts and compression, accepted so that newer
// configs load), and the URL formats its keys and the cluster flags share.
#include <algorithm>
#include <charconv>
#include <climits>

#include <natrix/config/cluster_options.hh>

#include "options_mapper.hh"

namespace natrix::config {

namespace {

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
    return is_alpha(c) || is_digit(c);
}
int hex_value(char c) {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' ||
                          s.front() == '\r' || s.front() == '\v' || s.front() == '\f'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' ||
                          s.back() == '\r' || s.back() == '\v' || s.back() == '\f'))
        s.remove_suffix(1);
    return s;
}

// Go's url.validUserinfo.
bool valid_userinfo(std::string_view s) {
    constexpr std::string_view extra = "-._:~!$&'()*+,;=%@";
    return std::all_of(s.begin(), s.end(), [&](char c) {
        return is_alnum(c) || extra.find(c) != std::string_view::npos;
    });
}

// %XX escapes, as Go's url.PathUnescape does for the userinfo.
bool percent_decode(std::string_view s, std::string* out, std::string* why) {
    out->clear();
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out->push_back(s[i]);
            continue;
        }
        const int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
        const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            *why = "invalid URL escape \"" + std::string(s.substr(i, 3)) + "\" in the user info";
            return false;
        }
        out->push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return true;
}

bool valid_host(std::string_view h, bool bracketed) {
    return std::all_of(h.begin(), h.end(), [&](char c) {
        return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
               (bracketed && (c == ':' || c == '%'));
    });
}

// scheme://[user[:password]@]host[:port][/]
struct url_parts {
    std::string scheme; // lowercased
    bool with_user = false, with_password = false;
    std::string user, password;
    std::string host; // without IPv6 brackets
    std::string_view port;
    bool with_port = false;
};

bool split_url(std::string_view s, url_parts* out, std::string* why) {
    const std::size_t sep = s.find("://");
    if (sep == std::string_view::npos || sep == 0 || !is_alpha(s[0]) ||
        !std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(sep),
                     [](char c) { return is_alnum(c) || c == '+' || c == '-' || c == '.'; })) {
        *why = "not a URL";
        return false;
    }
    out->scheme = detail::lowered(s.substr(0, sep));
    std::string_view rest = s.substr(sep + 3);
    const std::size_t end = rest.find_first_of("/?#");
    if (end != std::string_view::npos) {
        if (rest.substr(end) != "/") {
            *why = "unexpected path, query or fragment \"" + std::string(rest.substr(end)) + "\"";
            return false;
        }
        rest = rest.substr(0, end);
    }
    if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
        const std::string_view info = rest.substr(0, at);
        rest = rest.substr(at + 1);
        if (!valid_userinfo(info)) {
            *why = "invalid character in the user info";
            return false;
        }
        out->with_user = true;
        const std::size_t colon = info.find(':');
        if (!percent_decode(info.substr(0, colon), &out->user, why)) return false;
        if (colon != std::string_view::npos) {
            out->with_password = true;
            if (!percent_decode(info.substr(colon + 1), &out->password, why)) return false;
        }
    }
    std::string_view host = rest;
    if (!rest.empty() && rest[0] == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos) {
            *why = "missing ']' in the host";
            return false;
        }
        host = rest.substr(1, close - 1);
        const std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') {
                *why = "unexpected \"" + std::string(after) + "\" after the host";
                return false;
            }
            out->port = after.substr(1);
            out->with_port = true;
        }
        if (host.empty() || !valid_host(host, true)) {
            *why = "invalid IPv6 host \"" + std::string(host) + "\"";
            return false;
        }
    } else {
        const std::size_t colon = rest.rfind(':');
        if (colon != std::string_view::npos) {
            if (rest.find(':') != colon) {
                *why =
                    "too many colons in \"" + std::string(rest) + "\" (write IPv6 as [addr]:port)";
                return false;
            }
            host = rest.substr(0, colon);
            out->port = rest.substr(colon + 1);
            out->with_port = true;
        }
        if (!valid_host(host, false)) {
            *why = "invalid character in the host \"" + std::string(host) + "\"";
            return false;
        }
    }
    out->host = std::string(host);
    if (out->with_port && !std::all_of(out->port.begin(), out->port.end(), is_digit)) {
        *why = "invalid port \"" + std::string(out->port) + "\"";
        return false;
    }
    return true;
}

// Digits only (split_url checked), 0-65535; -1 when out of range or empty.
int port_number(std::string_view digits) {
    int n = 0;
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty() || r.ec != std::errc() || r.ptr != digits.data() + digits.size() ||
        n > 65535)
        return -1;
    return n;
}

constexpr std::string_view route_form = "nats-route://[user:password@]host:port";

} // namespace

bool parse_route_url(std::string_view text, cluster::route_url* out, std::string* why) {
    const std::string_view s = trim(text);
    if (s.empty()) {
        *why = "empty route URL (expected " + std::string(route_form) + ")";
        return false;
    }
    url_parts u;
    if (!split_url(s, &u, why)) {
        *why += " (expected " + std::string(route_form) + ")";
        return false;
    }
    if (u.scheme != "nats-route" && u.scheme != "nats") {
        *why = "unsupported scheme \"" + u.scheme + "\" (expected " + std::string(route_form) +
               " or nats://)";
        return false;
    }
    if (u.host.empty()) {
        *why = "missing host (expected " + std::string(route_form) + ")";
        return false;
    }
    if (!u.with_port || u.port.empty()) {
        *why = "missing port (expected " + std::string(route_form) + ")";
        return false;
    }
    const int port = port_number(u.port);
    if (port <= 0) {
        *why = "invalid port \"" + std::string(u.port) + "\" (1-65535)";
        return false;
    }
    out->user = std::move(u.user);
    out->password = std::move(u.password);
    out->host = std::move(u.host);
    out->port = port;
    out->text = std::string(s);
    return true;
}

bool parse_cluster_listen(std::string_view text, cluster_listen* out, std::string* why) {
    std::string s(text);
    // As overrideCluster: ":-1" is any free port.
    bool random = false;
    if (s.size() >= 3 && s.compare(s.size() - 3, 3, ":-1") == 0) {
        random = true;
        s.replace(s.size() - 2, 2, "0");
    }
    url_parts u;
    if (!split_url(s, &u, why)) {
        *why += " (expected a URL such as nats://0.0.0.0:6222)";
        return false;
    }
    if (!u.with_port || u.port.empty()) {
        *why = "missing port (expected a URL such as nats://0.0.0.0:6222)";
        return false;
    }
    const int port = port_number(u.port);
    if (port < 0) {
        *why = "invalid port \"" + std::string(u.port) + "\" (0-65535, or -1 for any free port)";
        return false;
    }
    if (u.with_user && !u.with_password) {
        *why = "expected cluster password to be set";
        return false;
    }
    out->host = u.host.empty() ? "0.0.0.0" : u.host;
    out->port = random ? -1 : port;
    out->with_user = u.with_user;
    out->user = std::move(u.user);
    out->password = std::move(u.password);
    return true;
}

bool check_advertise(std::string_view text, std::string* why) {
    std::string_view port;
    bool with_port = false;
    if (!text.empty() && text[0] == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) {
            *why = "missing ']' in address";
            return false;
        }
        const std::string_view after = text.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') {
                *why = "unexpected \"" + std::string(after) + "\" after the address";
                return false;
            }
            port = after.substr(1);
            with_port = true;
        }
    } else if (const std::size_t colon = text.rfind(':'); colon != std::string_view::npos) {
        if (text.find(':') != colon) {
            *why = "too many colons in address (write IPv6 as [addr]:port)";
            return false;
        }
        port = text.substr(colon + 1);
        with_port = true;
    }
    if (with_port) {
        port = trim(port);
        if (!port.empty() && port[0] == '+') port.remove_prefix(1);
        int n = 0;
        auto r = std::from_chars(port.data(), port.data() + port.size(), n);
        if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || n < -1 ||
            n > 65535) {
            *why = "invalid port \"" + std::string(port) + "\"";
            return false;
        }
    }
    return true;
}

std::string redact_url(std::string_view text) {
    const std::size_t sep = text.find("://");
    if (sep == std::string_view::npos) return std::string(text);
    const std::size_t start = sep + 3;
    const std::size_t end = std::min(text.find_first_of("/?#", start), text.size());
    const std::size_t at = text.substr(0, end).rfind('@');
    if (at == std::string_view::npos || at < start) return std::string(text);
    const std::size_t colon = text.substr(0, at).find(':', start);
    if (colon == std::string_view::npos) return std::string(text);
    return std::string(text.substr(0, colon + 1)) + "xxxxx" + std::string(text.substr(at));
}

namespace detail {

// listen, port, host/net: a cluster's or a gateway's listener.
bool mapper::listen_key(const std::string& key, const std::string& path, const value& x,
                        std::string* host, std::int64_t* port) {
    if (key == "listen") {
        std::string h;
        int p = 0;
        if (!get_host_port(path, x, &h, &p, true)) return true;
        *host = h.empty() ? "0.0.0.0" : h;
        *port = p;
    } else if (key == "port") {
        get_range(path, x, -1, 65535, port);
    } else if (key == "host" || key == "net") {
        std::string h;
        if (get_string(path, x, &h)) *host = h.empty() ? "0.0.0.0" : h;
    } else {
        return false;
    }
    return true;
}

void mapper::cluster_block(const map_entry& block) {
    const value& v = block.val;
    if (!v.is_map()) {
        type_error(block.key, v, "a map");
        return;
    }
    // A later cluster block replaces an earlier one as a whole, as in
    // nats-server (its parser keeps the last value of a key).
    cluster::cluster_config c;
    std::int64_t port = 0; // as written: -1 = any free port, 0 = no listener
    for (const map_entry& e : v.as_map()) {
        const std::string key = lowered(e.key);
        const std::string path = block.key + "." + e.key;
        const value& x = e.val;
        if (key == "tls") { // TLS first on routes, always mutual (nats-server forces it)
            tls_block(path, x, &c.tls);
            c.tls.verify = true;
            continue;
        }
        if (key == "authentication") { // not a nats-server key; never let it pass unread
            refuse("'" + path + "'", e.key_pos, exposure::section_auth);
            continue;
        }
        refuse_nested(path, x, false); // a tls block at any depth
        if (key == "name") {
            std::string name;
            if (!get_string(path, x, &name)) continue;
            // nats-server 2.10+ refuses these; a name travels in INFO and
            // must match between peers.
            if (name.find_first_of(" \t\r\n") != std::string::npos)
                error(x.pos(), "cluster name cannot contain spaces");
            else
                c.name = name;
        } else if (listen_key(key, path, x, &c.host, &port)) {
        } else if (key == "authorization") {
            cluster_authorization(path, e, &c);
        } else if (key == "routes") {
            cluster_routes(path, x, &c);
        } else if (key == "cluster_advertise" || key == "advertise") {
            std::string s, why;
            if (!get_string(path, x, &s)) continue;
            if (!s.empty() && !check_advertise(s, &why))
                error(x.pos(), "invalid '" + path + "' \"" + s + "\": " + why);
            else
                c.advertise = s;
        } else if (key == "no_advertise") {
            get_bool(path, x, &c.no_advertise);
        } else if (key == "connect_retries") {
            std::int64_t n = 0;
            // A negative count retries no more than 0 does in nats-server.
            if (get_range(path, x, INT32_MIN, INT32_MAX, &n))
                c.connect_retries = static_cast<int>(std::max<std::int64_t>(n, 0));
        } else if (key == "pool_size") {
            std::int64_t n = 0;
            if (!get_range(path, x, -1, INT32_MAX, &n)) continue;
            c.pool_size = static_cast<int>(n);
            if (n != -1)
                ignore(block.key, path, e.key_pos,
                       "'" + path +
                           "' has no effect: natrix runs one route per peer, as "
                           "pool_size: -1 (nats-server 2.10) or nats-server 2.9");
        } else if (key == "accounts") {
            if (!x.is_array() || !x.as_array().empty())
                ignore(block.key, path, e.key_pos,
                       "'" + path +
                           "' has no effect: natrix runs one route per peer, which "
                           "carries every account; ignored");
        } else if (key == "compression") {
            const bool off =
                (x.is_bool() && !x.as_bool()) || (x.is_string() && lowered(x.as_string()) == "off");
            if (!off)
                ignore(block.key, path, e.key_pos,
                       "'" + path + "' has no effect: natrix routes are not compressed; ignored");
        } else if (key == "permissions") {
            ignore(block.key, path, e.key_pos,
                   "'" + path +
                       "' is not supported by natrix yet: routes import and export "
                       "every subject; ignored");
        } else {
            unknown(path, e);
        }
    }
    c.enabled = port != 0;
    c.port = port == -1 ? 0 : static_cast<int>(port);
    if (!c.routes.empty() && !c.enabled)
        warn("cluster.routes", block.key_pos, // key: cli.cc drops it once --cluster enables
             "'" + block.key + ".routes' has no effect without a cluster port ('" + block.key +
                 ".listen' or '" + block.key + ".port'): no route is connected");
    o_.cluster = std::move(c);
}

// authorization { user, password, timeout }: one user; nats-server refuses
// users and token here.
void mapper::cluster_authorization(const std::string& path, const map_entry& e,
                                   cluster::cluster_config* c) {
    if (!e.val.is_map()) {
        type_error(path, e.val, "a map");
        return;
    }
    const map_entry* users = nullptr;
    const map_entry* token = nullptr;
    for (const map_entry& x : e.val.as_map()) {
        const std::string k = lowered(x.key);
        const std::string where = path + "." + x.key;
        if (k == "tls") continue; // refused by refuse_nested
        if (k == "user" || k == "username") {
            get_string(where, x.val, &c->user);
        } else if (k == "pass" || k == "password") {
            get_string(where, x.val, &c->password);
        } else if (k == "timeout") {
            auth_timeout(x.val, &c->auth_timeout);
        } else if (k == "users") {
            users = &x;
        } else if (k == "token") {
            token = &x;
        } else if (k == "default_permission" || k == "default_permissions" || k == "permissions") {
            ignore("cluster", where, x.key_pos,
                   "setting \"permissions\" within cluster authorization block is deprecated; "
                   "cluster permissions are not supported by natrix yet: routes import and "
                   "export every subject; ignored");
        } else {
            unknown(where, x);
        }
    }
    if (users)
        error(users->key_pos, "Cluster authorization does not allow multiple users");
    else if (token)
        error(token->key_pos, "Cluster authorization does not support tokens");
}

void mapper::cluster_routes(const std::string& path, const value& v, cluster::cluster_config* c) {
    if (!v.is_array()) {
        type_error(path, v, "an array of route URLs");
        return;
    }
    c->routes.clear();
    for (const value& item : v.as_array()) {
        if (!item.is_string()) {
            type_error(path, item, "an array of route URLs (strings)");
            continue;
        }
        cluster::route_url r;
        std::string why;
        const std::string& s = item.as_string();
        if (!parse_route_url(s, &r, &why)) {
            error(item.pos(), "error parsing route url [\"" + redact_url(trim(s)) + "\"]: " + why);
            continue;
        }
        if (std::any_of(c->routes.begin(), c->routes.end(),
                        [&](const cluster::route_url& o) { return o.text == r.text; })) {
            warn("cluster", item.pos(),
                 "Duplicate route entry detected: \"" + redact_url(r.text) + "\"; ignored");
            continue;
        }
        c->routes.push_back(std::move(r));
    }
}

} // namespace detail

} // namespace natrix::config
