// Gateways' control plane: listener, one outbound per remote cluster with
// retries, the handshake, implicit gateways and gossip (brief §2.1, §2.7).
// Blocking sockets with timeouts on short-lived workers, as for routes
// (decision 0013); nothing here runs on a shard's thread.
#include <algorithm>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <natrix/auth/authenticator.hh>
#include <natrix/broker/control_socket.hh>
#include <natrix/broker/gateway_manager.hh>
#include <natrix/broker/server_identity.hh>
#include <natrix/broker/shard.hh>
#include <natrix/config/cluster_options.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

namespace {

using namespace control;
using steady = std::chrono::steady_clock;
constexpr auto handshake_timeout = std::chrono::seconds(2);
constexpr auto first_dial = std::chrono::seconds(1); // gatewaysSolicitDelay: let the cluster form
constexpr auto retry = std::chrono::seconds(1);      // gatewayConnectDelay / ReconnectDelay

// The address other clusters dial when we listen on every interface:
// the first non-loopback IPv4 (nats-server's setGatewayInfoHostPort).
std::string public_host(const std::string& host) {
    if (!host.empty() && host != "0.0.0.0" && host != "::") return host;
    std::string out = "127.0.0.1";
    ifaddrs* ifs = nullptr;
    if (getifaddrs(&ifs) != 0) return out;
    for (ifaddrs* i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
        auto* a = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
        if ((ntohl(a->sin_addr.s_addr) >> 24) == 127) continue;
        char ip[INET_ADDRSTRLEN] = "";
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        out = ip;
        break;
    }
    freeifaddrs(ifs);
    return out;
}

bool parse_host_port(const std::string& hp, cluster::route_url* out) {
    std::string why;
    return config::parse_route_url("nats://" + hp, out, &why);
}

} // namespace

gateway_manager::gateway_manager(const broker_config& cfg, unsigned nshards, poster post)
    : cfg_(cfg)
    , gw_(cfg.gateway)
    , nshards_(nshards)
    , post_(std::move(post)) {
    links_per_shard_.assign(nshards_, 0);
}

gateway_manager::~gateway_manager() {
    stop();
}

bool gateway_manager::open(std::string* error) {
    const std::string host = gw_.host.empty() ? "0.0.0.0" : gw_.host;
    std::string why;
    if (gw_.tls.enabled) {
        if (!load_tls(gw_.tls, &why)) {
            *error = "gateway tls: " + why;
            return false;
        }
        for (const cluster::remote_gateway& r : gw_.gateways) {
            if (!r.tls.enabled) continue;
            auto ctx = tls::tls_context::load_client(r.tls, &why);
            if (!ctx) {
                *error = "gateway tls: gateway \"" + r.name + "\": " + why;
                return false;
            }
            tls_remote_[r.name] = std::move(ctx);
        }
    }
    if (!open_listener(host, gw_.port, "gateway", error)) return false;
    const int bound = port();
    own_url_ =
        gw_.advertise.empty() ? public_host(host) + ":" + std::to_string(bound) : gw_.advertise;
    if (own_url_.find(':') == std::string::npos) own_url_ += ":" + std::to_string(bound);
    std::lock_guard lock(mu_);
    cluster_urls_.push_back(own_url_);
    const auto now = steady::now();
    for (const cluster::remote_gateway& r : gw_.gateways) {
        if (r.name == gw_.name) continue; // our own cluster's URLs: never dialled
        remote& e = remotes_[r.name];
        e.urls = r.urls;
        e.configured = true;
        e.next = now + first_dial;
    }
    LOG_INF("Gateway name is %s", gw_.name.c_str());
    LOG_INF("Listening for gateways connections on %s:%d", host.c_str(), bound);
    return true;
}

void gateway_manager::start() {
    start_threads([this](int fd, std::string ip, int p) { greet_inbound(fd, std::move(ip), p); },
                  [this] { manager_loop(); });
}

void gateway_manager::stop() {
    stop_threads();
}

