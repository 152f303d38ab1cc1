// Routes' control plane: listener, dials and retries, the handshake, one
// route per peer, gossip, connect_urls. Blocking sockets with timeouts on
// short-lived worker threads: a handshake is a few lines, and none of this
// touches a shard's thread (docs/decisions/0013-routes.md).
#include <algorithm>
#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <natrix/auth/authenticator.hh>
#include <natrix/broker/cluster_manager.hh>
#include <natrix/broker/control_socket.hh>
#include <natrix/broker/server_identity.hh>
#include <natrix/broker/shard.hh>
#include <natrix/config/cluster_options.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

namespace {

using namespace control;
using steady = std::chrono::steady_clock;
constexpr auto handshake_timeout = std::chrono::seconds(2);
constexpr auto explicit_retry = std::chrono::seconds(1); // DEFAULT_ROUTE_CONNECT

std::string random_name() {
    static constexpr char alphabet[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::random_device rd;
    std::string s;
    for (int i = 0; i < 22; ++i) s.push_back(alphabet[rd() % 62]);
    return s;
}

} // namespace

cluster_manager::cluster_manager(const broker_config& cfg, unsigned nshards, int client_port,
                                 poster post)
    : cfg_(cfg)
    , cl_(cfg.cluster)
    , nshards_(nshards)
    , client_port_(client_port)
    , post_(std::move(post)) {
    routes_per_shard_.assign(nshards_, 0);
    name_ = cl_.name;
    if (name_.empty()) {
        name_ = random_name();
        dynamic_name_ = true;
    }
}

cluster_manager::~cluster_manager() {
    stop();
}

bool cluster_manager::open(std::string* error) {
    const std::string host = cl_.host.empty() ? "0.0.0.0" : cl_.host;
    std::string why;
    if (cl_.tls.enabled && !load_tls(cl_.tls, &why)) {
        *error = "cluster tls: " + why;
        return false;
    }
    if (!open_listener(host, cl_.port, "cluster", error)) return false;
    {
        std::lock_guard lock(mu_);
        for (const auto& u : cl_.routes)
            configured_.push_back(configured_route{u, {}, false, false, {}});
    }
    LOG_INF("Cluster name is %s%s", name_.c_str(), dynamic_name_ ? " (dynamic)" : "");
    LOG_INF("Listening for route connections on %s:%d", host.c_str(), port());
    return true;
}

void cluster_manager::start() {
    start_threads([this](int fd, std::string ip, int p) { greet_inbound(fd, std::move(ip), p); },
                  [this] { manager_loop(); });
}

void cluster_manager::stop() {
    stop_threads();
}

void cluster_manager::spawn(std::function<void()> fn) {
    workers_.spawn(std::move(fn));
}

// Dials configured routes that are not connected, for ever, a second apart.
void cluster_manager::manager_loop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        const auto now = steady::now();
        for (std::size_t i = 0; i < configured_.size(); ++i) {
            configured_route& c = configured_[i];
            if (c.self || c.dialling || now < c.next) continue;
            if (!c.server_id.empty() && peers_.count(c.server_id)) continue;
            c.dialling = true;
            cluster::route_url u = c.url;
            std::string text = u.text;
            spawn([this, text, u] { dial(text, u, false, 0); });
        }
        cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
}

