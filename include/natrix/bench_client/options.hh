#pragma once
// natrix-bench's command line: the scenario, the servers and every knob, parsed and validated up
// front so a bad invocation fails with a usage message (exit 2) before any connection is made.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace natrix::bench_client {

enum class scenario {
    pub,          // publish only
    sub,          // subscribe only, to an external publisher
    pubsub,       // N publishers, M subscribers, one or several subjects
    fanout,       // 1 publisher, M subscribers on one subject
    queue,        // publishers to one queue group of M members
    reqrep,       // N requesters, M responders (queue group), closed loop
    latency,      // open loop at a fixed rate, latency from the intended send time
    conns,        // many idle or lightly loaded connections
    tcp_bulk,     // loopback TCP stream, no broker: the machine's throughput ceiling
    tcp_pingpong, // loopback TCP ping-pong, no broker: the machine's round-trip floor
};

std::string_view scenario_name(scenario s) noexcept;
bool scenario_from_name(std::string_view name, scenario& out) noexcept;

struct server_url {
    std::string host; // name or address; IPv6 without brackets
    std::uint16_t port = 4222;
    std::string user; // from nats://user:pass@host
    std::string pass;
    std::string token; // from nats://token@host
    std::string text() const;
};

// Parses nats://[user[:pass]@]host[:port] (scheme optional, [v6] hosts allowed).
bool parse_server_url(std::string_view text, server_url& out, std::string& error);

struct bench_options {
    scenario kind = scenario::pubsub;
    std::vector<server_url> servers; // clients are spread over them round-robin
    std::string user, pass, token;   // override credentials in the URLs
    // --nkey-seed / --nkey-seed-file: a user seed ("SU..."), checked when parsed. Every
    // connection sends its public key and signs the INFO nonce with it (nats-server's nkey users).
    std::string nkey_seed;
    std::string subject = "natrix.bench";
    int subjects = 1;         // pubsub: publisher i and subscriber j use subject i%K / j%K
    int pubs = 1;             // publishers (requesters for reqrep)
    int subs = 1;             // subscribers (members for queue, responders for reqrep)
    int clients = 100;        // conns
    std::uint64_t size = 128; // payload bytes
    std::uint64_t count = 0;  // total messages (requests); 0 = run for duration
    double duration_s = 0;    // measured time; 0 with count = 0 means 5 s
    double rate = 0;          // total msgs/s over all publishers; 0 = as fast as possible
    double warmup_s = 0;      // traffic before the measured window, not reported
    bool headers = false;     // HPUB/HMSG with a small header block
    std::vector<int> cpus;    // threads are pinned round-robin to these
    std::uint64_t batch_bytes = 64 * 1024; // publisher write size
    std::uint64_t max_inflight = 0;        // flow-control window in messages; 0 = automatic
    double drain_timeout_s = 5;            // wait for stragglers after publishing ends
    double ping_interval_s = 1;            // conns: PING every connection this often
    std::string queue_group = "natrix-bench";
    bool json = false;
    bool allow_loss = false;
    bool progress = true;

    // Effective measured duration (5 s when neither count nor duration was given).
    double run_seconds() const noexcept {
        return (duration_s == 0 && count == 0) ? 5.0 : duration_s;
    }
};

struct parse_result {
    bool ok = false;
    bool help = false; // --help: print usage to stdout, exit 0
    std::string error; // set when !ok && !help
    bench_options options;
};

// argv[0] is the program name.
parse_result parse_args(int argc, const char* const* argv);
std::string usage_text();

// Value parsers, exposed for tests. Each returns false on malformed or out-of-range text.
bool parse_size(std::string_view text, std::uint64_t& out);        // 128, 1K, 1KiB, 4M
bool parse_count(std::string_view text, std::uint64_t& out);       // 100000, 100k, 2M (decimal)
bool parse_rate(std::string_view text, double& out);               // 5000, 50k, 1.5M
bool parse_duration(std::string_view text, double& seconds);       // 2, 2s, 500ms, 100us, 1m
bool parse_cpu_list(std::string_view text, std::vector<int>& out); // 0,1 or 0-3,8

} // namespace natrix::bench_client
