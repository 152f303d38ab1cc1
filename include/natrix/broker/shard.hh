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
#include <natrix/broker/broker_config.hh>
#include <natrix/broker/client_connection.hh>
#include <natrix/protocol/errors.hh>
#include <natrix/rings/spsc_ring.hh>
#include <natrix/subjects/interest_map.hh>
#include <natrix/subjects/subject_trie.hh>

#include <atomic>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

struct io_uring;
struct io_uring_buf_ring;

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
    shard_counter ring_records_out, ring_full, wakeups_sent;
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
    const shard_stats& stats() const noexcept { return stats_; }
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
    void handle_sub(client_connection& c, const protocol::parsed_op& op);
    void handle_unsub(client_connection& c, const protocol::parsed_op& op);
    void remove_subscription(client_connection& c, subscription* s);
    void send_err(client_connection& c, protocol::proto_error e);
    void close_after_flush(client_connection& c);
    void append(client_connection& c, std::string_view bytes);
    void send_info(client_connection& c);

    // ---- routing (shard_routing.cc) ----
    // One published message as it travels: the sizes as the publisher
    // spelled them ride along, since MSG echoes them.
    struct message {
        std::string_view subject, reply, payload;
        std::uint32_t header_size = 0;
        std::string_view size_text, header_size_text;
    };
    void publish(client_connection* from, std::string_view subject, std::string_view reply,
                 std::string_view payload, std::uint32_t header_size, std::string_view size_text,
                 std::string_view header_size_text);
    bool deliver_local(client_connection* from, const message& m, bool plain,
                       const std::vector<std::string_view>& queues);
    void deliver(subscription* s, const message& m);
    void change_interest(std::string_view subject, std::string_view queue, int delta);
    void push_record(unsigned to, std::uint32_t type, std::string_view body);
    void flush_rings();
    bool drain_inboxes();
    void on_record(std::uint32_t type, std::string_view body);
    bool rings_pending() const noexcept;

    unsigned id_;
    unsigned nshards_;
    server& srv_;
    const broker_config& cfg_;
    shard_stats stats_;
    std::atomic<int> bound_port_{0};
    std::atomic<bool> started_{false};
    std::string start_error_;

    // io
    std::unique_ptr<io_uring> ring_;
    io_uring_buf_ring* buf_ring_ = nullptr;
    std::unique_ptr<char[]> buffers_;
    unsigned buf_mask_ = 0;
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

    // subjects
    subjects::subject_trie trie_;
    subjects::interest_map interest_;
    std::unordered_map<std::string, std::uint32_t> local_interest_; // pattern '\0' queue -> count

    // rings: inbox_[p] is written by shard p; outbox(t) is shards[t]->inbox(id_)
    std::vector<std::unique_ptr<rings::spsc_ring>> inbox_;
    std::vector<std::deque<std::string>> overflow_; // per destination, when its ring is full
    std::vector<bool> touched_;                     // destinations with unpublished records
    std::atomic<bool> sleeping_{false};
    std::mt19937_64 rng_;

    clock::time_point next_tick_;
    std::string scratch_;
};

} // namespace natrix::broker
