#pragma once
// A shard: one thread pinned to one cpu, with its own I/O backend, listener,
// sessions, router and mailbox. The shard wires them together: backend
// events go to sessions and the client protocol, ring records to the router,
// and each loop turn flushes what the turn produced.
//
// Everything in here is touched only by the shard's own thread, except:
//  - mail().inbox(p): the SPSC ring shard p writes;
//  - wake() and post(): any thread;
//  - stats(): relaxed counters any thread may read.
// Cross-shard traffic goes only through the mailboxes.
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <natrix/broker/auth_worker.hh>
#include <natrix/broker/broker_config.hh>
#include <natrix/broker/client_protocol.hh>
#include <natrix/broker/connection_limit.hh>
#include <natrix/broker/delivery.hh>
#include <natrix/broker/flow_control.hh>
#include <natrix/broker/latency_histogram.hh>
#include <natrix/broker/loop.hh>
#include <natrix/broker/mailbox.hh>
#include <natrix/broker/route_protocol.hh>
#include <natrix/broker/router.hh>
#include <natrix/broker/session_table.hh>
#include <natrix/broker/shard_stats.hh>
#include <natrix/broker/shard_view.hh>
#include <natrix/broker/subscription_teardown.hh>
#include <natrix/broker/wakeup.hh>
#include <natrix/io/backend.hh>

namespace natrix::broker {

class shard final : public shard_view, private io::event_handler, private loop::hooks {
public:
    struct shared {
        const std::atomic<bool>* stopping = nullptr;
        connection_limit* connections = nullptr;
        auth_worker* auth_jobs = nullptr;
        route_events* cluster = nullptr;  // null: no cluster configured
        route_events* gateways = nullptr; // null: no gateway configured
    };
    shard(unsigned id, unsigned nshards, const broker_config& cfg, shared env);
    ~shard() override;
    shard(const shard&) = delete;
    shard& operator=(const shard&) = delete;

    mailbox& mail() noexcept { return mailbox_; }

    // Thread body: sets up the backend and the listener on `port` (shard 0
    // may pick it when 0), then runs the loop until stopping.
    void run(int cpu, int port);
    int bound_port() const noexcept { return bound_port_.load(std::memory_order_acquire); }
    bool started() const noexcept { return started_.load(std::memory_order_acquire); }
    const std::string& start_error() const noexcept { return start_error_; }

    // Any thread: makes a sleeping shard look at its rings and flags.
    void wake() noexcept { wakeup_.wake(); }
    // Any thread: runs fn on this shard's thread at its next loop turn.
    void post(std::function<void(shard&)> fn);

    // ---- control tasks (on this shard's thread) ----
    void apply_config(const broker_config& cfg);
    // Lame duck: stop accepting, tell clients (INFO ldm:true), then close
    // them one by one from `close_from` until `close_until`.
    void enter_lame_duck(clock::time_point close_from, clock::time_point close_until);
    // Clusters (cluster_manager): a greeted route socket becomes a session
    // here; routes close or get a line by the manager's serial; the client
    // URLs of the cluster changed (async INFO to the clients that take it).
    // `ssl`: the TLS session the manager did TLS first on (null: plain);
    // the shard takes it over.
    void adopt_route(int fd, std::unique_ptr<route_link> link, std::string_view leftover,
                     const std::string& ip, int port, SSL* ssl = nullptr);
    // Gateways (gateway_manager) come the same way: the link's kind says.
    void close_route(std::uint64_t serial, const char* reason, bool gateway = false);
    void send_to_route(std::uint64_t serial, const std::string& bytes, bool gateway = false);
    void set_connect_urls(std::vector<std::string> urls);