void cluster_manager::dial(std::string url, cluster::route_url target, bool implicit,
                           int attempts_left) {
    std::string why;
    handshake h;
    h.solicited = true;
    h.url = url;
    h.creds = target;
    if (implicit && target.user.empty()) {
        h.creds.user = cl_.user; // implicit routes use our own cluster credentials
        h.creds.password = cl_.password;
    }
    h.fd = connect_to(target.host, target.port, &why);
    if (h.fd >= 0) {
        h.remote_ip = target.host;
        h.remote_port = target.port;
        const bool secured = secure(h, true, target.host, cl_.tls.timeout, &why);
        if (secured && exchange(h, &why)) {
            register_route(std::move(h));
            return;
        }
        if (!secured)
            LOG_ERR("Route %s: TLS handshake error: %s", config::redact_url(url).c_str(),
                    why.c_str());
        h.close();
    }
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (implicit) {
        LOG_DBG("Error trying to connect to route (implicit) %s: %s",
                config::redact_url(url).c_str(), why.c_str());
        std::erase(implicit_dialling_, url);
        if (attempts_left > 0 && why != "self") {
            implicit_dialling_.push_back(url);
            spawn([this, url, target, attempts_left] {
                std::this_thread::sleep_for(explicit_retry);
                dial(url, target, true, attempts_left - 1);
            });
        }
        return;
    }
    for (configured_route& c : configured_)
        if (c.url.text == url) {
            c.dialling = false;
            if (why == "self") {
                c.self = true;
                continue;
            }
            LOG_DBG("Error trying to connect to route %s: %s", config::redact_url(url).c_str(),
                    why.c_str());
            c.next = steady::now() + explicit_retry + std::chrono::milliseconds(rng_() % 100);
        }
}

void cluster_manager::greet_inbound(int fd, std::string ip, int port) {
    handshake h;
    h.fd = fd;
    h.solicited = false;
    h.remote_ip = std::move(ip);
    h.remote_port = port;
    std::string why;
    if (!secure(h, false, {}, cl_.tls.timeout, &why) || !exchange(h, &why)) {
        LOG_DBG("%s:%d - route handshake failed: %s", h.remote_ip.c_str(), h.remote_port,
                why.c_str());
        h.close();
        return;
    }
    register_route(std::move(h));
}

