// The `gateway {}` block, as nats-server 2.9.10's opts.go parseGateway and
// parseGateways read it. A tls block (the block's or a remote's) makes the
// gateway connections TLS first and mutual.
#include <algorithm>

#include <natrix/config/cluster_options.hh>
#include <natrix/config/gateway_options.hh>

#include "options_mapper.hh"

namespace natrix::config {

bool parse_gateway_url(std::string_view text, cluster::route_url* out, std::string* why) {
    std::string_view s = text;
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    if (s.size() >= 6 && (s.substr(0, 6) == "tls://" || s.substr(0, 6) == "TLS://")) {
        *why = "write nats:// and put a tls block in the gateway (or its remote entry): natrix "
               "does not "
               "take TLS from the URL scheme";
        return false;
    }
    return parse_route_url(text, out, why);
}

namespace detail {

void mapper::gateway_block(const map_entry& block) {
    const value& v = block.val;
    if (!v.is_map()) {
        type_error(block.key, v, "a map");
        return;
    }
    cluster::gateway_config g;
    std::int64_t port = 0;
    for (const map_entry& e : v.as_map()) {
        const std::string key = lowered(e.key);
        const std::string path = block.key + "." + e.key;
        const value& x = e.val;
        if (key == "tls") { // TLS first on gateways, always mutual (nats-server forces it)
            tls_block(path, x, &g.tls);
            g.tls.verify = true;
            continue;
        }
        if (key == "authentication") {
            refuse("'" + path + "'", e.key_pos, exposure::section_auth);
            continue;
        }
        if (key != "gateways") refuse_nested(path, x, false); // remotes read their own tls
        if (key == "name") {
            std::string name;
            if (!get_string(path, x, &name)) continue;
            if (name.empty() || name.find_first_of(" \t\r\n") != std::string::npos)
                error(x.pos(), "gateway name cannot be empty or contain spaces");
            else
                g.name = name;
        } else if (listen_key(key, path, x, &g.host, &port)) {
        } else if (key == "authorization") {
            cluster::cluster_config c; // the same one-user block as cluster's
            cluster_authorization(path, e, &c);
            g.user = c.user;
            g.password = c.password;
            g.auth_timeout = c.auth_timeout;
        } else if (key == "gateways") {
            gateway_remotes(path, x, &g);
        } else if (key == "advertise" || key == "gateway_advertise") {
            std::string s, why;
            if (!get_string(path, x, &s)) continue;
            if (!s.empty() && !check_advertise(s, &why))
                error(x.pos(), "invalid '" + path + "' \"" + s + "\": " + why);
            else
                g.advertise = s;
        } else if (key == "connect_retries") {
            std::int64_t n = 0;
            if (get_range(path, x, INT32_MIN, INT32_MAX, &n))
                g.connect_retries = static_cast<int>(std::max<std::int64_t>(n, 0));
        } else if (key == "reject_unknown" || key == "reject_unknown_cluster") {
            get_bool(path, x, &g.reject_unknown);
        } else {
            unknown(path, e);
        }
    }
    if (port != 0 && g.name.empty()) {
        error(block.key_pos,
              "'" + block.key + "' has a port but no name (gateway.name is required)");
        return;
    }
    g.enabled = port != 0;
    g.port = port == -1 ? 0 : static_cast<int>(port);
    if (!g.gateways.empty() && !g.enabled)
        warn(block.key, block.key_pos,
             "'" + block.key + ".gateways' has no effect without a gateway port ('" + block.key +
                 ".listen' or '" + block.key + ".port'): no gateway is connected");
    for (const cluster::remote_gateway& r : g.gateways)
        if (r.name == g.name)
            warn(block.key, block.key_pos,
                 "'" + block.key + ".gateways' lists this cluster's own name \"" + r.name +
                     "\": its URLs are this cluster's; it is never dialled");
    o_.gateway = std::move(g);
}

// gateways: [{name: B, url: "nats://h:p"}, {name: C, urls: [...]}]
void mapper::gateway_remotes(const std::string& path, const value& v, cluster::gateway_config* g) {
    if (!v.is_array()) {
        type_error(path, v, "an array of {name, url|urls} maps");
        return;
    }
    for (const value& item : v.as_array()) {
        if (!item.is_map()) {
            type_error(path, item, "a {name, url|urls} map");
            continue;
        }
        cluster::remote_gateway r;
        const auto add_url = [&](const value& u) {
            if (!u.is_string()) {
                type_error(path, u, "a gateway URL (string)");
                return;
            }
            cluster::route_url url;
            std::string why;
            if (!parse_gateway_url(u.as_string(), &url, &why)) {
                error(u.pos(),
                      "error parsing gateway url [\"" + redact_url(u.as_string()) + "\"]: " + why);
                return;
            }
            r.urls.push_back(std::move(url));
        };
        for (const map_entry& e : item.as_map()) {
            const std::string k = lowered(e.key);
            const std::string where = path + "." + e.key;
            if (k == "tls") {
                tls_block(where, e.val, &r.tls);
                r.tls.verify = true;
                continue;
            }
            if (k == "name") {
                get_string(where, e.val, &r.name);
            } else if (k == "url") {
                add_url(e.val);
            } else if (k == "urls") {
                if (!e.val.is_array()) {
                    type_error(where, e.val, "an array of gateway URLs");
                    continue;
                }
                for (const value& u : e.val.as_array()) add_url(u);
            } else {
                unknown(where, e);
            }
        }
        if (r.name.empty()) {
            error(item.pos(), "'" + path + "' entry has no name");
            continue;
        }
        if (std::any_of(g->gateways.begin(), g->gateways.end(),
                        [&](const cluster::remote_gateway& o) { return o.name == r.name; })) {
            error(item.pos(), "'" + path + "' lists gateway \"" + r.name + "\" twice");
            continue;
        }
        g->gateways.push_back(std::move(r));
    }
}

} // namespace detail

} // namespace natrix::config
