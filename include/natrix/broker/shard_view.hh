#pragma once
// What monitoring may read of a shard: copies of its connections and
// subscriptions, and its counters. The only broker header src/monitor needs
// besides server.hh; it never sees a session.
//
// A shard_view is used on the shard's own thread, inside a control task
// (server::collect), so what it copies is consistent.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/broker/broker_config.hh>
#include <natrix/broker/latency_histogram.hh>
#include <natrix/broker/shard_stats.hh>
#include <natrix/subjects/subject_trie.hh>

namespace natrix::broker {

struct subscription_info {
    std::string subject, queue, sid;
    std::uint64_t msgs = 0;
    std::int64_t max = 0;
    std::uint64_t cid = 0;
    std::string account;
};

struct connection_info {
    std::uint64_t cid = 0;
    std::string ip;
    int port = 0;
    std::chrono::steady_clock::time_point start, last_activity;
    std::chrono::nanoseconds rtt{0};
    std::uint64_t pending_bytes = 0;
    std::uint64_t in_msgs = 0, out_msgs = 0, in_bytes = 0, out_bytes = 0;
    std::uint32_t num_subs = 0;
    std::string name, lang, version;
    std::string user;
    std::string account;      // empty for the global account ($G)
    std::uint64_t handle = 0; // for subscriptions_of
};

// A route or gateway this shard holds, for /routez and /gatewayz.
struct route_info_view {
    char kind = 'r';          // 'r' route, 'o' outbound gateway, 'i' inbound gateway
    std::string gateway;      // gateways: the remote cluster
    std::uint64_t serial = 0; // the cluster (or gateway) manager's rid
    std::string remote_id, remote_name, ip;
    int port = 0;
    bool solicited = false;
    std::chrono::steady_clock::time_point start, last_activity;
    std::chrono::nanoseconds rtt{0};
    std::uint64_t pending_bytes = 0;
    std::uint64_t in_msgs = 0, out_msgs = 0, in_bytes = 0, out_bytes = 0;
    std::uint64_t subscriptions = 0; // interest it told us
    std::uint32_t pausers = 0;       // our subscribers holding it paused (flow control)
};

class shard_view {
public:
    virtual ~shard_view() = default;
    virtual unsigned id() const noexcept = 0;
    virtual const broker_config& config() const noexcept = 0;
    // Open connections (only `cid`'s when not 0), without their subscriptions.
    virtual std::vector<connection_info> connections(std::uint64_t cid = 0) const = 0;
    virtual std::vector<subscription_info> subscriptions_of(const connection_info& c) const = 0;
    // Every client subscription whose subject matches `test` (all when empty).
    virtual std::vector<subscription_info> subscriptions(std::string_view test = {}) const = 0;
    virtual std::vector<route_info_view> routes() const = 0;

    virtual const shard_stats& stats() const noexcept = 0;
    virtual subjects::trie_stats subscription_stats() const noexcept = 0;
    virtual std::size_t ring_bytes_in_use() const noexcept = 0;
    virtual std::size_t overflow_bytes() const noexcept = 0;
    virtual latency_histogram::snapshot publish_latency() const noexcept = 0;
};

} // namespace natrix::broker