    // ---- shard_view ----
    unsigned id() const noexcept override { return id_; }
    const broker_config& config() const noexcept override { return cfg_; }
    std::vector<connection_info> connections(std::uint64_t cid) const override;
    std::vector<subscription_info> subscriptions_of(const connection_info& c) const override;
    std::vector<subscription_info> subscriptions(std::string_view test) const override;
    std::vector<route_info_view> routes() const override;
    const shard_stats& stats() const noexcept override { return stats_; }
    subjects::trie_stats subscription_stats() const noexcept override {
        return router_.subscription_stats();
    }
    std::size_t ring_bytes_in_use() const noexcept override { return mailbox_.inbound_bytes(); }
    std::size_t overflow_bytes() const noexcept override { return mailbox_.overflow_bytes(); }
    latency_histogram::snapshot publish_latency() const noexcept override {
        return latency_.read();
    }

private:
    // io::event_handler
    std::uint64_t on_accepted(io::conn_id id, const io::peer_address& peer) override;
    io::recv_action on_received(std::uint64_t token, std::string_view data,
                                io::buffer_ref buf) override;
    void on_sent(std::uint64_t token, std::size_t sent, bool failed) override;
    void on_peer_closed(std::uint64_t token, const char* error) override;
    // loop::hooks
    bool turn() override;
    void tick(clock::time_point now) override;
    bool work_pending() const noexcept override { return mailbox_.pending(); }

    bool open_backend();
    void process_held_input();
    void feed(session& s, std::string_view data);
    void flush_sessions();
    void start_send(session& s);
    void close_session(session& s, const char* reason, bool abort = false);
    void lame_duck_tick(clock::time_point now);
    // Client TLS (shard_tls.cc, decision 0015).
    void tls_accept(session& s);
    void tls_input(session& s, std::string_view data);
    void tls_handshake_step(session& s);
    void tls_step_done(std::uint64_t token, const std::shared_ptr<tls::tls_stream>& stream,
                       tls::tls_stream::step result, std::string out, std::string why);
    void tls_established(session& s);
    bool tls_tick(session& s, clock::time_point now);
    void tls_seal(session& s);
    void stop_accepting();
    void shutdown_all();
    const std::string& account_name(auth::account_id a) const noexcept;

    unsigned id_;
    unsigned nshards_;
    broker_config cfg_; // this shard's copy; replaced on reload by a control task
    shared env_;
    shard_stats stats_;
    std::atomic<int> bound_port_{0};
    std::atomic<bool> started_{false};
    std::string start_error_;

    wakeup wakeup_;
    loop loop_;
    std::unique_ptr<io::backend> backend_;
    int listen_fd_ = -1;
    bool listening_ = true;
    bool shutting_down_ = false;
    std::uint64_t next_cid_seq_ = 0;

    mailbox mailbox_;
    session_table sessions_;
    flow_control flow_;
    delivery delivery_;
    router router_;
    client_protocol protocol_;
    route_protocol routes_;
    subscription_teardown teardown_;

    // Input that arrived while the mailbox was congested: kept, in order,
    // with its buffer, until the overflow drains.
    struct held_input {
        std::uint64_t token;
        std::string_view data;
        io::buffer_ref buf;
        bool eof = false; // the client's EOF, in order behind its bytes (no buffer)
    };
    std::deque<held_input> held_;

    // Output buffer capacity an idle session keeps (checked each tick).
    static constexpr std::size_t idle_buffer_keep = 256 * 1024;
    // Records per ring per drain call, between clock reads.
    static constexpr std::size_t drain_batch = 256;
    // Remote interest drops between merges of freed heap (merge_freed_chunks).
    static constexpr std::uint64_t merge_after_drops = 1024;
    std::uint64_t merged_drops_ = 0;

    clock::time_point next_reply_sweep_{};
    bool lame_duck_ = false;
    clock::time_point ldm_close_from_, ldm_close_until_;

    sample_clock sampler_;
    latency_histogram latency_;
    std::string tls_plain_; // decrypted input, reused
    // tls { connection_rate_limit }: this shard's share of new TLS
    // connections per second, as a token bucket.
    double tls_tokens_ = 0;
    clock::time_point tls_tokens_at_{};
    bool tls_rate_allows(clock::time_point now);
    void throttle(session& s);
};

} // namespace natrix::broker