// One outbound per remote cluster: its URLs in random order, the first that
// answers (solicitGateway).
void gateway_manager::manager_loop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        const auto now = steady::now();
        for (auto& [name, r] : remotes_) {
            if (r.serial || r.dialling || now < r.next || r.urls.empty()) continue;
            r.dialling = true;
            std::vector<cluster::route_url> urls = r.urls;
            std::shuffle(urls.begin(), urls.end(), rng_);
            workers_.spawn([this, n = name, urls = std::move(urls)] { dial(n, urls); });
        }
        cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
}

void gateway_manager::dial(std::string name, std::vector<cluster::route_url> urls) {
    std::string why;
    for (const cluster::route_url& url : urls) {
        handshake h;
        h.fd = connect_to(url.host, url.port, &why);
        if (h.fd < 0) {
            LOG_DBG("Error connecting to gateway \"%s\" at %s: %s", name.c_str(),
                    config::redact_url(url.text).c_str(), why.c_str());
            continue;
        }
        h.ip = url.host;
        h.port = url.port;
        const auto own = tls_remote_.find(name);
        if (!secure(h, true, url.host, gw_.tls.timeout, &why,
                    own == tls_remote_.end() ? nullptr : own->second.get())) {
            LOG_ERR("Gateway \"%s\" at %s: TLS handshake error: %s", name.c_str(),
                    config::redact_url(url.text).c_str(), why.c_str());
            h.close();
            continue;
        }
        if (solicit(name, url, h, &why)) {
            std::unique_lock lock(mu_);
            auto it = remotes_.find(name);
            if (stopping_ || it == remotes_.end() || it->second.serial) {
                if (it != remotes_.end()) it->second.dialling = false;
                h.close();
                return;
            }
            remote& r = it->second;
            r.dialling = false;
            r.failures = 0;
            r.serial = next_serial_++;
            r.shard = pick_shard_locked();
            r.server_id = h.info.server_id;
            for (const std::string& u : h.info.gateway_urls) {
                cluster::route_url p;
                if (parse_host_port(u, &p) &&
                    std::none_of(r.urls.begin(), r.urls.end(), [&](const cluster::route_url& x) {
                        return x.host == p.host && x.port == p.port;
                    }))
                    r.urls.push_back(p);
            }
            LOG_INF("%s:%d - gid:%llu - Outbound gateway connection to \"%s\" (%s) registered",
                    h.ip.c_str(), h.port, static_cast<unsigned long long>(r.serial), name.c_str(),
                    h.info.server_id.c_str());
            const std::uint64_t serial = r.serial;
            const unsigned shard = r.shard;
            const std::string line = gossip_line(name, url_strings(r.urls));
            adopt(h, link_kind::gateway_out, name, serial, shard);
            lock.unlock();
            // The rest of this cluster makes sure it reaches that one too
            // (forwardNewGatewayToLocalCluster).
            if (routes_) routes_->send_to_all_routes(line);
            return;
        }
        LOG_DBG("Gateway \"%s\" at %s refused: %s", name.c_str(),
                config::redact_url(url.text).c_str(), why.c_str());
        h.close();
    }
    std::lock_guard lock(mu_);
    auto it = remotes_.find(name);
    if (it == remotes_.end()) return;
    remote& r = it->second;
    r.dialling = false;
    ++r.failures;
    const bool has_inbound = std::any_of(inbound_.begin(), inbound_.end(),
                                         [&](const auto& kv) { return kv.second.name == name; });
    if (!r.configured && r.failures > gw_.connect_retries && !has_inbound) {
        LOG_INF("Gateway \"%s\" dropped after %d attempts", name.c_str(), r.failures);
        remotes_.erase(it);
        return;
    }
    r.next = steady::now() + retry + std::chrono::milliseconds(rng_() % 100);
}

