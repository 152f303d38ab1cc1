#pragma once
// Server options and how a parsed config tree maps onto them, following
// nats-server's option names, aliases, defaults and checks (server/opts.go).
// Built by the control thread at start-up (and on reload), then copied to
// whoever needs them; plain data, no shared mutable state.
//
// Key classes in a config file:
//  - supported: the fields below (top-level keys are case-insensitive, as in
//    nats-server; later keys override earlier ones);
//  - unsupported: keys nats-server knows that natrix does not implement yet
//    (gateway, jetstream, websocket, ...). They are accepted so that a
//    nats-server config loads, each one yields a warning for the caller to
//    log, and ignored_keys lists them (for /varz): they are never silently
//    "working";
//  - fail-closed: unsupported keys that, ignored, would let clients in
//    unauthenticated or carry traffic in plain text (operator, resolver,
//    trusted_keys, auth_callout, tls anywhere, the authorization of
//    gateway/leafnodes/websocket/mqtt): errors, so that natrix
//    refuses to start (docs/decisions/0010-fail-closed-security-keys.md);
//  - unknown: an error, like nats-server, unless the key was used as a
//    `$variable` or `natrix { strict_config: false }` turns these into warnings.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/cluster/cluster_config.hh>
#include <natrix/cluster/gateway_config.hh>
#include <natrix/config/config_value.hh>
#include <natrix/config/security_options.hh>
#include <natrix/tls/tls_config.hh>

namespace natrix::config {

using duration = std::chrono::nanoseconds;

// The `natrix { ... }` block: knobs nats-server does not have.
struct natrix_tuning {
    std::uint32_t shards = 0;              // 0 = one shard per allowed core
    std::vector<int> cpus;                 // empty = every core the process may run on
    std::string idle_strategy = "backoff"; // spin | backoff | sleep
    std::uint32_t spin_us = 50;            // busy-poll time before an idle shard sleeps (backoff)
    // Bytes of each shard-to-shard SPSC ring; a power of two (1 KiB .. 1 GiB).
    std::uint32_t ring_capacity = 65536;
    // io: the I/O backend, `io: uring|epoll|auto` or `io { backend: ... }`
    // (auto: io_uring where available, else epoll with a warning).
    std::string io_backend = "auto";
    // io { }: the per-shard receive buffers (io_uring's provided-buffer ring).
    std::uint32_t recv_buffer_size = 65536; // bytes per buffer (1 KiB .. 16 MiB)
    std::uint32_t recv_buffer_count = 256;  // buffers per shard; power of two <= 32768 (io_uring)
    // Slow consumers: "throttle" slows publishers to their subscribers'
    // pace and cuts a subscriber that stops reading after stall_timeout;
    // "evict" never slows a publisher and cuts at max_pending.
    std::string slow_consumer = "throttle";
    std::chrono::nanoseconds stall_timeout = std::chrono::seconds(2);
    // false: unknown keys are warnings instead of errors.
    bool strict_config = true;
};

struct server_options {
    std::string host = "0.0.0.0";
    int port = 4222; // 0 = any free port (config/flag value -1, as nats-server)
    std::string server_name;
    std::int64_t max_payload = 1 << 20;
    std::int64_t max_pending = 64 << 20;
    int max_connections = 65536;
    int max_subscriptions = 0; // 0 = unlimited
    int max_control_line = 4096;
    duration ping_interval = std::chrono::minutes(2);
    int ping_max = 2;
    duration write_deadline = std::chrono::seconds(10);
    bool debug = false;
    bool trace = false;
    int max_traced_msg_len = 0; // traced payloads longer than this are cut (<= 0: whole)
    bool logtime = true;
    std::string log_file; // empty = stderr
    std::string pid_file;
    std::string http_host = "0.0.0.0"; // follows `host` unless `http: host:port` names one
    int http_port = 0;                 // 0 = monitoring off; -1 = any free port (as nats-server)
    duration lame_duck_duration = std::chrono::minutes(2);
    duration lame_duck_grace_period = std::chrono::seconds(10);
    duration auth_timeout = std::chrono::seconds(2); // authorization { timeout }
    security_options security;                       // authorization {}, accounts {}, no_auth_user
    // client_advertise: "host[:port]" other servers give clients
    // (connect_urls); empty = the listen address.
    std::string client_advertise;
    // cluster {} and --cluster, --routes, --cluster_name, ... (cluster_options.hh).
    cluster::cluster_config cluster;
    // tls {} (and --tls, --tlscert, ...): TLS for clients.
    tls::tls_config tls;
    bool allow_non_tls = false; // with tls: plain-text clients are welcome too
    // gateway {} (gateway_options.hh): superclusters.
    cluster::gateway_config gateway;
    natrix_tuning natrix;
    std::string config_file; // empty = the built-in default
    // What natrix accepted but ignores, in the order met, each once: the
    // unsupported keys as dotted paths ("gateway", "accounts.A.jetstream",
    // "authorization.users.allowed_connection_types"), unknown keys let
    // through by strict_config: false, and unsupported flags ("-js").
    // /varz shows them as natrix.ignored_config_keys.
    std::vector<std::string> ignored_keys;
    // The whole parsed file, for options that later modules read themselves
    // (authorization {}, accounts {}, ...). Never null after loading.
    std::shared_ptr<const value> tree;
};

struct config_warning {
    std::string key;  // the top-level key or flag concerned, e.g. "cluster", "--user"
    std::string text; // "file:line:col: message" (or just the message for flags)
};

struct options_result {
    server_options options;
    std::vector<config_warning> warnings;
    std::vector<std::string> errors; // each "file:line:col: message"
    bool ok() const noexcept { return errors.empty(); }
    std::string error_text() const; // errors joined with '\n'
};

// A config equivalent to server_options' defaults; what natrix runs with
// when no -c FILE is given. Loading it yields exactly the defaults.
extern const std::string_view builtin_default_config;

// Maps a parsed tree onto options (starting from the defaults). Per-key
// checks only; call validate_options() after applying flags.
options_result options_from_tree(std::shared_ptr<const value> root, std::string config_file);

// Checks that span several options (max_payload <= max_pending, lame duck
// grace < duration, shards vs cpus). Returns the errors, empty when fine.
std::vector<std::string> validate_options(const server_options& options);

// True when the tree's `http` key names a monitoring host; otherwise the
// monitoring listener follows `host` (and so the -a flag), as in nats-server.
bool config_sets_http_host(const value& root);

// Parse + options_from_tree + validate_options.
options_result load_config_file(const std::string& path);
options_result load_config_string(std::string_view text, std::string_view source_name);

} // namespace natrix::config
