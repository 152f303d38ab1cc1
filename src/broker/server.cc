#include <natrix/broker/server.hh>
#include <natrix/auth/nkey.hh>
#include <natrix/runtime/cpu_topology.hh>
#include <natrix/util/log.hh>

#include <bit>
#include <chrono>
#include <random>
#include <sodium.h>

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

server::server(broker_config cfg) : cfg_(std::move(cfg)) {
    if (cfg_.server_id.empty()) cfg_.server_id = generate_server_id();
    // A ring must hold the largest message record twice over (records never
    // wrap), or a big message could never be forwarded.
    const std::size_t need = std::bit_ceil(static_cast<std::size_t>(record_bound(cfg_)));
    if (cfg_.ring_bytes < need) cfg_.ring_bytes = need;
    max_connections_.store(cfg_.max_connections, std::memory_order_relaxed);
}

server::~server() { stop(); }

// Twice the largest message record: payload, subject and reply (each up to a
// control line), queue names and the fixed fields.
std::int64_t server::record_bound(const broker_config& c) noexcept {
    return 2 * (c.max_payload + 2 * static_cast<std::int64_t>(c.max_control_line) + 65536);
}

int server::port() const noexcept { return shards_.empty() ? 0 : shards_[0]->bound_port(); }

bool server::admit_connection() noexcept {
    const int max = max_connections_.load(std::memory_order_relaxed);
    int cur = connections_.load(std::memory_order_relaxed);
    do {
        if (max > 0 && cur >= max) return false;
    } while (!connections_.compare_exchange_weak(cur, cur + 1, std::memory_order_relaxed));
    return true;
}

bool server::start(std::string* error) {
    runtime::placement plan;
    if (!runtime::plan_placement(cfg_.shards, cfg_.cpus, plan, error)) return false;
    const unsigned n = static_cast<unsigned>(plan.shard_cpus.size());
    if (n > subjects::max_shards) {
        if (error) *error = "at most " + std::to_string(subjects::max_shards) + " shards are supported";
        return false;
    }
    LOG_INF("%s", plan.description.c_str());
    // All shards (and so all rings) exist before any thread runs.
    for (unsigned i = 0; i < n; ++i) shards_.push_back(std::make_unique<shard>(i, n, *this));
    for (unsigned i = 0; i < n; ++i) {
        const int cpu = plan.shard_cpus[i];
        threads_.emplace_back([this, i, cpu] { shards_[i]->run(cpu); });
        // Shard 0 binds first so that the others can join its port.
        while (!shards_[i]->started()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (!shards_[i]->start_error().empty()) {
            if (error) *error = "shard " + std::to_string(i) + ": " + shards_[i]->start_error();
            stop();
            return false;
        }
    }
    LOG_INF("Listening for client connections on %s:%d", cfg_.host.c_str(), port());
    LOG_INF("Server is ready");
    return true;
}

bool server::reload(const broker_config& n, std::string* error) {
    if (n.host != cfg_.host || (n.port != cfg_.port && n.port != 0) || n.shards != cfg_.shards ||
        n.cpus != cfg_.cpus) {
        if (error) *error = "listen address, shards and cpus cannot change on reload; restart natrix";
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
    next.idle = n.idle;
    next.spin = n.spin;
    next.auth_timeout = n.auth_timeout;
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
        if (error) *error = "accounts cannot be added, removed or reordered on reload; restart natrix";
        return false;
    }
    next.auth = n.auth;
    // A ring must still hold the largest message twice over; a larger
    // max_payload than the rings allow needs a restart.
    if (static_cast<std::size_t>(record_bound(next)) > cfg_.ring_bytes) {
        if (error) *error = "max_payload or max_control_line too large for the shard rings; restart natrix to raise them";
        return false;
    }
    cfg_ = next;
    max_connections_.store(next.max_connections, std::memory_order_relaxed);
    auto done = collect<bool>([next](shard& s) {
        s.apply_config(next);
        return true;
    });
    for (const auto& d : done)
        if (!d) {
            if (error) *error = "a shard did not apply the new configuration in time";
            return false;
        }
    return true;
}

void server::enter_lame_duck(std::chrono::nanoseconds grace, std::chrono::nanoseconds duration) {
    if (lame_duck_.exchange(true)) return;
    const auto now = clock::now();
    const auto from = now + grace;
    const auto until = now + std::max(duration, grace);
    for (auto& s : shards_) s->post([from, until](shard& sh) { sh.enter_lame_duck(from, until); });
}

void server::check_credentials_async(unsigned shard_id, std::uint32_t slot, std::uint32_t gen,
                                     std::shared_ptr<const auth::authenticator> auth,
                                     protocol::connect_options opts, std::string nonce,
                                     bool use_no_auth_user, bool reload) {
    auth_worker_.submit([this, shard_id, slot, gen, auth = std::move(auth), opts = std::move(opts),
                         nonce = std::move(nonce), use_no_auth_user, reload]() mutable {
        auth::result r = auth->check(opts, nonce, use_no_auth_user);
        auth::nkey::wipe(opts.pass);
        shards_[shard_id]->post([slot, gen, auth = std::move(auth), r = std::move(r), reload](shard& s) mutable {
            if (reload)
                s.complete_reauth(slot, gen, std::move(auth), std::move(r));
            else
                s.complete_auth(slot, gen, std::move(auth), std::move(r));
        });
    });
}

void server::stop() {
    // Credential checks in flight post to the shards: finish them first.
    auth_worker_.stop();
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