// The dialler's side: the remote's INFO first, then our CONNECT and INFO.
bool gateway_manager::solicit(const std::string& name, const cluster::route_url& url, handshake& h,
                              std::string* why) {
    set_timeouts(h.fd, handshake_timeout);
    std::string buf, line;
    std::string_view rest;
    for (;;) {
        if (!read_line(h, buf, line)) {
            *why = "no INFO from the gateway";
            return false;
        }
        const std::string_view op = op_of(line, &rest);
        if (iequal(op, "info")) break;
        if (iequal(op, "-err")) {
            *why = line;
            return false;
        }
    }
    std::string err;
    if (!protocol::parse_route_info(rest, h.info, &err)) {
        *why = err;
        return false;
    }
    if (h.info.gateway.empty()) {
        send_all(h, "-ERR 'Attempt to connect to gateway \"" + name + "\" using wrong port'\r\n");
        *why = "not a gateway port";
        return false;
    }
    if (h.info.gateway != name) {
        LOG_ERR("Failing connection to gateway \"%s\", remote gateway name is \"%s\"", name.c_str(),
                h.info.gateway.c_str());
        send_all(h, "-ERR 'Connection from \"" + gw_.name + "\" rejected, wanted to connect to \"" +
                        name + "\", this is \"" + h.info.gateway + "\"'\r\n");
        *why = "wrong gateway name";
        return false;
    }
    protocol::route_connect c;
    c.name = cfg_.server_id;
    c.gateway = gw_.name;
    c.user = url.user.empty() ? gw_.user : url.user;
    c.pass = url.user.empty() ? gw_.password : url.password;
    std::string info;
    {
        std::lock_guard lock(mu_);
        info = our_info_locked();
    }
    if (!send_all(h, protocol::write_gateway_connect(c) + info)) {
        *why = "write failed";
        return false;
    }
    if (h.ssl) drain_tls(h.ssl, buf);
    h.leftover = std::move(buf);
    set_timeouts(h.fd, std::chrono::nanoseconds(0));
    return true;
}

void gateway_manager::greet_inbound(int fd, std::string ip, int port) {
    handshake h;
    h.fd = fd;
    h.ip = std::move(ip);
    h.port = port;
    std::string why;
    if (!secure(h, false, {}, gw_.tls.timeout, &why) || !accept_handshake(h, &why)) {
        LOG_DBG("%s:%d - gateway handshake failed: %s", h.ip.c_str(), h.port, why.c_str());
        h.close();
        return;
    }
    std::unique_lock lock(mu_);
    if (stopping_) {
        h.close();
        return;
    }
    const std::uint64_t serial = next_serial_++;
    const unsigned shard = pick_shard_locked();
    inbound_[serial] = inbound{h.info.gateway, h.info.server_id, shard};
    LOG_INF("%s:%d - gid:%llu - Inbound gateway connection from \"%s\" (%s) registered",
            h.ip.c_str(), h.port, static_cast<unsigned long long>(serial), h.info.gateway.c_str(),
            h.info.server_id.c_str());
    const std::string remote_name = h.info.gateway;
    std::vector<std::string> urls = h.info.gateway_urls;
    if (urls.empty() && !h.info.gateway_url.empty()) urls.push_back(h.info.gateway_url);
    adopt(h, link_kind::gateway_in, remote_name, serial, shard);
    // An outbound back to that cluster (processImplicitGateway), and what we
    // know of the others (gossipGatewaysToInboundGateway).
    implicit_locked(remote_name, urls);
    for (const auto& [name, r] : remotes_) {
        if (name == remote_name || r.urls.empty()) continue;
        post_(shard, [serial, line = gossip_line(name, url_strings(r.urls))](broker::shard& s) {
            s.send_to_route(serial, line, true);
        });
    }
}

