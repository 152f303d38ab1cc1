#pragma once
// A shard: one thread pinned to one cpu, with its own io_uring, listener,
// connections, subject trie and copy of the interest map.
//
// Everything in here is touched only by the shard's own thread, except:
//  - inbox(p): the SPSC ring written by shard p, read by this shard;
//  - sleeping_/wake(): the sleeper-pays wakeup, called by producer shards
//    and by the control thread;
//  - stats(): relaxed atomic counters any thread may read.
// Cross-shard traffic goes only through the rings.
#include <natrix/auth/accounts.hh>
#include <natrix/broker/broker_config.hh>
#include <natrix/broker/client_connection.hh>
#include <natrix/io/uring.hh>
#include <natrix/broker/latency_histogram.hh>
#include <natrix/protocol/errors.hh>
#include <natrix/rings/spsc_ring.hh>
#include <natrix/subjects/interest_map.hh>
#include <natrix/subjects/subject_trie.hh>
#include <natrix/util/string_map.hh>

#include <array>
#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace natrix::broker {

class server;

// A counter with one writer (the owning shard) and any number of readers.
// add() is a plain load+store, not a locked RMW: on x86 a `lock add` drains
// the store buffer, and right after a 1 KiB payload copy that stall showed
// up as most of deliver()'s time.
class shard_counter {
public:
    void add(std::uint64_t n = 1) noexcept {
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void sub(std::uint64_t n = 1) noexcept {
        v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> v_{0};
};

struct shard_stats {
    shard_counter in_msgs, in_bytes, out_msgs, out_bytes;
    shard_counter connections, total_connections, subscriptions;
    shard_counter slow_consumers, stale_connections;
    shard_counter ring_records_out, ring_full, wakeups_sent, ring_dropped;
};

class shard {
public:
    shard(unsigned id, unsigned nshards, server& srv);
    ~shard();
    shard(const shard&) = delete;
    shard& operator=(const shard&) = delete;

    unsigned id() const noexcept { return id_; }
    // Thread body: sets up io_uring and the listener, then loops until stop.
    void run(int cpu);
    // Called from any thread: makes a sleeping shard look at its rings.
    void wake() noexcept;
    rings::spsc_ring& inbox(unsigned producer) noexcept { return *inbox_[producer]; }

    // ---- control path (monitoring, reload, lame duck) ----
    // Runs fn on this shard's thread at its next loop turn. A mutex guards
    // the task list; the hot path only reads an atomic flag. Any thread.
    void post(std::function<void(shard&)> fn);
    // The following are for control tasks, i.e. only on this shard's thread.
    const broker_config& config() const noexcept { return cfg_; }
    // The auth worker's verdict on a CONNECT (see server::check_credentials_async).
    void complete_auth(std::uint32_t slot, std::uint32_t gen,
                       std::shared_ptr<const auth::authenticator> checked_by, auth::result r);
    // The same for a connected client judged again after a reload.
    void complete_reauth(std::uint32_t slot, std::uint32_t gen,
                         std::shared_ptr<const auth::authenticator> checked_by, auth::result r);
    void apply_config(const broker_config& cfg);
    template <typename Fn>
    void for_each_connection(Fn&& fn) const {
        for (const auto& c : slots_)
            if (c && !c->closed) fn(*c);
    }
    const std::string& account_name(auth::account_id a) const noexcept { return accounts_->at(a).name; }
    // Local subscriptions over every account (internal ones included).
    subjects::trie_stats subscription_stats() const noexcept;
    std::size_t ring_bytes_in_use() const noexcept;
    std::size_t overflow_bytes() const noexcept { return overflow_bytes_; }
    // Lame duck: stop accepting, tell clients (INFO ldm:true), then close them
    // one by one from `close_from` until `close_until`.
    void enter_lame_duck(clock::time_point close_from, clock::time_point close_until);
    std::size_t open_connections() const noexcept;
    const shard_stats& stats() const noexcept { return stats_; }
    const latency_histogram& publish_latency() const noexcept { return latency_; }
    // Port actually bound (after start-up); 0 before.
    int bound_port() const noexcept { return bound_port_.load(std::memory_order_acquire); }
    bool started() const noexcept { return started_.load(std::memory_order_acquire); }
    const std::string& start_error() const noexcept { return start_error_; }

private:
    friend class server;
    // ---- io (shard_loop.cc) ----
    bool setup_ring();
    bool setup_listener();
    void loop();
    void arm_accept();
    void arm_recv(client_connection& c);
    void arm_wakeup_read();
    void on_accept(int res, unsigned flags);
    void on_recv(std::uint32_t slot, std::uint32_t gen, int res, unsigned flags);
    void on_send(std::uint32_t slot, std::uint32_t gen, int res);
    void flush_connections();
    void submit_send(client_connection& c);
    void return_buffer(unsigned bid);
    void close_connection(client_connection& c, const char* reason, bool abort = false);
    void on_tick(clock::time_point now);
    void shutdown_all();
    client_connection* lookup(std::uint32_t slot, std::uint32_t gen) noexcept;

    // ---- client protocol (shard_client.cc) ----
    void process_input(client_connection& c, std::string_view data);
    bool handle_op(client_connection& c, const protocol::parsed_op& op);
    void handle_connect(client_connection& c, const protocol::parsed_op& op);
    // Applies a credential check's verdict (inline, or from the auth worker).
    void finish_connect(client_connection& c, auth::result r);
    bool handle_pub(client_connection& c, const protocol::parsed_op& op);
    bool publish_permitted(client_connection& c, std::string_view subject);
    // allow_responses: a request delivered to c lets it answer on `reply`.
    void note_reply(client_connection& c, std::string_view reply);
    void send_text_err(client_connection& c, std::string_view text);
    // Reload: re-checks every client against a new authenticator.
    void reauthorize(client_connection& c, const auth::authenticator* previous);
    void apply_reauth(client_connection& c, auth::result r);
    void refresh_deny_filter(client_connection& c);
    void handle_sub(client_connection& c, const protocol::parsed_op& op);
    void handle_unsub(client_connection& c, const protocol::parsed_op& op);
    void remove_subscription(client_connection& c, subscription* s);
    void send_err(client_connection& c, protocol::proto_error e);
    void close_after_flush(client_connection& c);
    void append(client_connection& c, std::string_view bytes);
    void send_info(client_connection& c, bool lame_duck = false);

    // ---- routing (shard_routing.cc) ----
    // One published message as it travels: the sizes as the publisher
    // spelled them ride along, since MSG echoes them.
    struct message {
        std::string_view subject, reply, payload;
        std::uint32_t header_size = 0;
        std::string_view size_text, header_size_text;
        clock::time_point sampled_at{}; // set for 1 in latency_histogram::sample_every
    };
    // True for the messages whose publish-to-write latency is timed.
    bool take_sample() noexcept {
        return (++sample_tick_ & (latency_histogram::sample_every - 1)) == 0;
    }
    // Publishes in account `acct`; `from` is the publishing client (null for
    // messages the server republishes through imports). True when someone
    // (anywhere) is to receive it.
    bool publish(client_connection* from, auth::account_id acct, std::string_view subject,
                 std::string_view reply, std::string_view payload, std::uint32_t header_size,
                 std::string_view size_text, std::string_view header_size_text);
    bool publish_here(client_connection* from, auth::account_id acct, const message& msg);
    // Stream and service imports of a message published in `acct`.
    bool publish_imports(client_connection* from, auth::account_id acct, const message& msg);
    std::string service_reply(const auth::service_route& r, auth::account_id importer,
                              std::string_view reply);
    void on_service_reply(const message& m);
    void expire_service_replies(clock::time_point now);
    bool deliver_local(client_connection* from, auth::account_id acct, const message& m, bool plain,
                       const std::vector<std::string_view>& queues,
                       std::vector<std::string_view>* missed = nullptr);
    void forward(unsigned to, auth::account_id acct, const message& m, bool plain,
                 const std::vector<std::string_view>& queues, std::uint8_t hops);
    void reroute_queues(auth::account_id acct, const message& m,
                        const std::vector<std::string_view>& groups, std::uint8_t hops);
    void deliver(subscription* s, const message& m);
    void change_interest(auth::account_id acct, std::string_view subject, std::string_view queue,
                         int delta);
    void push_record(unsigned to, std::uint32_t type, std::string_view body);
    void flush_rings();
    bool drain_inboxes();
    void on_record(std::uint32_t type, std::string_view body);
    bool rings_pending() const noexcept;
    bool peers_caught_up(const std::vector<std::uint64_t>& target) const noexcept;
    void resume_barrier_waiters();

    void run_control();
    void lame_duck_tick(clock::time_point now);
    void pause_check();

    unsigned id_;
    unsigned nshards_;
    server& srv_;
    broker_config cfg_; // this shard's copy; replaced on reload by a control task
    shard_stats stats_;
    std::atomic<int> bound_port_{0};
    std::atomic<bool> started_{false};
    std::string start_error_;

    // io
    io::uring uring_;
    int listen_fd_ = -1;
    int wake_fd_ = -1;
    std::uint64_t wake_value_ = 0;
    bool accept_armed_ = false;
    bool listening_ = true;

    // connections, by slot (generation guards stale completions)
    std::vector<std::unique_ptr<client_connection>> slots_;
    std::vector<std::uint32_t> free_slots_;
    std::vector<std::uint32_t> closed_slots_;
    std::vector<client_connection*> dirty_;
    std::uint64_t next_cid_seq_ = 0;

    // subjects: one space per account (index = auth::account_id), fixed at
    // start-up; accounts never share a trie or an interest map.
    struct account_space {
        subjects::subject_trie trie;
        subjects::interest_map interest;
    };
    std::vector<std::unique_ptr<account_space>> spaces_;
    account_space& space(auth::account_id a) noexcept { return *spaces_[a]; }
    std::shared_ptr<const auth::account_set> accounts_; // imports and exports

    // Which import routes a subject published in an account triggers, with
    // the subject it takes on the other side. Routes change only on reload
    // (which clears this); per account, bounded (cleared when full).
    struct import_target {
        bool service = false;
        std::uint32_t route = 0; // index into stream_exports / service_imports
        std::string subject;
    };
    using import_map = util::string_map<std::vector<import_target>>;
    std::vector<import_map> import_cache_;
    const std::vector<import_target>& import_targets(auth::account_id acct, std::string_view subject);

    // Service imports: requests published here get a private reply subject
    // _R_.<prefix>.<token> in the exporting account. An internal subscription
    // on _R_.<prefix>.> (one per exporting account, made on first use) brings
    // the responses back to this shard, which maps them to the requester.
    struct pending_reply {
        auth::account_id importer = 0;
        std::string reply;
        config::response_type type = config::response_type::singleton;
        std::chrono::nanoseconds threshold{};
        clock::time_point expires;
    };
    static constexpr std::size_t k_max_pending_replies = 1 << 20; // per shard
    bool reply_cap_warned_ = false;
    util::string_map<pending_reply> service_replies_;
    std::vector<std::string> reply_prefix_; // per exporting account; "" until used
    std::vector<std::unique_ptr<subscription>> internal_subs_;
    clock::time_point next_reply_sweep_{};

    // rings: inbox_[p] is written by shard p; outbox(t) is shards[t]->inbox(id_)
    std::vector<std::unique_ptr<rings::spsc_ring>> inbox_;
    std::vector<std::deque<std::string>> overflow_; // per destination, when its ring is full
    std::vector<bool> touched_;                     // destinations with unpublished records
    std::atomic<bool> sleeping_{false};
    std::mt19937_64 rng_;

    // PONG barrier. In nats-server, once a client's PING is answered its
    // earlier PUBs are in every subscriber's output queue and its SUBs are in
    // effect for every publisher. Here both cross shards asynchronously, so a
    // PING from a client that sent anything to other shards waits until those
    // shards have consumed it. sent_seq_[t] counts records sent to shard t;
    // consumed_from_[p] (written by this shard, read by shard p) counts the
    // records this shard has processed from p.
    std::vector<std::uint64_t> sent_seq_;
    std::array<std::atomic<std::uint64_t>, subjects::max_shards> consumed_from_{};
    std::array<std::uint64_t, subjects::max_shards> consumed_count_{};
    std::vector<client_connection*> barrier_waiters_;

    clock::time_point next_tick_;
    std::string scratch_;                           // record being built for a ring
    std::vector<subscription*> targets_scratch_;    // deliver_local's target list

    // control tasks
    std::mutex control_mu_;
    std::vector<std::function<void(shard&)>> control_;
    std::atomic<bool> control_pending_{false};

    // lame duck
    bool lame_duck_ = false;
    clock::time_point ldm_close_from_, ldm_close_until_;

    // Back-pressure: while this shard's ring overflow is over the high
    // watermark it stops reading from its clients (recv buffers are held,
    // multishot recvs run dry, TCP pushes back); nothing is dropped.
    std::size_t overflow_bytes_ = 0;
    bool paused_ = false;
    struct held_input {
        std::uint32_t slot, gen;
        unsigned bid;
        std::uint32_t len;
    };
    std::deque<held_input> held_;

    // Publish-to-write latency (monitoring). Last, so that adding it left
    // the layout of everything above (and its cache-line sharing) unchanged.
    latency_histogram latency_;
    std::uint32_t sample_tick_ = 0;
};

} // namespace natrix::broker
