// Superclusters: clusters joined by gateways in interest-only mode. Clusters
// A and B have two servers each (a route between them), C has one. Every
// server is natrix (NATRIX_BIN) or nats-server 2.9 (NATS_SERVER_BIN), by
// cluster, so the same cases run on an all-nats-server supercluster (which
// proves the cases), an all-natrix one and mixed ones. Clients are nats.c.
//
// Parametrisations (kinds of A, B, C):
//   all_nats        nats-server everywhere
//   all_natrix      natrix everywhere
//   mixed_natrix_a  A natrix, B nats-server, C natrix
//   mixed_nats_a    A nats-server, B natrix, C nats-server
// NATRIX_SUPERCLUSTER_SKIP_NATRIX=1 skips every parametrisation with natrix;
// NATRIX_TEST_IO and NATRIX_CLUSTER_SHARDS pass --io and --shards to natrix.
// A failing case prints each server's last log lines and keeps configs and
// logs in /tmp/natrix-supercluster-*.
#include "cluster_harness.hh"

namespace natrix::test {
namespace {

struct sc_param {
    std::string name;
    node_kind a, b, c;
};

void PrintTo(const sc_param& p, std::ostream* os) {
    *os << p.name;
}

std::vector<sc_param> sc_params() {
    using enum node_kind;
    return {
        {"all_nats", nats, nats, nats},
        {"all_natrix", natrix, natrix, natrix},
        {"mixed_natrix_a", natrix, nats, natrix},
        {"mixed_nats_a", nats, natrix, nats},
    };
}

// One server's gateways as its /gatewayz shows them.
struct gatewayz_view {
    bool ok = false;
    std::map<std::string, std::string> outbound; // remote cluster -> remote server id
    std::map<std::string, std::size_t> inbound;  // remote cluster -> connections
    std::int64_t inbound_msgs = 0, outbound_msgs = 0;
    std::string body;
};

gatewayz_view get_gatewayz(int http_port) {
    gatewayz_view v;
    const http_answer a = http_get(http_port, "/gatewayz");
    v.body = a.body;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (a.status != 200 || parser.parse(a.body).get(root) != simdjson::SUCCESS) return v;
    simdjson::dom::object out, in;
    if (root["outbound_gateways"].get(out) != simdjson::SUCCESS ||
        root["inbound_gateways"].get(in) != simdjson::SUCCESS)
        return v;
    for (auto [name, g] : out) {
        std::string_view sid;
        std::int64_t n = 0;
        if (g["connection"]["name"].get(sid) == simdjson::SUCCESS)
            v.outbound[std::string(name)] = std::string(sid);
        if (g["connection"]["out_msgs"].get(n) == simdjson::SUCCESS) v.outbound_msgs += n;
    }
    for (auto [name, list] : in) {
        simdjson::dom::array arr;
        if (list.get(arr) != simdjson::SUCCESS) continue;
        for (simdjson::dom::element g : arr) {
            ++v.inbound[std::string(name)];
            std::int64_t n = 0;
            if (g["connection"]["in_msgs"].get(n) == simdjson::SUCCESS) v.inbound_msgs += n;
        }
    }
    v.ok = true;
    return v;
}

class supercluster : public ::testing::TestWithParam<sc_param> {
protected:
    // a1 a2 | b1 b2 | c1
    static constexpr std::size_t a1 = 0, a2 = 1, b1 = 2, b2 = 3, c1 = 4, count = 5;