// The INFO/CONNECT exchange of either side (brief §1.1). The acceptor sends
// INFO at once and expects CONNECT then INFO; the dialler sends CONNECT and
// its INFO and reads the acceptor's INFO.
bool cluster_manager::exchange(handshake& h, std::string* why) {
    set_timeouts(h.fd, h.solicited ? handshake_timeout
                                   : std::max(cl_.auth_timeout,
                                              std::chrono::nanoseconds(std::chrono::seconds(1))));
    std::string buf, line;
    std::string_view rest;
    const auto refuse = [&](std::string text) {
        send_all(h, "-ERR '" + text + "'\r\n");
        *why = std::move(text);
        return false;
    };
    if (h.solicited) {
        protocol::route_connect c;
        std::string info;
        {
            std::lock_guard lock(mu_);
            c.cluster = name_;
            c.cluster_dynamic = dynamic_name_;
            info = our_info();
        }
        c.name = cfg_.server_id;
        c.user = h.creds.user;
        c.pass = h.creds.password;
        if (!send_all(h, protocol::write_route_connect(c) + info)) {
            *why = "write failed";
            return false;
        }
        for (;;) {
            if (!read_line(h, buf, line)) {
                *why = "no INFO from the peer";
                return false;
            }
            const std::string_view op = op_of(line, &rest);
            if (iequal(op, "info")) break;
            if (iequal(op, "-err")) {
                *why = line;
                LOG_ERR("Route %s refused us: %s", config::redact_url(h.url).c_str(), line.c_str());
                return false;
            }
            if (iequal(op, "ping")) send_all(h, "PONG\r\n");
        }
        std::string err;
        if (!protocol::parse_route_info(rest, h.info, &err)) {
            *why = err;
            return false;
        }
        if (h.info.server_id == cfg_.server_id) {
            *why = "self";
            return false;
        }
        std::lock_guard lock(mu_);
        if (h.info.cluster != name_ && dynamic_name_ &&
            (!h.info.cluster_dynamic || h.info.cluster > name_)) {
            LOG_INF("Cluster name updated to %s", h.info.cluster.c_str());
            name_ = h.info.cluster;
            dynamic_name_ = h.info.cluster_dynamic;
        }
    } else {
        std::string info;
        {
            std::lock_guard lock(mu_);
            info = our_info();
        }
        if (!send_all(h, info)) {
            *why = "write failed";
            return false;
        }
        if (!read_line(h, buf, line)) {
            *why = "no CONNECT";
            return false;
        }
        const std::string_view op = op_of(line, &rest);
        if (!iequal(op, "connect")) return refuse("Authorization Violation");
        protocol::route_connect c;
        std::string err;
        if (!protocol::parse_route_connect(rest, c, &err)) return refuse("Authorization Violation");
        if (!c.lang.empty()) return refuse("attempted to connect to route port");
        if (!c.gateway.empty()) {
            *why = "a gateway dialled the route port";
            return false;
        }
        if (!cl_.user.empty() &&
            (c.user != cl_.user || !auth::secret_matches(cl_.password, c.pass)))
            return refuse("Authorization Violation");
        std::unique_lock name_lock(mu_);
        if (c.cluster != name_) {
            // A dynamic name gives way to a static one, or to a greater
            // dynamic one; two static names that differ never join.
            if (dynamic_name_ && (!c.cluster_dynamic || c.cluster > name_)) {
                LOG_INF("Cluster name updated to %s", c.cluster.c_str());
                name_ = c.cluster;
                dynamic_name_ = c.cluster_dynamic;
            } else if (!c.cluster_dynamic) {
                return refuse("Rejecting connection, cluster name \"" + c.cluster +
                              "\" does not match \"" + name_ + "\"");
            }
        }
        name_lock.unlock();
        for (;;) {
            if (!read_line(h, buf, line)) {
                *why = "no INFO after CONNECT";
                return false;
            }
            const std::string_view iop = op_of(line, &rest);
            if (iequal(iop, "info")) break;
            if (iequal(iop, "ping")) send_all(h, "PONG\r\n");
        }
        if (!protocol::parse_route_info(rest, h.info, &err)) {
            *why = err;
            return false;
        }
        if (h.info.server_id == cfg_.server_id) {
            *why = "self";
            return false;
        }
        const std::string own_name = cfg_.server_name.empty() ? cfg_.server_id : cfg_.server_name;
        if (h.info.server_name == own_name) {
            LOG_ERR("Remote server has a duplicate name: %s", own_name.c_str());
            *why = "duplicate server name";
            return false;
        }
        // A 2.10 peer's pinned-account dial (route_account) is, to a 2.9
        // peer, one more connection from a server it knows: register_route
        // resolves it as a duplicate, as 2.9 does (brief §1.14).
    }
    if (h.ssl) drain_tls(h.ssl, buf);
    h.leftover = std::move(buf);
    set_timeouts(h.fd, std::chrono::nanoseconds(0));
    return true;
}

