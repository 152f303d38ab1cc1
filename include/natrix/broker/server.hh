#pragma once
// The broker process: owns the shards and their threads. Created and driven
// by the control (main) thread; shards never call it (they share only the
// stop flag, the connection limit and the auth worker it hands them).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <natrix/broker/auth_worker.hh>
#include <natrix/broker/broker_config.hh>
#include <natrix/broker/connection_limit.hh>
#include <natrix/broker/server_identity.hh>
#include <natrix/broker/shard_view.hh>

namespace natrix::broker {

class shard;
class cluster_manager;
class gateway_manager;

class server {
public:
    explicit server(broker_config cfg);
    ~server();

    // Picks the I/O backend, plans placement, starts every shard thread and
    // waits until all listen. False with a reason when any shard could not.
    bool start(std::string* error);
    // Asks every shard to stop (flush, close clients) and joins the threads.
    void stop();
    bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }

    const broker_config& config() const noexcept { return cfg_; }
    unsigned shard_count() const noexcept { return static_cast<unsigned>(shards_.size()); }
    int port() const noexcept;

    // Runs fn on every shard's own thread (as a control task) and returns the
    // results in shard order; a shard that does not answer within `timeout`
    // (stopping) leaves an empty optional. Control thread or any non-shard
    // thread only: a shard calling it would wait on itself.
    template <typename R>
    std::vector<std::optional<R>>
    collect(std::function<R(const shard_view&)> fn,
            std::chrono::milliseconds timeout = std::chrono::seconds(2));

    // Applies the reloadable settings of `cfg` (limits, pings, users) to
    // every shard. Fails, changing nothing, when a setting that needs a
    // restart (listen address, shards, cpus, io) differs.
    bool reload(const broker_config& cfg, std::string* error);
    // Lame duck: stop accepting everywhere, send INFO ldm:true, wait `grace`,
    // then close clients spread over the rest of `duration`.
    void enter_lame_duck(std::chrono::nanoseconds grace, std::chrono::nanoseconds duration);
    bool in_lame_duck() const noexcept { return lame_duck_.load(std::memory_order_acquire); }
    std::size_t open_connections() const noexcept {
        return static_cast<std::size_t>(connections_.count());
    }
    std::chrono::system_clock::time_point start_time() const noexcept { return start_time_; }
    // Null unless a cluster is configured (docs/clustering.md).
    cluster_manager* cluster() const noexcept { return cluster_.get(); }
    // Null unless a gateway is configured (superclusters).
    gateway_manager* gateways() const noexcept { return gateways_.get(); }

private:
    static std::int64_t record_bound(const broker_config& c) noexcept;
    bool choose_backend(std::string* error);
    // Runs fn(view) on shard i's thread.
    void post_view(std::size_t i, std::function<void(const shard_view&)> fn);

    broker_config cfg_;
    auth_worker auth_worker_;
    connection_limit connections_;
    std::unique_ptr<cluster_manager> cluster_;
    std::unique_ptr<gateway_manager> gateways_;
    std::vector<std::unique_ptr<shard>> shards_;
    std::vector<std::thread> threads_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> lame_duck_{false};
    std::chrono::system_clock::time_point start_time_ = std::chrono::system_clock::now();
};

template <typename R>
std::vector<std::optional<R>> server::collect(std::function<R(const shard_view&)> fn,
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
        post_view(i, [st, fn, i](const shard_view& s) {
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

} // namespace natrix::broker