    void SetUp() override {
        const sc_param& p = GetParam();
        kinds_ = {p.a, p.a, p.b, p.b, p.c};
        const bool has_natrix = std::count(kinds_.begin(), kinds_.end(), node_kind::natrix) > 0;
        const bool has_nats = std::count(kinds_.begin(), kinds_.end(), node_kind::nats) > 0;
        if (has_natrix) {
            if (const char* s = std::getenv("NATRIX_SUPERCLUSTER_SKIP_NATRIX");
                s && std::string(s) == "1")
                GTEST_SKIP() << "NATRIX_SUPERCLUSTER_SKIP_NATRIX=1";
            ASSERT_EQ(::access(natrix_bin().c_str(), X_OK), 0)
                << "natrix binary '" << natrix_bin() << "' not executable (set NATRIX_BIN)";
        }
        if (has_nats && ::access(nats_server_bin().c_str(), X_OK) != 0)
            GTEST_SKIP() << nats_server_bin() << " not installed (set NATS_SERVER_BIN)";
        char dir[] = "/tmp/natrix-supercluster-XXXXXX";
        ASSERT_NE(mkdtemp(dir), nullptr);
        dir_ = dir;
        const std::vector<int> ports = free_ports(4 * count);
        ASSERT_EQ(ports.size(), 4 * count);
        const char* names[] = {"a1", "a2", "b1", "b2", "c1"};
        for (std::size_t i = 0; i < count; ++i) {
            nodes_.push_back(std::make_unique<node_process>(kinds_[i], names[i], dir_, ports[4 * i],
                                                            ports[4 * i + 1], ports[4 * i + 2]));
            gateway_ports_.push_back(ports[4 * i + 3]);
        }
    }

    void TearDown() override { stop_nodes(nodes_, dir_, HasFailure()); }

    node_process& node(std::size_t i) { return *nodes_.at(i); }
    static std::string cluster_of(std::size_t i) { return i <= a2 ? "A" : i <= b2 ? "B" : "C"; }
    std::string gw_url(std::size_t i) const {
        return "nats://127.0.0.1:" + std::to_string(gateway_ports_[i]);
    }

    // `remotes`: the gateways block's entries, e.g. {{"B", b1}}: one URL of
    // each remote cluster, the rest is learned.
    std::string config(std::size_t i,
                       const std::vector<std::pair<std::string, std::size_t>>& remotes,
                       const std::string& extra = "") {
        const node_process& n = *nodes_[i];
        const std::string cl = cluster_of(i);
        std::string c = "server_name: " + n.name() + "\n";
        c += "listen: 127.0.0.1:" + std::to_string(n.port()) + "\n";
        c += "http: 127.0.0.1:" + std::to_string(n.http_port()) + "\n";
        if (i != c1) { // A and B have two servers each, routed
            const std::size_t seed = i <= a2 ? a1 : b1;
            c += "cluster {\n  name: " + cl +
                 "\n  listen: 127.0.0.1:" + std::to_string(n.cluster_port()) + "\n";
            if (i != seed)
                c += "  routes: [nats-route://127.0.0.1:" +
                     std::to_string(nodes_[seed]->cluster_port()) + "]\n";
            c += "}\n";
        }
        c += "gateway {\n  name: " + cl +
             "\n  listen: 127.0.0.1:" + std::to_string(gateway_ports_[i]) + "\n";
        if (!remotes.empty()) {
            c += "  gateways: [\n";
            for (const auto& [name, at] : remotes)
                c += "    {name: " + name + ", url: \"" + gw_url(at) + "\"}\n";
            c += "  ]\n";
        }
        c += "}\n" + extra;
        return c;
    }

    ::testing::AssertionResult
    start(std::size_t i, const std::vector<std::pair<std::string, std::size_t>>& remotes,
          const std::string& extra = "") {
        if (!nodes_[i]->start(config(i, remotes, extra)))
            return ::testing::AssertionFailure() << nodes_[i]->what() << " did not start";
        return ::testing::AssertionSuccess();
    }