void cluster_manager::register_route(handshake h) {
    std::unique_lock lock(mu_);
    const std::string id = h.info.server_id;
    if (stopping_) {
        h.close();
        return;
    }
    if (h.solicited)
        for (configured_route& c : configured_)
            if (c.url.text == h.url) {
                c.server_id = id;
                c.dialling = false;
            }
    std::erase(implicit_dialling_, h.url);
    if (auto it = peers_.find(id); it != peers_.end()) {
        // One route per peer. Both sides keep the connection dialled by the
        // smaller server id, so that crossing dials never close both.
        const std::string& old_dialler = it->second.solicited ? cfg_.server_id : id;
        const std::string& new_dialler = h.solicited ? cfg_.server_id : id;
        if (old_dialler == new_dialler || old_dialler < new_dialler) {
            LOG_DBG("Route to %s is a duplicate: closed", id.c_str());
            h.close();
            return;
        }
        const peer old = it->second;
        LOG_INF("%s:%d - rid:%llu - Route connection closed: Duplicate Route",
                old.remote_ip.c_str(), old.remote_port,
                static_cast<unsigned long long>(old.serial));
        peers_.erase(it);
        --routes_per_shard_[old.shard];
        post_(old.shard,
              [serial = old.serial](shard& s) { s.close_route(serial, "Duplicate Route"); });
    }
    // The shard with the fewest routes takes it.
    unsigned target = 0;
    for (unsigned i = 1; i < nshards_; ++i)
        if (routes_per_shard_[i] < routes_per_shard_[target]) target = i;
    peer p;
    p.serial = next_serial_++;
    p.shard = target;
    p.solicited = h.solicited;
    p.url = h.url;
    p.remote_ip = h.remote_ip;
    p.remote_port = h.remote_port;
    p.info = h.info;
    ++routes_per_shard_[target];
    LOG_INF("%s:%d - rid:%llu - Route connection created (%s, %s)", h.remote_ip.c_str(),
            h.remote_port, static_cast<unsigned long long>(p.serial), id.c_str(),
            h.solicited ? "solicited" : "accepted");
    auto link = std::make_shared<route_link>();
    link->serial = p.serial;
    link->solicited = h.solicited;
    link->url = h.url;
    link->peer = h.info;
    post_(target, [fd = h.fd, ssl = h.ssl, link, leftover = std::move(h.leftover), ip = h.remote_ip,
                   port = h.remote_port](shard& s) mutable {
        s.adopt_route(fd, std::make_unique<route_link>(std::move(*link)), leftover, ip, port, ssl);
    });
    // Gossip: the others learn of the new peer and dial it (implicit routes).
    if (!peers_.empty()) {
        protocol::route_info g = h.info;
        if (g.ip.empty()) {
            const bool v6 = h.remote_ip.find(':') != std::string::npos;
            g.ip = "nats-route://" + (v6 ? "[" + h.remote_ip + "]" : h.remote_ip) + ":" +
                   std::to_string(g.port) + "/";
        }
        const std::string line = protocol::write_route_info(g);
        for (const auto& [oid, op] : peers_)
            post_(op.shard,
                  [serial = op.serial, line](shard& s) { s.send_to_route(serial, line); });
    }
    const std::uint64_t serial = p.serial;
    peers_.emplace(id, std::move(p));
    publish_client_urls_locked();
    lock.unlock();
    if (gateways_) {
        // Its gateway URL joins this cluster's; it learns the remote
        // clusters we reach (nats-server's sendGatewayConfigsToRoute).
        gateways_->cluster_gateway_url(h.info.gateway_url);
        for (std::string& line : gateways_->route_greeting())
            post_(target,
                  [serial, line = std::move(line)](shard& s) { s.send_to_route(serial, line); });
    }
}

void cluster_manager::send_to_all_routes(const std::string& line) {
    std::lock_guard lock(mu_);
    for (const auto& [id, p] : peers_)
        post_(p.shard, [serial = p.serial, line](shard& s) { s.send_to_route(serial, line); });
}

void cluster_manager::route_info(std::uint64_t serial, protocol::route_info info) {
    if (info.gateway_cmd != 0 || !info.gateway.empty()) {
        // A remote cluster a peer reaches (forwardNewGatewayToLocalCluster);
        // without gateways it is ignored, as nats-server does.
        if (gateways_) gateways_->remote_gossip(std::move(info));
        return;
    }
    if (gateways_ && !info.gateway_url.empty()) gateways_->cluster_gateway_url(info.gateway_url);
    std::lock_guard lock(mu_);
    if (stopping_) return;
    auto from = std::find_if(peers_.begin(), peers_.end(),
                             [&](const auto& kv) { return kv.second.serial == serial; });
    if (from == peers_.end()) return;
    if (info.server_id == from->first) {
        // The peer's own news: its client URLs or its lame duck.
        from->second.info.connect_urls = info.connect_urls;
        from->second.info.ldm = info.ldm;
        publish_client_urls_locked();
        return;
    }
    // Gossip of another server (brief §1.8): dial it unless it is us, known,
    // configured or already being dialled.
    if (info.server_id == cfg_.server_id || peers_.count(info.server_id) || info.ip.empty()) return;
    cluster::route_url u;
    std::string why;
    if (!config::parse_route_url(info.ip, &u, &why)) return;
    if (is_configured_locked(u.host, u.port)) return;
    if (std::find(implicit_dialling_.begin(), implicit_dialling_.end(), u.text) !=
        implicit_dialling_.end())
        return;
    implicit_dialling_.push_back(u.text);
    const int retries = cl_.connect_retries;
    spawn([this, u, retries] { dial(u.text, u, true, retries); });
}

