#pragma once
// The broker process: owns the shards and their threads. Created and driven
// by the control (main) thread; shards reach it only for the read-only
// config, the peer list (to find rings) and the global connection count.
#include <natrix/broker/broker_config.hh>
#include <natrix/broker/shard.hh>

#include <atomic>
#include <memory>
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

    // Global connection admission (max_connections); the only shared counter.
    bool admit_connection() noexcept;
    void release_connection() noexcept { connections_.fetch_sub(1, std::memory_order_relaxed); }

private:
    broker_config cfg_;
    std::vector<std::unique_ptr<shard>> shards_;
    std::vector<std::thread> threads_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> connections_{0};
};

// A nats-server-style id: 'N' followed by 55 base32 characters.
std::string generate_server_id();

} // namespace natrix::broker