    // Every listed server has an outbound gateway to each other cluster
    // listed, and its cluster's routes are up.
    ::testing::AssertionResult wait_supercluster(const std::vector<std::size_t>& servers,
                                                 std::chrono::milliseconds timeout = 15s) {
        const auto deadline = clock_type::now() + timeout;
        std::string why;
        while (clock_type::now() < deadline) {
            why.clear();
            std::set<std::string> clusters;
            for (std::size_t i : servers) clusters.insert(cluster_of(i));
            for (std::size_t i : servers) {
                if (!nodes_[i]->running())
                    return ::testing::AssertionFailure() << nodes_[i]->what() << " has exited";
                const gatewayz_view g = get_gatewayz(nodes_[i]->http_port());
                for (const std::string& cl : clusters)
                    if (cl != cluster_of(i) && (!g.ok || !g.outbound.count(cl)))
                        why += "\n  " + nodes_[i]->what() + ": no outbound gateway to " + cl;
                if (i != c1) {
                    const routez_view r = get_routez(nodes_[i]->http_port());
                    if (r.num_routes != 1) why += "\n  " + nodes_[i]->what() + ": no route";
                }
            }
            if (why.empty()) return ::testing::AssertionSuccess();
            std::this_thread::sleep_for(50ms);
        }
        return ::testing::AssertionFailure()
               << "no supercluster within " << timeout.count() << " ms:" << why;
    }

    // A (a1, a2) and B (b1, b2), each naming one server of the other.
    ::testing::AssertionResult start_two_clusters(const std::string& extra = "") {
        for (auto [i, remote] :
             {std::pair{a1, b1}, std::pair{a2, b1}, std::pair{b1, a1}, std::pair{b2, a1}})
            if (auto r = start(i, {{cluster_of(remote), remote}}, extra); !r) return r;
        return wait_supercluster({a1, a2, b1, b2});
    }

