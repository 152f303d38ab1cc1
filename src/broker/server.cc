#include <bit>
#include <chrono>
#include <random>

#include <sodium.h>

#include <natrix/broker/cluster_manager.hh>
#include <natrix/broker/gateway_manager.hh>
#include <natrix/broker/server.hh>
#include <natrix/broker/shard.hh>
#include <natrix/io/backend.hh>
#include <natrix/runtime/cpu_topology.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

std::string generate_server_id() {
    // nats-server ids are public nkeys ('N' + base32); ours have the same
    // shape and come from a CSPRNG.
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    std::string id = "N";
    unsigned char bytes[55];
    if (sodium_init() >= 0) {
        randombytes_buf(bytes, sizeof bytes);
    } else {
        std::random_device rd;
        for (auto& b : bytes) b = static_cast<unsigned char>(rd());
    }
    for (unsigned char b : bytes) id.push_back(alphabet[b & 31]);
    return id;
}

server::server(broker_config cfg)
    : cfg_(std::move(cfg)) {
    if (cfg_.server_id.empty()) cfg_.server_id = generate_server_id();
    // A ring holds the largest message record twice over (records never
    // wrap); larger ones, after a reload, go by pointer (mailbox::push).
    const std::size_t need = std::bit_ceil(static_cast<std::size_t>(record_bound(cfg_)));
    if (cfg_.ring_bytes < need) cfg_.ring_bytes = need;
    connections_.set_max(cfg_.max_connections);
}

server::~server() {
    stop();
}

// Twice the largest message record: payload, subject and reply (each up to a
// control line), queue names and the fixed fields.
std::int64_t server::record_bound(const broker_config& c) noexcept {
    return 2 * (c.max_payload + 2 * static_cast<std::int64_t>(c.max_control_line) + 65536);
}

int server::port() const noexcept {
    return shards_.empty() ? 0 : shards_[0]->bound_port();
}

// io_uring unless told otherwise; where it cannot be had (seccomp, a
// disabled or old kernel), epoll with a warning, or a refusal when io_uring
// was asked for by name (docs/decisions/0008-io-backend.md).
bool server::choose_backend(std::string* error) {
    if (cfg_.io == io_mode::epoll) return true;
    std::string why;
    if (io::uring_available(&why)) {
        cfg_.io = io_mode::uring;
        return true;
    }
    if (cfg_.io == io_mode::uring) {
        if (error)
            *error = why + " (natrix { io: uring } was asked for; io: epoll runs without it)";
        return false;
    }
    LOG_WRN("%s; using the epoll backend", why.c_str());
    cfg_.io = io_mode::epoll;
    return true;
}