// The acceptor's side: our INFO, then CONNECT, then the dialler's INFO.
bool gateway_manager::accept_handshake(handshake& h, std::string* why) {
    set_timeouts(h.fd,
                 std::max(gw_.auth_timeout, std::chrono::nanoseconds(std::chrono::seconds(1))));
    std::string info;
    {
        std::lock_guard lock(mu_);
        info = our_info_locked();
    }
    if (!send_all(h, info)) {
        *why = "write failed";
        return false;
    }
    const auto refuse = [&](std::string text) {
        send_all(h, "-ERR '" + text + "'\r\n");
        *why = std::move(text);
        return false;
    };
    std::string buf, line;
    std::string_view rest;
    if (!read_line(h, buf, line)) {
        *why = "no CONNECT";
        return false;
    }
    if (!iequal(op_of(line, &rest), "connect")) return refuse("Authorization Violation");
    protocol::route_connect c;
    std::string err;
    if (!protocol::parse_route_connect(rest, c, &err)) return refuse("Authorization Violation");
    if (c.gateway.empty()) return refuse("attempted to connect to gateway port");
    if (!gw_.user.empty() && (c.user != gw_.user || !auth::secret_matches(gw_.password, c.pass)))
        return refuse("Authorization Violation");
    {
        std::lock_guard lock(mu_);
        const auto it = remotes_.find(c.gateway);
        if (gw_.reject_unknown && (it == remotes_.end() || !it->second.configured)) {
            LOG_ERR("Rejecting connection from gateway \"%s\"", c.gateway.c_str());
            return refuse("Connection to gateway \"" + gw_.name + "\" rejected");
        }
    }
    for (;;) {
        if (!read_line(h, buf, line)) {
            *why = "no INFO after CONNECT";
            return false;
        }
        const std::string_view op = op_of(line, &rest);
        if (iequal(op, "info")) break;
        if (iequal(op, "ping")) send_all(h, "PONG\r\n");
    }
    if (!protocol::parse_route_info(rest, h.info, &err)) {
        *why = err;
        return false;
    }
    if (h.info.gateway.empty()) h.info.gateway = c.gateway;
    if (h.info.server_id.empty()) h.info.server_id = c.name;
    if (h.ssl) drain_tls(h.ssl, buf);
    h.leftover = std::move(buf);
    set_timeouts(h.fd, std::chrono::nanoseconds(0));
    return true;
}

void gateway_manager::adopt(handshake& h, link_kind kind, const std::string& name,
                            std::uint64_t serial, unsigned shard) {
    ++links_per_shard_[shard];
    auto link = std::make_shared<route_link>();
    link->kind = kind;
    link->serial = serial;
    link->solicited = kind == link_kind::gateway_out;
    link->gateway = name;
    link->peer = h.info;
    post_(shard, [fd = h.fd, ssl = h.ssl, link, leftover = std::move(h.leftover), ip = h.ip,
                  port = h.port](broker::shard& s) mutable {
        s.adopt_route(fd, std::make_unique<route_link>(std::move(*link)), leftover, ip, port, ssl);
    });
}

// Outbound gateways need an interest id, and shards past router::max_gateways
// have none: links go to the shards that can hold them, fewest first.
unsigned gateway_manager::pick_shard_locked() {
    const unsigned usable = std::min<unsigned>(nshards_, router::max_gateways);
    unsigned target = 0;
    for (unsigned i = 1; i < usable; ++i)
        if (links_per_shard_[i] < links_per_shard_[target]) target = i;
    return target;
}

void gateway_manager::implicit_locked(const std::string& name,
                                      const std::vector<std::string>& urls) {
    if (name.empty() || name == gw_.name) return;
    auto it = remotes_.find(name);
    if (it == remotes_.end()) {
        if (gw_.reject_unknown) return;
        it = remotes_.emplace(name, remote{}).first;
        it->second.next = steady::now();
    }
    for (const std::string& u : urls) {
        cluster::route_url p;
        if (!parse_host_port(u, &p)) continue;
        auto& list = it->second.urls;
        if (std::none_of(list.begin(), list.end(), [&](const cluster::route_url& x) {
                return x.host == p.host && x.port == p.port;
            }))
            list.push_back(p);
    }
    if (it->second.urls.empty() && !it->second.configured) remotes_.erase(it);
    cv_.notify_all();
}

void gateway_manager::route_info(std::uint64_t serial, protocol::route_info info) {
    std::string forward;
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        const auto out = std::find_if(remotes_.begin(), remotes_.end(),
                                      [&](const auto& kv) { return kv.second.serial == serial; });
        if (out == remotes_.end()) return; // inbound links have nothing to say here
        if (info.gateway_cmd == 1 && info.gateway != out->first) {
            implicit_locked(info.gateway, info.gateway_urls); // another cluster, gossiped
            forward = gossip_line(info.gateway, info.gateway_urls);
        } else if (info.gateway == out->first) {
            implicit_locked(info.gateway, info.gateway_urls); // its cluster's new URLs
            forward = gossip_line(out->first, url_strings(out->second.urls));
        }
    }
    if (routes_ && !forward.empty()) routes_->send_to_all_routes(forward);
}