    std::string dir_;
    std::vector<node_kind> kinds_;
    std::vector<std::unique_ptr<node_process>> nodes_;
    std::vector<int> gateway_ports_;
};

void publish_n(natsConnection* nc, const std::string& subject, const std::string& tag, int n) {
    for (int i = 0; i < n; ++i)
        ASSERT_EQ(
            natsConnection_PublishString(nc, subject.c_str(), (tag + std::to_string(i)).c_str()),
            NATS_OK);
    ASSERT_EQ(natsConnection_FlushTimeout(nc, 5000), NATS_OK);
}

// ---------------------------------------------------------------- cases ----

// Plain subjects, wildcards and headers cross in both directions, in order.
TEST_P(supercluster, pub_sub_wildcards_and_headers_cross) {
    ASSERT_TRUE(start_two_clusters());
    client pa(node(a1).url()), sb(node(b2).url()), pb(node(b1).url()), sa(node(a2).url());
    collector star(sb, "orders.*"), full(sb, "metrics.>"), back(sa, "replies.x");
    ASSERT_TRUE(await_interest(pa, "orders.new", {&star}));
    ASSERT_TRUE(await_interest(pa, "metrics.cpu.load", {&full}));
    ASSERT_TRUE(await_interest(pb, "replies.x", {&back}));
    constexpr int n = 500;
    publish_n(pa, "orders.new", "o", n);
    publish_n(pa, "metrics.cpu.load", "m", n);
    publish_n(pb, "replies.x", "r", n);
    ASSERT_TRUE(star.wait_count(n, 5s)) << star.size();
    ASSERT_TRUE(full.wait_count(n, 5s)) << full.size();
    ASSERT_TRUE(back.wait_count(n, 5s)) << back.size();
    std::this_thread::sleep_for(100ms);
    for (auto [c, tag] : {std::pair{&star, "o"}, std::pair{&full, "m"}, std::pair{&back, "r"}}) {
        const auto got = c->data();
        ASSERT_EQ(got.size(), static_cast<std::size_t>(n)) << tag << ": duplicates";
        for (int i = 0; i < n; ++i) ASSERT_EQ(got[i], tag + std::to_string(i));
    }
    // Headers survive the gateway.
    collector h(sb, "hdr.subject");
    ASSERT_TRUE(await_interest(pa, "hdr.subject", {&h}));
    natsMsg* m = nullptr;
    ASSERT_EQ(natsMsg_Create(&m, "hdr.subject", nullptr, "body", 4), NATS_OK);
    ASSERT_EQ(natsMsgHeader_Set(m, "X-Trace", "abc"), NATS_OK);
    ASSERT_EQ(natsConnection_PublishMsg(pa, m), NATS_OK);
    natsMsg_Destroy(m);
    ASSERT_TRUE(h.wait_data("body", 3s));
    const auto msgs = h.messages();
    ASSERT_EQ(msgs.size(), 1u);
    ASSERT_EQ(msgs[0].headers.count("X-Trace"), 1u);
    EXPECT_EQ(msgs[0].headers.at("X-Trace").front(), "abc");
}

// Requests from A answered in B: the first one too, made right after the
// requester's inbox subscription (the _GR_. reply mapping carries it while
// the inbox's interest may not have crossed yet).
TEST_P(supercluster, request_reply_crosses) {
    ASSERT_TRUE(start_two_clusters());
    client rsp(node(b2).url());
    responder r(rsp, "svc.echo");
    {
        // Wait for the responder's interest with another client, so the
        // requester's first request is also its inbox's first moment.
        client probe(node(a1).url());
        ASSERT_TRUE(await_responder(probe, "svc.echo", 10s));
    }
    client req(node(a1).url());
    EXPECT_EQ(request(req, "svc.echo", "first", 2000), "re:first");
    for (int i = 0; i < 100; ++i) {
        const std::string body = "q" + std::to_string(i);
        ASSERT_EQ(request(req, "svc.echo", body), "re:" + body);
    }
    // From the other server of A, whose outbound may reach the other B server.
    client req2(node(a2).url());
    EXPECT_EQ(request(req2, "svc.echo", "x", 2000), "re:x");
    // Nobody in either cluster: no-responders, not a timeout.
    EXPECT_EQ(request(req, "svc.nobody", "x", 2000),
              std::string("!") + natsStatus_GetText(NATS_NO_RESPONDERS));
}

// A queue group with members in both clusters: the publisher's cluster
// serves it while it has a member; then the remote cluster takes over,
// exactly once.
TEST_P(supercluster, queue_group_prefers_local_cluster) {
    ASSERT_TRUE(start_two_clusters());
    client pa(node(a1).url()), ca(node(a2).url()), cb1(node(b1).url()), cb2(node(b2).url());
    auto local = std::make_unique<collector>(ca, "jobs", "workers");
    collector r1(cb1, "jobs", "workers"), r2(cb2, "jobs", "workers");
    // The remote members' interest reached A: a probe from B's side reaches
    // both B members; from A, a probe reaches the local member.
    ASSERT_TRUE(await_interest(cb1, "jobs", {&r1, &r2}));
    ASSERT_TRUE(await_interest(pa, "jobs", {local.get()}));
    std::this_thread::sleep_for(300ms); // B's queue interest crossing to A
    constexpr int n = 1000;
    publish_n(pa, "jobs", "l", n);
    ASSERT_TRUE(local->wait_count(n, 5s)) << local->size();
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(local->size(), static_cast<std::size_t>(n));
    EXPECT_EQ(r1.size() + r2.size(), 0u) << "a member in the publisher's cluster was passed over";
    local.reset(); // the last member in A leaves
    // A learns over its route that a2's member went; then B serves: probes
    // until one reaches a B member.
    const auto deadline = clock_type::now() + 5s;
    bool crossed = false;
    for (int k = 0; clock_type::now() < deadline && !crossed; ++k) {
        const std::string tag = "gone" + std::to_string(k);
        natsConnection_PublishString(pa, "jobs", (std::string(probe_prefix) + tag).c_str());
        natsConnection_FlushTimeout(pa, 1000);
        std::this_thread::sleep_for(20ms);
        crossed = r1.saw_probe(tag) || r2.saw_probe(tag);
    }
    ASSERT_TRUE(crossed) << "B's members never got the group after A's member left";
    const std::size_t b_before = r1.size() + r2.size();
    publish_n(pa, "jobs", "g", n);
    const auto until = clock_type::now() + 10s;
    while (clock_type::now() < until && r1.size() + r2.size() < b_before + n)
        std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(200ms);
    std::map<std::string, int> seen;
    for (const collector* c : {&r1, &r2})
        for (const std::string& d : c->data())
            if (d.starts_with("g")) ++seen[d];
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(n)) << "remote cluster missed messages";
    for (const auto& [k, times] : seen) {
        EXPECT_EQ(times, 1) << k << " delivered " << times << " times";
        if (times != 1) break;
    }
    std::printf("queue group after A's member left: b1 %zu, b2 %zu\n", r1.size(), r2.size());
}

// Interest-only: a subject nobody in B wants crosses no gateway, as B's
// counters show; once someone wants it, it does (which proves the counters).
TEST_P(supercluster, no_interest_sends_nothing) {
    ASSERT_TRUE(start_two_clusters());
    client pa(node(a1).url());
    const auto inbound_b = [&] {
        return get_gatewayz(node(b1).http_port()).inbound_msgs +
               get_gatewayz(node(b2).http_port()).inbound_msgs;
    };
    std::this_thread::sleep_for(300ms);
    const std::int64_t before = inbound_b();
    constexpr int n = 2000;
    publish_n(pa, "quiet.subject", "q", n);
    std::this_thread::sleep_for(500ms);
    const std::int64_t after = inbound_b();
    std::printf("B's inbound gateway messages: %lld before, %lld after %d unwanted publishes\n",
                static_cast<long long>(before), static_cast<long long>(after), n);
    // nats-server's own $SYS events (a client connecting, ...) cross too: a
    // handful, never one per unwanted publish.
    EXPECT_LT(after - before, n / 100) << "messages nobody in B wanted crossed the gateway";
    client sb(node(b2).url());
    collector c(sb, "quiet.subject");
    ASSERT_TRUE(await_interest(pa, "quiet.subject", {&c}));
    const std::int64_t wanted_before = inbound_b();
    publish_n(pa, "quiet.subject", "w", n);
    ASSERT_TRUE(c.wait_count(n, 5s));
    std::this_thread::sleep_for(300ms);
    EXPECT_GE(inbound_b() - wanted_before, n) << "the counters did not count what crossed";
}

// Three clusters from one configured URL each: A and C know only b1, B knows
// nobody. Gossip over gateways and routes completes the mesh.
TEST_P(supercluster, three_clusters_discover_from_one_url) {
    for (auto [i, remotes] :
         std::vector<std::pair<std::size_t, std::vector<std::pair<std::string, std::size_t>>>>{
             {b1, {}}, {b2, {}}, {a1, {{"B", b1}}}, {a2, {{"B", b1}}}, {c1, {{"B", b1}}}})
        ASSERT_TRUE(start(i, remotes));
    ASSERT_TRUE(wait_supercluster({a1, a2, b1, b2, c1}, 20s));
    client pc(node(c1).url()), sa(node(a2).url()), sb(node(b2).url());
    collector ca(sa, "fan.>"), cb(sb, "fan.>");
    ASSERT_TRUE(await_interest(pc, "fan.out", {&ca, &cb}, 10s));
    publish_n(pc, "fan.out", "f", 200);
    EXPECT_TRUE(ca.wait_count(200, 5s)) << ca.size();
    EXPECT_TRUE(cb.wait_count(200, 5s)) << cb.size();
}

// The B server that a1's outbound reaches is killed: a1 reconnects to the
// other B server, while A's traffic to C (a healthy cluster) loses nothing.
TEST_P(supercluster, gateway_failover_keeps_healthy_clusters_whole) {
    for (auto [i, remotes] :
         std::vector<std::pair<std::size_t, std::vector<std::pair<std::string, std::size_t>>>>{
             {a1, {{"B", b1}, {"C", c1}}},
             {a2, {{"B", b1}, {"C", c1}}},
             {b1, {{"A", a1}, {"C", c1}}},
             {b2, {{"A", a1}, {"C", c1}}},
             {c1, {{"A", a1}, {"B", b1}}}})
        ASSERT_TRUE(start(i, remotes));
    ASSERT_TRUE(wait_supercluster({a1, a2, b1, b2, c1}, 20s));
    // Which B server holds a1's outbound?
    const std::string target_id = get_gatewayz(node(a1).http_port()).outbound.at("B");
    const std::size_t victim = varz_server_id(node(b1).http_port()) == target_id ? b1 : b2;
    const std::size_t survivor = victim == b1 ? b2 : b1;
    client pa(node(a1).url()), sc(node(c1).url()), sb(node(survivor).url());
    burst_counter healthy(sc, "stream.x");
    collector after(sb, "stream.x");
    ASSERT_TRUE(await_interest(pa, "stream.x", {&after}));
    while (!healthy.probe_seen) {
        natsConnection_PublishString(pa, "stream.x", "__probe:h");
        natsConnection_FlushTimeout(pa, 1000);
        std::this_thread::sleep_for(10ms);
    }
    // 3 s of traffic at about 2000 msg/s, with the kill a second in.
    std::atomic<bool> done{false};
    std::atomic<int> sent{0};
    std::thread pub([&] {
        for (int i = 0; !done; ++i) {
            char b[16];
            std::snprintf(b, sizeof b, "%010d", i);
            natsConnection_PublishString(pa, "stream.x", b);
            sent = i + 1;
            if (i % 20 == 0) std::this_thread::sleep_for(10ms);
        }
        natsConnection_FlushTimeout(pa, 5000);
    });
    std::this_thread::sleep_for(1s);
    const auto killed_at = clock_type::now();
    node(victim).kill_hard();
    // a1 reaches B again, through the survivor.
    bool back = false;
    while (clock_type::now() - killed_at < 8s && !back) {
        const gatewayz_view g = get_gatewayz(node(a1).http_port());
        back = g.outbound.count("B") && g.outbound.at("B") != target_id;
        std::this_thread::sleep_for(20ms);
    }
    const auto reconnected = clock_type::now() - killed_at;
    std::this_thread::sleep_for(2s);
    done = true;
    pub.join();
    ASSERT_TRUE(back) << "a1 did not reconnect to B through the other server";
    std::printf("a1 reconnected to B through %s %lld ms after the kill\n",
                node(survivor).name().c_str(),
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(reconnected).count()));
    const auto deadline = clock_type::now() + 5s;
    while (clock_type::now() < deadline && healthy.count < static_cast<std::size_t>(sent.load()))
        std::this_thread::sleep_for(10ms);
    EXPECT_EQ(healthy.count.load(), static_cast<std::size_t>(sent.load()))
        << "the healthy cluster C lost messages";
    EXPECT_EQ(healthy.out_of_order.load(), 0u);
    // B's surviving subscriber gets the stream again after the reconnect.
    const std::size_t late = after.size();
    publish_n(pa, "stream.x", "late", 10);
    EXPECT_TRUE(after.wait_count(late + 10, 5s)) << "B's survivor gets nothing after the failover";
}

INSTANTIATE_TEST_SUITE_P(clusters, supercluster, ::testing::ValuesIn(sc_params()),
                         [](const ::testing::TestParamInfo<sc_param>& i) { return i.param.name; });

} // namespace
} // namespace natrix::test

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    const int rc = RUN_ALL_TESTS();
    nats_Close(); // frees the library's global state so LeakSanitizer stays quiet
    return rc;
}