bool cluster_manager::is_configured_locked(const std::string& host, int port) const {
    for (const configured_route& c : configured_)
        if (c.url.port == port && c.url.host == host && !c.self) return true;
    return false;
}

void cluster_manager::route_closed(std::uint64_t serial, std::string reason) {
    std::lock_guard lock(mu_);
    auto it = std::find_if(peers_.begin(), peers_.end(),
                           [&](const auto& kv) { return kv.second.serial == serial; });
    if (it == peers_.end()) return; // superseded by a duplicate's winner
    const peer p = it->second;
    LOG_INF("%s:%d - rid:%llu - Route connection closed: %s", p.remote_ip.c_str(), p.remote_port,
            static_cast<unsigned long long>(serial), reason.c_str());
    peers_.erase(it);
    --routes_per_shard_[p.shard];
    publish_client_urls_locked();
    if (stopping_) return;
    // Configured routes are redialled by manager_loop after 1 s plus 0-100 ms
    // (nats-server's reConnectToRoute), so two nodes that keep refusing each
    // other cannot spin. An implicit route we dialled is tried again
    // connect_retries + 1 times.
    bool configured = false;
    for (configured_route& c : configured_)
        if (c.server_id == p.info.server_id) {
            configured = true;
            c.next = steady::now() + explicit_retry + std::chrono::milliseconds(rng_() % 100);
        }
    if (!configured && p.solicited && reason != "Route Removed" && reason != "Duplicate Route") {
        cluster::route_url u;
        std::string why;
        if (config::parse_route_url(p.url, &u, &why)) {
            implicit_dialling_.push_back(u.text);
            const int retries = cl_.connect_retries;
            const auto delay = std::chrono::milliseconds(rng_() % 100);
            spawn([this, u, retries, delay] {
                std::this_thread::sleep_for(delay);
                dial(u.text, u, true, retries);
            });
        }
    }
}

std::string cluster_manager::our_info(bool ldm) const {
    protocol::route_info i;
    i.server_id = cfg_.server_id;
    i.server_name = cfg_.server_name.empty() ? cfg_.server_id : cfg_.server_name;
    i.version = server_version;
    i.go = server_go_field;
    i.host = cl_.host.empty() ? "0.0.0.0" : cl_.host;
    i.port = port();
    if (!cl_.advertise.empty()) {
        cluster::route_url a;
        std::string why;
        if (config::parse_route_url("nats-route://" + cl_.advertise, &a, &why)) {
            i.host = a.host;
            i.port = a.port;
            i.ip = "nats-route://" + cl_.advertise + "/";
        }
    }
    i.auth_required = !cl_.user.empty();
    i.tls_required = tls_enabled();
    i.headers = true;
    i.max_payload = cfg_.max_payload;
    i.cluster = name_;
    i.cluster_dynamic = dynamic_name_;
    if (!cl_.no_advertise) i.connect_urls = own_client_urls();
    i.ldm = ldm;
    if (gateways_) i.gateway_url = gateways_->own_url();
    return protocol::write_route_info(i);
}

std::vector<std::string> cluster_manager::own_client_urls() const {
    if (!cfg_.client_advertise.empty()) {
        std::string a = cfg_.client_advertise;
        if (a.find(':') == std::string::npos) a += ":" + std::to_string(client_port_);
        return {a};
    }
    std::vector<std::string> out;
    const std::string& host = cfg_.host;
    if (!host.empty() && host != "0.0.0.0" && host != "::" && host != "[::]") {
        out.push_back((host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                      std::to_string(client_port_));
        return out;
    }
    // Every non-loopback address (nats-server getNonLocalIPsIfHostIsIPAny).
    ifaddrs* ifs = nullptr;
    if (getifaddrs(&ifs) == 0) {
        for (ifaddrs* i = ifs; i; i = i->ifa_next) {
            if (!i->ifa_addr) continue;
            char ip[INET6_ADDRSTRLEN] = "";
            if (i->ifa_addr->sa_family == AF_INET) {
                auto* a = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
                if ((ntohl(a->sin_addr.s_addr) >> 24) == 127) continue;
                inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
                out.push_back(std::string(ip) + ":" + std::to_string(client_port_));
            } else if (i->ifa_addr->sa_family == AF_INET6 && host != "0.0.0.0") {
                auto* a = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
                if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) || IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr))
                    continue;
                inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
                out.push_back("[" + std::string(ip) + "]:" + std::to_string(client_port_));
            }
        }
        freeifaddrs(ifs);
    }
    return out;
}

