#pragma once
// /connz: open client connections, with nats-server's query options
// (sort, offset, limit, subs, cid) and JSON shape.
//
// Each shard lists its own connections on its thread (read_connections, in
// a server::collect task), already sorted and cut to offset+limit; the
// monitor thread merges the shards' lists (merge_connections) and renders.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/monitor/query_params.hh>

namespace natrix::broker {
class shard_view;
}

namespace natrix::monitor {

// nats-server 2.9.10's keys for open connections (no rtt sort in 2.9).
enum class connz_sort {
    cid,
    start,
    subs,
    pending,
    msgs_to,
    msgs_from,
    bytes_to,
    bytes_from,
    last,
    idle,
    uptime
};
enum class subs_mode { none, list, detail };

struct connz_options {
    connz_sort sort = connz_sort::cid;
    subs_mode subs = subs_mode::none;
    std::size_t offset = 0;
    std::size_t limit = 1024; // nats-server's DefaultConnListSize
    std::uint64_t cid = 0;    // only this connection (0: all)
    bool auth = false;        // auth=1: who each client is, and its account
};

// Fills *out from the query; false with a nats-server-style message (an HTTP
// 400 body) for a bad value or an unsupported option (state=closed).
bool parse_connz_options(const query_params& q, connz_options* out, std::string* error);

// One subscription as monitoring reports it (also used by /subsz).
struct sub_info {
    std::string subject, queue, sid;
    std::uint64_t msgs = 0;
    std::int64_t max = 0;
    std::uint64_t cid = 0;
    std::string account; // /subsz names it (nats-server's SubDetail); empty: omitted
};
class json_writer;
// One subscription's detail object, as /connz?subs=detail and /subsz write it.
void write_sub_detail(json_writer& w, const sub_info& s);

struct conn_info {
    std::uint64_t cid = 0;
    std::string ip;
    int port = 0;
    std::chrono::steady_clock::time_point start, last_activity;
    std::chrono::nanoseconds rtt{0};
    std::uint64_t pending_bytes = 0;
    std::uint64_t in_msgs = 0, out_msgs = 0, in_bytes = 0, out_bytes = 0;
    std::uint32_t num_subs = 0;
    std::string name, lang, version;
    std::string authorized_user, account; // with auth=1; account omitted for $G
    std::vector<sub_info> subs;           // only with subs=1/detail, sorted by sid
};

struct shard_connections {
    std::vector<conn_info> conns; // sorted, at most offset+limit
    std::size_t open = 0;         // every open connection on the shard
};

// On the shard's thread only.
shard_connections read_connections(const broker::shard_view& s, const connz_options& o);

// Orders by the sort key (nats-server's direction: cid and start ascending,
// everything else largest first), ties by cid.
void sort_connections(std::vector<conn_info>& conns, connz_sort by);
// sid order: numeric when both are numbers, else bytewise.
bool sid_less(std::string_view a, std::string_view b);

struct connz_page {
    std::vector<conn_info> conns; // the page: [offset, offset+limit)
    std::size_t total = 0;        // open connections server-wide
};
connz_page merge_connections(std::vector<shard_connections> shards, const connz_options& o);

// Connection times are steady-clock readings: shown as wall-clock times by
// adding `wall_offset` (system minus steady, taken once so that a
// connection's start reads the same in every answer); uptime and idle are
// measured against steady_now.
std::string render_connz(std::string_view server_id, std::chrono::system_clock::time_point now,
                         std::chrono::steady_clock::time_point steady_now,
                         std::chrono::system_clock::duration wall_offset, const connz_options& o,
                         const connz_page& page);

} // namespace natrix::monitor