void gateway_manager::route_closed(std::uint64_t serial, std::string reason) {
    std::lock_guard lock(mu_);
    if (auto in = inbound_.find(serial); in != inbound_.end()) {
        LOG_INF("gid:%llu - Inbound gateway connection from \"%s\" closed: %s",
                static_cast<unsigned long long>(serial), in->second.name.c_str(), reason.c_str());
        --links_per_shard_[in->second.shard];
        inbound_.erase(in);
        return;
    }
    for (auto& [name, r] : remotes_) {
        if (r.serial != serial) continue;
        LOG_INF("gid:%llu - Outbound gateway connection to \"%s\" closed: %s",
                static_cast<unsigned long long>(serial), name.c_str(), reason.c_str());
        --links_per_shard_[r.shard];
        r.serial = 0;
        r.next = steady::now() + retry + std::chrono::milliseconds(rng_() % 100);
        cv_.notify_all();
        return;
    }
}

void gateway_manager::cluster_gateway_url(std::string url) {
    std::vector<std::pair<std::uint64_t, unsigned>> targets;
    std::string info;
    {
        std::lock_guard lock(mu_);
        if (url.empty() ||
            std::find(cluster_urls_.begin(), cluster_urls_.end(), url) != cluster_urls_.end())
            return;
        cluster_urls_.push_back(url);
        info = our_info_locked();
        for (const auto& [serial, in] : inbound_) targets.emplace_back(serial, in.shard);
    }
    // sendAsyncGatewayInfo: inbound gateways learn this cluster's new URL.
    for (auto [serial, at] : targets)
        post_(at, [serial, info](shard& s) { s.send_to_route(serial, info, true); });
}

void gateway_manager::remote_gossip(protocol::route_info info) {
    if (info.gateway_cmd != 1) return;
    std::lock_guard lock(mu_);
    implicit_locked(info.gateway, info.gateway_urls);
}

std::vector<std::string> gateway_manager::route_greeting() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [name, r] : remotes_)
        if (r.serial && !r.urls.empty()) out.push_back(gossip_line(name, url_strings(r.urls)));
    return out;
}

std::string gateway_manager::our_info_locked() const {
    protocol::route_info i;
    i.server_id = cfg_.server_id;
    i.server_name = cfg_.server_name;
    i.version = server_version;
    i.go = server_go_field;
    const std::size_t colon = own_url_.rfind(':');
    i.host = own_url_.substr(0, colon);
    i.port = std::atoi(own_url_.c_str() + colon + 1);
    i.auth_required = !gw_.user.empty();
    i.tls_required = tls_enabled();
    i.max_payload = cfg_.max_payload;
    i.headers = true;
    i.gateway = gw_.name;
    i.gateway_url = own_url_;
    i.gateway_urls = cluster_urls_;
    return protocol::write_gateway_info(i);
}

std::string gateway_manager::gossip_line(const std::string& name,
                                         const std::vector<std::string>& urls) const {
    protocol::route_info g;
    g.server_id = "GW" + cfg_.server_id; // never mistaken for a route to dial
    g.server_name = cfg_.server_name;
    g.gateway = name;
    g.gateway_urls = urls;
    g.gateway_cmd = 1;
    return protocol::write_gateway_info(g);
}

std::vector<std::string> gateway_manager::url_strings(const std::vector<cluster::route_url>& urls) {
    std::vector<std::string> out;
    for (const cluster::route_url& u : urls)
        out.push_back((u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) + ":" +
                      std::to_string(u.port));
    return out;
}

std::vector<gateway_view> gateway_manager::gateways() const {
    std::lock_guard lock(mu_);
    std::vector<gateway_view> out;
    for (const auto& [name, r] : remotes_)
        if (r.serial) out.push_back({name, true, r.configured, r.serial, r.server_id});
    for (const auto& [serial, in] : inbound_) {
        const auto it = remotes_.find(in.name);
        out.push_back(
            {in.name, false, it != remotes_.end() && it->second.configured, serial, in.server_id});
    }
    return out;
}

} // namespace natrix::broker
