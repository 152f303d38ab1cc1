#pragma once
// The broker process: owns the shards and their threads. Created and driven
// by the control (main) thread; shards reach it only for the read-only
// config, the peer list (to find rings) and the global connection count.
#include <natrix/broker/auth_worker.hh>
#include <natrix/broker/broker_config.hh>
#include <natrix/broker/shard.hh>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace natrix::broker {

// INFO "version" is the nats-server protocol level natrix implements, so
// clients that gate features on the server version behave as with 2.9.10;
// natrix's own version travels in "go" (docs/decisions/0005-engine.md).
inline constexpr const char* server_version = "2.9.10";
inline constexpr const char* natrix_version = "0.1.0";
inline constexpr const char* server_go_field = "natrix-0.1.0";

class server {
public:
    explicit server(broker_config cfg);
    ~server();

    // Plans placement, starts every shard thread and waits until all listen.
    // Returns false with a reason when any shard could not start.
    bool start(std::string* error);
    // Asks every shard to stop (flush, close clients) and joins the threads.
    void stop();
    bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }

    const broker_config& config() const noexcept { return cfg_; }
    unsigned shard_count() const noexcept { return static_cast<unsigned>(shards_.size()); }
    shard& shard_at(unsigned i) noexcept { return *shards_[i]; }
    int port() const noexcept;

    // Runs fn(shard&) on every shard's own thread (as a control task) and
    // returns the results in shard order; a shard that does not answer within
    // `timeout` (stopping) leaves an empty optional. Control thread or any
    // non-shard thread only: a shard calling it would wait on itself.
    template <typename R>
    std::vector<std::optional<R>> collect(std::function<R(shard&)> fn,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(2));

    // Applies the reloadable settings of `cfg` (limits, pings, logging-free
    // fields) to every shard for new work. Fails, changing nothing, when a
    // setting that needs a restart (listen address, shards, cpus) differs.
    bool reload(const broker_config& cfg, std::string* error);
    // Lame duck: stop accepting everywhere, send INFO ldm:true, wait `grace`,
    // then close clients spread over the rest of `duration`.
    void enter_lame_duck(std::chrono::nanoseconds grace, std::chrono::nanoseconds duration);
    bool in_lame_duck() const noexcept { return lame_duck_.load(std::memory_order_acquire); }
    std::size_t open_connections() const noexcept {
        return static_cast<std::size_t>(connections_.load(std::memory_order_relaxed));
    }
    std::chrono::system_clock::time_point start_time() const noexcept { return start_time_; }

    // Global connection admission (max_connections); the only shared counter.
    bool admit_connection() noexcept;
    void release_connection() noexcept { connections_.fetch_sub(1, std::memory_order_relaxed); }

    // Checks a client's credentials on the auth worker and hands the verdict
    // to shard `shard_id`: shard::complete_auth for a CONNECT, or
    // shard::complete_reauth when `reload` re-judges a connected client.
    // Any shard thread.
    void check_credentials_async(unsigned shard_id, std::uint32_t slot, std::uint32_t gen,
                                 std::shared_ptr<const auth::authenticator> auth,
                                 protocol::connect_options opts, std::string nonce,
                                 bool use_no_auth_user, bool reload = false);

private:
    static std::int64_t record_bound(const broker_config& c) noexcept;

    broker_config cfg_;
    auth_worker auth_worker_;
    std::vector<std::unique_ptr<shard>> shards_;
    std::vector<std::thread> threads_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> lame_duck_{false};
    std::atomic<int> connections_{0};
    std::atomic<int> max_connections_{0}; // reloadable; read by shards on accept
    std::chrono::system_clock::time_point start_time_ = std::chrono::system_clock::now();
};

template <typename R>
std::vector<std::optional<R>> server::collect(std::function<R(shard&)> fn,
                                              std::chrono::milliseconds timeout) {
    struct state {
        std::mutex mu;
        std::condition_variable cv;
        std::vector<std::optional<R>> results;
        std::size_t done = 0;
    };
    auto st = std::make_shared<state>();
    st->results.resize(shards_.size());
    for (std::size_t i = 0; i < shards_.size(); ++i) {
        shards_[i]->post([st, fn, i](shard& s) {
            R r = fn(s);
            std::lock_guard lock(st->mu);
            st->results[i] = std::move(r);
            ++st->done;
            st->cv.notify_all();
        });
    }
    std::unique_lock lock(st->mu);
    st->cv.wait_for(lock, timeout, [&] { return st->done == shards_.size(); });
    return st->results;
}

// A nats-server-style id: 'N' followed by 55 base32 characters.
std::string generate_server_id();

} // namespace natrix::broker