bool server::start(std::string* error) {
    runtime::placement plan;
    if (!runtime::plan_placement(cfg_.shards, cfg_.cpus, plan, error)) return false;
    const unsigned n = static_cast<unsigned>(plan.shard_cpus.size());
    if (n > subjects::max_shards) {
        if (error)
            *error = "at most " + std::to_string(subjects::max_shards) + " shards are supported";
        return false;
    }
    if (!choose_backend(error)) return false;
    LOG_INF("%s, %s I/O", plan.description.c_str(),
            cfg_.io == io_mode::uring ? "io_uring" : "epoll");
    // The cluster manager exists before the shards (they report to it) and
    // starts after them (what it hands over needs running shards).
    if (cfg_.cluster.enabled) {
        cluster_ = std::make_unique<cluster_manager>(
            cfg_, n, 0, [this](unsigned i, std::function<void(shard&)> fn) {
                shards_[i]->post(std::move(fn));
            });
        if (!cluster_->open(error)) {
            cluster_.reset();
            return false;
        }
    }
    if (cfg_.gateway.enabled) {
        gateways_ = std::make_unique<gateway_manager>(
            cfg_, n, [this](unsigned i, std::function<void(shard&)> fn) {
                shards_[i]->post(std::move(fn));
            });
        if (!gateways_->open(error)) {
            gateways_.reset();
            if (cluster_) cluster_->stop();
            cluster_.reset();
            return false;
        }
        gateways_->set_routes(cluster_.get());
        if (cluster_) cluster_->set_gateways(gateways_.get());
    }
    // All shards (and so all rings) exist before any thread runs.
    const shard::shared env{&stopping_, &connections_, &auth_worker_, cluster_.get(),
                            gateways_.get()};
    for (unsigned i = 0; i < n; ++i) shards_.push_back(std::make_unique<shard>(i, n, cfg_, env));
    std::vector<mailbox*> mail;
    for (auto& s : shards_) mail.push_back(&s->mail());
    for (auto& s : shards_) s->mail().link(mail);
    for (unsigned i = 0; i < n; ++i) {
        const int cpu = plan.shard_cpus[i];
        // Shard 0 binds first (it may pick the port); the others join it.
        const int port = i == 0 ? cfg_.port : shards_[0]->bound_port();
        threads_.emplace_back([this, i, cpu, port] { shards_[i]->run(cpu, port); });
        while (!shards_[i]->started()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (!shards_[i]->start_error().empty()) {
            if (error) *error = "shard " + std::to_string(i) + ": " + shards_[i]->start_error();
            stop();
            return false;
        }
    }
    LOG_INF("Listening for client connections on %s:%d", cfg_.host.c_str(), port());
    if (cluster_) {
        cluster_->set_client_port(port());
        cluster_->start();
    }
    if (gateways_) gateways_->start();
    LOG_INF("Server is ready");
    return true;
}

void server::post_view(std::size_t i, std::function<void(const shard_view&)> fn) {
    shards_[i]->post([fn = std::move(fn)](shard& s) { fn(s); });
}

bool server::reload(const broker_config& n, std::string* error) {
    if (n.host != cfg_.host || (n.port != cfg_.port && n.port != 0) || n.shards != cfg_.shards ||
        n.cpus != cfg_.cpus) {
        if (error)
            *error = "listen address, shards and cpus cannot change on reload; restart natrix";
        return false;
    }
    if (n.io != io_mode::automatic && n.io != cfg_.io) {
        if (error)
            *error = "the I/O backend (natrix { io }) cannot change on reload; restart natrix";
        return false;
    }
    broker_config next = cfg_;
    next.server_name = n.server_name;
    next.max_payload = n.max_payload;
    next.max_pending = n.max_pending;
    next.max_connections = n.max_connections;
    next.max_subscriptions = n.max_subscriptions;
    next.max_control_line = n.max_control_line;
    next.ping_interval = n.ping_interval;
    next.ping_max = n.ping_max;
    next.write_deadline = n.write_deadline;
    next.slow_consumer = n.slow_consumer;
    next.stall_timeout = n.stall_timeout;
    next.idle = n.idle;
    next.spin = n.spin;
    next.auth_timeout = n.auth_timeout;
    // TLS on or off, or new certificates: for connections from now on.
    next.tls = n.tls;
    next.allow_non_tls = n.allow_non_tls;
    // Users, passwords and permissions reload; the set of accounts does not
    // (each shard sized its subject spaces by it).
    const auth::account_set none;
    const auth::account_set& old_acc = cfg_.auth ? cfg_.auth->accounts() : none;
    const auth::account_set& new_acc = n.auth ? n.auth->accounts() : none;
    bool same_accounts = old_acc.size() == new_acc.size();
    for (std::size_t i = 0; same_accounts && i < old_acc.size(); ++i)
        same_accounts = old_acc.at(static_cast<auth::account_id>(i)).name ==
                        new_acc.at(static_cast<auth::account_id>(i)).name;
    if (!same_accounts) {
        if (error)
            *error = "accounts cannot be added, removed or reordered on reload; restart natrix";
        return false;
    }
    next.auth = n.auth;
    if (n.cluster.enabled != cfg_.cluster.enabled || n.cluster.port != cfg_.cluster.port ||
        n.cluster.host != cfg_.cluster.host || n.cluster.name != cfg_.cluster.name) {
        if (error)
            *error = "the cluster listen address and name cannot change on reload; restart natrix";
        return false;
    }
    const auto& og = cfg_.gateway;
    const auto& ng = n.gateway;
    const auto same_urls = [](const auto& a, const auto& b) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (a[i].name != b[i].name || a[i].urls.size() != b[i].urls.size()) return false;
            for (std::size_t k = 0; k < a[i].urls.size(); ++k)
                if (a[i].urls[k].text != b[i].urls[k].text) return false;
        }
        return true;
    };
    if (ng.enabled != og.enabled || ng.name != og.name || ng.port != og.port ||
        ng.host != og.host || !same_urls(ng.gateways, og.gateways) || ng.user != og.user ||
        ng.password != og.password || ng.reject_unknown != og.reject_unknown) {
        if (error) *error = "the gateway block cannot change on reload; restart natrix";
        return false;
    }
    if (cluster_) cluster_->reload(n.cluster);
    next.cluster.routes = n.cluster.routes;
    // A larger max_payload than the rings were sized for is fine: such
    // records go by pointer (mailbox::push).
    cfg_ = next;
    connections_.set_max(next.max_connections);
    struct state {
        std::mutex mu;
        std::condition_variable cv;
        std::size_t done = 0;
    };
    auto st = std::make_shared<state>();
    for (auto& s : shards_)
        s->post([st, next](shard& sh) {
            sh.apply_config(next);
            std::lock_guard lock(st->mu);
            ++st->done;
            st->cv.notify_all();
        });
    std::unique_lock lock(st->mu);
    if (!st->cv.wait_for(lock, std::chrono::seconds(2),
                         [&] { return st->done == shards_.size(); })) {
        if (error) *error = "a shard did not apply the new configuration in time";
        return false;
    }
    return true;
}

void server::enter_lame_duck(std::chrono::nanoseconds grace, std::chrono::nanoseconds duration) {
    if (lame_duck_.exchange(true)) return;
    if (cluster_) cluster_->enter_lame_duck();
    const auto now = clock::now();
    const auto from = now + grace;
    const auto until = now + std::max(duration, grace);
    for (auto& s : shards_) s->post([from, until](shard& sh) { sh.enter_lame_duck(from, until); });
}

void server::stop() {
    // Credential checks in flight post to the shards: finish them first.
    auth_worker_.stop();
    // No new routes while the shards stop; the ones they hold close with them.
    if (gateways_) gateways_->stop();
    if (cluster_) cluster_->stop();
    if (stopping_.exchange(true)) {
        for (auto& t : threads_)
            if (t.joinable()) t.join();
        return;
    }
    for (auto& s : shards_) s->wake();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
}

} // namespace natrix::broker