std::vector<std::string> cluster_manager::client_urls() const {
    std::lock_guard lock(mu_);
    return last_urls_;
}

// Own URLs, then the peers' (none until a route registers; none from peers
// with no_advertise or in lame duck). On a change every shard tells its
// clients (async INFO).
void cluster_manager::publish_client_urls_locked() {
    std::vector<std::string> urls;
    if (!peers_.empty()) {
        if (!lame_duck_) urls = own_client_urls();
        if (!cl_.no_advertise)
            for (const auto& [id, p] : peers_) {
                if (p.info.ldm) continue;
                for (const std::string& u : p.info.connect_urls)
                    if (std::find(urls.begin(), urls.end(), u) == urls.end()) urls.push_back(u);
            }
    }
    if (urls == last_urls_) return;
    last_urls_ = urls;
    for (unsigned i = 0; i < nshards_; ++i)
        post_(i, [urls](shard& s) { s.set_connect_urls(urls); });
}

std::vector<route_view> cluster_manager::routes() const {
    std::lock_guard lock(mu_);
    std::vector<route_view> out;
    for (const auto& [id, p] : peers_) {
        route_view v;
        v.serial = p.serial;
        v.shard = p.shard;
        v.remote_id = id;
        v.remote_name = p.info.server_name;
        v.ip = p.remote_ip;
        v.port = p.remote_port;
        v.solicited = p.solicited;
        for (const configured_route& c : configured_)
            if (c.server_id == id) v.configured = true;
        v.connect_urls = p.info.connect_urls;
        out.push_back(std::move(v));
    }
    std::sort(out.begin(), out.end(),
              [](const route_view& a, const route_view& b) { return a.serial < b.serial; });
    return out;
}

void cluster_manager::enter_lame_duck() {
    std::lock_guard lock(mu_);
    if (lame_duck_) return;
    lame_duck_ = true;
    const std::string line = our_info(true);
    for (const auto& [id, p] : peers_)
        post_(p.shard, [serial = p.serial, line](shard& s) { s.send_to_route(serial, line); });
    publish_client_urls_locked();
}

void cluster_manager::reload(const cluster::cluster_config& c) {
    std::lock_guard lock(mu_);
    std::vector<configured_route> next;
    for (const auto& u : c.routes) {
        auto it = std::find_if(configured_.begin(), configured_.end(),
                               [&](const configured_route& r) { return r.url.text == u.text; });
        if (it != configured_.end())
            next.push_back(*it);
        else
            next.push_back(configured_route{u, {}, false, false, {}});
    }
    // Routes no longer configured close (if we dialled them from that URL).
    for (const configured_route& old : configured_) {
        const bool kept = std::any_of(next.begin(), next.end(), [&](const configured_route& r) {
            return r.url.text == old.url.text;
        });
        if (kept || old.server_id.empty()) continue;
        auto p = peers_.find(old.server_id);
        if (p == peers_.end() || !p->second.solicited || p->second.url != old.url.text) continue;
        LOG_INF("Route %s removed from the configuration: closing it",
                config::redact_url(old.url.text).c_str());
        post_(p->second.shard,
              [serial = p->second.serial](shard& s) { s.close_route(serial, "Route Removed"); });
    }
    configured_ = std::move(next);
    cl_.routes = c.routes;
    cv_.notify_all();
}

} // namespace natrix::broker
