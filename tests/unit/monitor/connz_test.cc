#include <gtest/gtest.h>
#include <simdjson.h>

#include <natrix/monitor/connz.hh>

namespace natrix::monitor {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

connz_options opts(std::string_view query, std::string* err = nullptr) {
    const query_params q = query_params::parse(query);
    connz_options o;
    std::string e;
    const bool ok = parse_connz_options(q, &o, &e);
    if (err)
        *err = ok ? "" : e;
    else
        EXPECT_TRUE(ok) << e;
    return o;
}

TEST(connz_options, defaults) {
    const connz_options o = opts("");
    EXPECT_EQ(o.sort, connz_sort::cid);
    EXPECT_EQ(o.subs, subs_mode::none);
    EXPECT_EQ(o.offset, 0u);
    EXPECT_EQ(o.limit, 1024u);
    EXPECT_EQ(o.cid, 0u);
}

TEST(connz_options, every_sort_key) {
    const std::pair<const char*, connz_sort> keys[] = {
        {"cid", connz_sort::cid},           {"start", connz_sort::start},
        {"subs", connz_sort::subs},         {"pending", connz_sort::pending},
        {"msgs_to", connz_sort::msgs_to},   {"msgs_from", connz_sort::msgs_from},
        {"bytes_to", connz_sort::bytes_to}, {"bytes_from", connz_sort::bytes_from},
        {"last", connz_sort::last},         {"idle", connz_sort::idle},
        {"uptime", connz_sort::uptime},
    };
    for (const auto& [name, by] : keys)
        EXPECT_EQ(opts(std::string("sort=") + name).sort, by) << name;
    std::string err;
    opts("sort=rtt", &err); // not in 2.9.10
    EXPECT_EQ(err, "invalid sorting option: rtt");
}

TEST(connz_options, subs_limit_offset_cid) {
    EXPECT_EQ(opts("subs=1").subs, subs_mode::list);
    EXPECT_EQ(opts("subs=true").subs, subs_mode::list);
    EXPECT_EQ(opts("subs=0").subs, subs_mode::none);
    EXPECT_EQ(opts("subs=detail").subs, subs_mode::detail);
    const connz_options o = opts("limit=5&offset=7&cid=42&state=open");
    EXPECT_EQ(o.limit, 5u);
    EXPECT_EQ(o.offset, 7u);
    EXPECT_EQ(o.cid, 42u);
    EXPECT_EQ(opts("limit=0").limit, 1024u); // nats-server: 0 means the default
}

TEST(connz_options, errors_carry_nats_server_messages) {
    std::string err;
    opts("sort=bogus", &err);
    EXPECT_EQ(err, "invalid sorting option: bogus");
    opts("sort=CID", &err); // sort keys are case-sensitive in nats-server
    EXPECT_EQ(err, "invalid sorting option: CID");
    opts("sort=stop", &err);
    EXPECT_EQ(err, "sort by stop only valid on closed connections");
    opts("sort=reason&state=any", &err);
    EXPECT_EQ(err, "sort by reason only valid on closed connections");
    opts("limit=abc", &err);
    EXPECT_EQ(err, "Error decoding int for 'limit': strconv.Atoi: parsing \"abc\": invalid syntax");
    opts("subs=maybe", &err);
    EXPECT_EQ(err,
              "Error decoding boolean for 'subs': strconv.ParseBool: parsing \"maybe\": invalid "
              "syntax");
    opts("cid=-1", &err);
    EXPECT_EQ(err, "Error decoding uint64 for 'cid': strconv.ParseUint: parsing \"-1\": invalid "
                   "syntax");
    opts("cid=99999999999999999999", &err);
    EXPECT_EQ(err, "Error decoding uint64 for 'cid': strconv.ParseUint: parsing "
                   "\"99999999999999999999\": value out of range");
    opts("state=bogus", &err);
    EXPECT_EQ(err, "Error decoding state for bogus");
    opts("state=closed", &err);
    EXPECT_NE(err.find("not supported"), std::string::npos);
}

TEST(connz_options, negative_paging_reads_as_the_defaults) {
    // nats-server 2.9.10 (Connz): offset < 0 -> 0, limit <= 0 -> 1024.
    connz_options o = opts("offset=-1&limit=-1");
    EXPECT_EQ(o.offset, 0u);
    EXPECT_EQ(o.limit, 1024u);
    o = opts("offset=-5&limit=1");
    EXPECT_EQ(o.offset, 0u);
    EXPECT_EQ(o.limit, 1u);
    EXPECT_EQ(opts("cid=0").cid, 0u); // 0: every connection
    EXPECT_EQ(opts("cid=").cid, 0u);
    EXPECT_EQ(opts("cid=00042").cid, 42u);
    EXPECT_EQ(opts("cid=18446744073709551615").cid, 18446744073709551615u);
    // A pair Go's query parser drops is as if absent.
    EXPECT_EQ(opts("offset=%zz&limit=2").limit, 2u);
}

TEST(connz_options, first_complaint_in_nats_server_order) {
    // HandleConnz decodes auth, subs, offset, limit, cid, state; Connz then
    // checks the sort key.
    std::string err;
    opts("sort=bogus&auth=x", &err);
    EXPECT_EQ(err.rfind("Error decoding boolean for 'auth'", 0), 0u) << err;
    opts("sort=bogus&offset=x", &err);
    EXPECT_EQ(err.rfind("Error decoding int for 'offset'", 0), 0u) << err;
    opts("cid=-1&limit=x", &err);
    EXPECT_EQ(err.rfind("Error decoding int for 'limit'", 0), 0u) << err;
    opts("sort=bogus&state=bogus", &err);
    EXPECT_EQ(err, "Error decoding state for bogus");
    opts("state=bogus&cid=x", &err);
    EXPECT_EQ(err.rfind("Error decoding uint64 for 'cid'", 0), 0u) << err;
    opts("sort=bogus&state=closed", &err);
    EXPECT_EQ(err, "invalid sorting option: bogus");
}

TEST(connz_options, words_compared_like_nats_server) {
    // state and subs=detail are lowered first (strings.ToLower).
    EXPECT_EQ(opts("subs=DETAIL").subs, subs_mode::detail);
    EXPECT_EQ(opts("state=ALL").cid, 0u);
    EXPECT_EQ(opts("state=Open").cid, 0u);
    EXPECT_EQ(opts("state=any").cid, 0u);
}

conn_info conn(std::uint64_t cid, steady::time_point base, int start_s, int last_s,
               std::uint64_t in_msgs, std::uint64_t out_msgs, std::uint32_t subs,
               std::uint64_t pending, int rtt_us) {
    conn_info c;
    c.cid = cid;
    c.start = base + std::chrono::seconds(start_s);
    c.last_activity = base + std::chrono::seconds(last_s);
    c.in_msgs = in_msgs;
    c.in_bytes = in_msgs * 10;
    c.out_msgs = out_msgs;
    c.out_bytes = out_msgs * 10;
    c.num_subs = subs;
    c.pending_bytes = pending;
    c.rtt = std::chrono::microseconds(rtt_us);
    return c;
}

std::vector<std::uint64_t> cids(const std::vector<conn_info>& v) {
    std::vector<std::uint64_t> out;
    for (const auto& c : v) out.push_back(c.cid);
    return out;
}

TEST(connz_sort, directions_match_nats_server) {
    const auto b = steady::now();
    std::vector<conn_info> v = {
        conn(3, b, 2, 5, 10, 1, 2, 0, 300),
        conn(1, b, 3, 9, 30, 5, 1, 50, 100),
        conn(2, b, 1, 7, 20, 9, 3, 10, 200),
    };
    const auto sorted = [&](connz_sort by) {
        auto w = v;
        sort_connections(w, by);
        return cids(w);
    };
    using V = std::vector<std::uint64_t>;
    EXPECT_EQ(sorted(connz_sort::cid), (V{1, 2, 3}));
    EXPECT_EQ(sorted(connz_sort::start), (V{2, 3, 1}));  // oldest first
    EXPECT_EQ(sorted(connz_sort::uptime), (V{2, 3, 1})); // longest up first
    EXPECT_EQ(sorted(connz_sort::subs), (V{2, 3, 1}));   // most first
    EXPECT_EQ(sorted(connz_sort::pending), (V{1, 2, 3}));
    EXPECT_EQ(sorted(connz_sort::msgs_from), (V{1, 2, 3}));
    EXPECT_EQ(sorted(connz_sort::bytes_from), (V{1, 2, 3}));
    EXPECT_EQ(sorted(connz_sort::msgs_to), (V{2, 1, 3}));
    EXPECT_EQ(sorted(connz_sort::bytes_to), (V{2, 1, 3}));
    EXPECT_EQ(sorted(connz_sort::last), (V{1, 2, 3})); // most recent first
    EXPECT_EQ(sorted(connz_sort::idle), (V{3, 2, 1})); // longest idle first
}

TEST(connz_sort, ties_fall_back_to_cid) {
    const auto b = steady::now();
    std::vector<conn_info> v = {conn(9, b, 0, 0, 1, 1, 1, 0, 0), conn(4, b, 0, 0, 1, 1, 1, 0, 0),
                                conn(6, b, 0, 0, 1, 1, 1, 0, 0)};
    sort_connections(v, connz_sort::msgs_from);
    EXPECT_EQ(cids(v), (std::vector<std::uint64_t>{4, 6, 9}));
}

TEST(connz_merge, pages_across_shards) {
    const auto b = steady::now();
    // Two shards, each already sorted by msgs_from and cut to offset+limit.
    connz_options o;
    o.sort = connz_sort::msgs_from;
    o.offset = 1;
    o.limit = 2;
    shard_connections s0, s1;
    s0.conns = {conn(1, b, 0, 0, 50, 0, 0, 0, 0), conn(3, b, 0, 0, 10, 0, 0, 0, 0)};
    s0.open = 4;
    s1.conns = {conn(2, b, 0, 0, 40, 0, 0, 0, 0), conn(4, b, 0, 0, 30, 0, 0, 0, 0)};
    s1.open = 3;
    const connz_page p = merge_connections({s0, s1}, o);
    EXPECT_EQ(p.total, 7u);
    EXPECT_EQ(cids(p.conns), (std::vector<std::uint64_t>{2, 4}));
    o.offset = 10;
    EXPECT_TRUE(merge_connections({s0, s1}, o).conns.empty());
}

TEST(connz_sid, numeric_order_when_numeric) {
    EXPECT_TRUE(sid_less("2", "10"));
    EXPECT_FALSE(sid_less("10", "2"));
    EXPECT_TRUE(sid_less("a", "b"));
    EXPECT_TRUE(sid_less("10", "a"));
}

TEST(connz_render, shape_and_values) {
    const auto b = steady::now();
    connz_page page;
    page.total = 5;
    conn_info c = conn(7, b, 0, 3, 2, 4, 2, 0, 407);
    c.ip = "127.0.0.1";
    c.port = 5555;
    c.name = "svc";
    c.lang = "go";
    c.version = "1.2";
    c.subs = {{"foo", "", "1", 3, 0, 7}, {"bar", "q", "2", 1, 10, 7}};
    page.conns.push_back(c);
    conn_info bare = conn(8, b, 1, 1, 0, 0, 0, 0, 0);
    bare.ip = "::1";
    page.conns.push_back(bare);
    const auto now = std::chrono::system_clock::now();
    const auto offset =
        now.time_since_epoch() -
        std::chrono::duration_cast<std::chrono::system_clock::duration>(b.time_since_epoch());
    for (subs_mode m : {subs_mode::none, subs_mode::list, subs_mode::detail}) {
        connz_options o;
        o.subs = m;
        const std::string s = render_connz("NID", now, b + 65s, offset, o, page);
        simdjson::dom::parser p;
        simdjson::dom::element d;
        ASSERT_EQ(p.parse(s).get(d), simdjson::SUCCESS) << s;
        EXPECT_EQ(std::string_view(d["server_id"]), "NID");
        EXPECT_EQ(std::uint64_t(d["num_connections"]), 2u);
        EXPECT_EQ(std::uint64_t(d["total"]), 5u);
        EXPECT_EQ(std::uint64_t(d["limit"]), 1024u);
        simdjson::dom::element c0 = d["connections"].at(0);
        EXPECT_EQ(std::uint64_t(c0["cid"]), 7u);
        EXPECT_EQ(std::string_view(c0["kind"]), "Client");
        EXPECT_EQ(std::string_view(c0["rtt"]), "407\xc2\xb5s");
        EXPECT_EQ(std::string_view(c0["uptime"]), "1m5s");
        EXPECT_EQ(std::string_view(c0["idle"]), "1m2s");
        EXPECT_EQ(std::string_view(c0["name"]), "svc");
        EXPECT_EQ(std::uint64_t(c0["in_msgs"]), 2u);
        EXPECT_EQ(std::uint64_t(c0["out_bytes"]), 40u);
        EXPECT_EQ(std::uint64_t(c0["subscriptions"]), 2u);
        // start is the steady reading shifted by the offset.
        const std::string_view start = c0["start"];
        EXPECT_EQ(start.back(), 'Z');
        simdjson::dom::element c1 = d["connections"].at(1);
        // Empty name/lang/version are left out (omitempty).
        EXPECT_EQ(c1["name"].error(), simdjson::NO_SUCH_FIELD);
        EXPECT_EQ(c1["lang"].error(), simdjson::NO_SUCH_FIELD);
        EXPECT_EQ(c1["subscriptions_list"].error(), simdjson::NO_SUCH_FIELD);
        if (m == subs_mode::none) {
            EXPECT_EQ(c0["subscriptions_list"].error(), simdjson::NO_SUCH_FIELD);
            EXPECT_EQ(c0["subscriptions_list_detail"].error(), simdjson::NO_SUCH_FIELD);
        } else if (m == subs_mode::list) {
            EXPECT_EQ(std::string_view(c0["subscriptions_list"].at(1)), "bar");
        } else {
            simdjson::dom::element q = c0["subscriptions_list_detail"].at(1);
            EXPECT_EQ(std::string_view(q["qgroup"]), "q");
            EXPECT_EQ(std::int64_t(q["max"]), 10);
            EXPECT_EQ(c0["subscriptions_list_detail"].at(0)["qgroup"].error(),
                      simdjson::NO_SUCH_FIELD);
        }
    }
}

TEST(connz_render, cid_filter_reports_limit_one) {
    connz_options o;
    o.cid = 3;
    const std::string s =
        render_connz("N", std::chrono::system_clock::now(), steady::now(), {}, o, {});
    simdjson::dom::parser p;
    simdjson::dom::element d;
    ASSERT_EQ(p.parse(s).get(d), simdjson::SUCCESS);
    EXPECT_EQ(std::uint64_t(d["limit"]), 1u);
    EXPECT_EQ(simdjson::dom::array(d["connections"]).size(), 0u);
}

} // namespace
} // namespace natrix::monitor
