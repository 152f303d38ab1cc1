// Clustering: routes between separate server processes, each started from a
// config file in nats-server's syntax (`cluster { name, listen, routes }`).
// Every node is either natrix (NATRIX_BIN) or nats-server (NATS_SERVER_BIN,
// default /usr/sbin/nats-server), so the same cases run on an all-nats-server
// cluster (which proves the cases themselves), an all-natrix cluster and
// mixed ones. Clients are nats.c.
//
// Parametrisations (the 4th node only joins in the cases that need four):
//   all_nats            nats-server x4
//   all_natrix          natrix x4
//   mixed_natrix_seed   natrix, nats-server, natrix, nats-server
//   mixed_nats_seed     nats-server, natrix, nats-server, natrix
// NATRIX_CLUSTER_NODES=natrix,nats,natrix[,nats] replaces them with one
// (named env_...); a 3-entry list repeats its pattern for the 4th node.
// NATRIX_CLUSTER_SKIP_NATRIX=1 skips every parametrisation with a natrix node.
// NATRIX_TEST_IO and NATRIX_CLUSTER_SHARDS pass --io and --shards to natrix.
// One parametrisation: cluster_test --gtest_filter='*/all_nats'. A failing
// case prints each node's last log lines and keeps configs and logs in
// /tmp/natrix-cluster-*.
#include "cluster_harness.hh"

namespace natrix::test {
namespace {

// ----------------------------------------------------------- parameters ----

struct cluster_param {
    std::string name;
    std::vector<node_kind> kinds; // n1 (the seed), n2, n3, n4 (the joiner)
    std::string error;            // a bad NATRIX_CLUSTER_NODES
};

// gtest names the parameter in failure messages.
void PrintTo(const cluster_param& p, std::ostream* os) {
    *os << p.name;
}

std::vector<cluster_param> cluster_params() {
    using enum node_kind;
    if (const char* env = std::getenv("NATRIX_CLUSTER_NODES"); env && *env) {
        cluster_param p{"env", {}, ""};
        std::stringstream in(env);
        for (std::string word; std::getline(in, word, ',');) {
            if (word == "natrix")
                p.kinds.push_back(natrix);
            else if (word == "nats" || word == "nats-server")
                p.kinds.push_back(nats);
            else
                p.error = "NATRIX_CLUSTER_NODES: unknown node kind '" + word + "' (natrix or nats)";
            p.name += std::string("_") + (word == "natrix" ? "natrix" : "nats");
        }
        if (p.kinds.size() < 3 || p.kinds.size() > 4)
            p.error = "NATRIX_CLUSTER_NODES: 3 or 4 comma-separated kinds, e.g. natrix,nats,natrix";
        for (std::size_t i = p.kinds.size(); i < 4 && !p.kinds.empty(); ++i)
            p.kinds.push_back(p.kinds[i % p.kinds.size()]);
        return {p};
    }
    return {
        {"all_nats", {nats, nats, nats, nats}, ""},
        {"all_natrix", {natrix, natrix, natrix, natrix}, ""},
        {"mixed_natrix_seed", {natrix, nats, natrix, nats}, ""},
        {"mixed_nats_seed", {nats, natrix, nats, natrix}, ""},
    };
}

// ------------------------------------------------------------- fixture ----

constexpr const char* accounts_config = R"(
accounts {
  A {
    users [{user: a, password: a}]
    exports [{stream: "prices.>"}, {service: "svc.>"}]
  }
  B {
    users [{user: b, password: b}]
    imports [
      {stream {account: A, subject: "prices.>"}}
      {service {account: A, subject: "svc.>"}}
    ]
  }
}
)";

class cluster : public ::testing::TestWithParam<cluster_param> {
protected:
    static constexpr std::size_t max_nodes = 4;

    void SetUp() override {
        const cluster_param& p = GetParam();
        ASSERT_TRUE(p.error.empty()) << p.error;
        const bool has_natrix =
            std::find(p.kinds.begin(), p.kinds.end(), node_kind::natrix) != p.kinds.end();
        const bool has_nats =
            std::find(p.kinds.begin(), p.kinds.end(), node_kind::nats) != p.kinds.end();
        if (has_natrix) {
            if (const char* s = std::getenv("NATRIX_CLUSTER_SKIP_NATRIX");
                s && std::string(s) == "1")
                GTEST_SKIP() << "NATRIX_CLUSTER_SKIP_NATRIX=1: parametrisation with natrix nodes";
            ASSERT_EQ(::access(natrix_bin().c_str(), X_OK), 0)
                << "natrix binary '" << natrix_bin() << "' not executable (set NATRIX_BIN)";
        }
        if (has_nats && ::access(nats_server_bin().c_str(), X_OK) != 0)
            GTEST_SKIP() << nats_server_bin() << " not installed (set NATS_SERVER_BIN)";
        char dir[] = "/tmp/natrix-cluster-XXXXXX";
        ASSERT_NE(mkdtemp(dir), nullptr);
        dir_ = dir;
        const std::vector<int> ports = free_ports(3 * max_nodes);
        ASSERT_EQ(ports.size(), 3 * max_nodes);
        for (std::size_t i = 0; i < max_nodes; ++i)
            nodes_.push_back(std::make_unique<node_process>(p.kinds[i], "n" + std::to_string(i + 1),
                                                            dir_, ports[3 * i], ports[3 * i + 1],
                                                            ports[3 * i + 2]));
    }

    void TearDown() override { stop_nodes(nodes_, dir_, HasFailure()); }

    node_process& node(std::size_t i) { return *nodes_.at(i); }

    // Node i's config: n1 is the seed and lists no routes; every other node
    // lists only n1.
    std::string config(std::size_t i, const std::string& extra) {
        const node_process& n = *nodes_[i];
        std::string c = "server_name: " + n.name() + "\n";
        c += "listen: 127.0.0.1:" + std::to_string(n.port()) + "\n";
        c += "http: 127.0.0.1:" + std::to_string(n.http_port()) + "\n";
        c +=
            "cluster {\n  name: c1\n  listen: 127.0.0.1:" + std::to_string(n.cluster_port()) + "\n";
        if (i > 0)
            c += "  routes: [nats-route://127.0.0.1:" + std::to_string(nodes_[0]->cluster_port()) +
                 "]\n";
        c += "}\n" + extra;
        return c;
    }

    ::testing::AssertionResult start_node(std::size_t i, const std::string& extra = "") {
        if (!nodes_[i]->start(config(i, extra)))
            return ::testing::AssertionFailure() << nodes_[i]->what() << " did not start";
        return ::testing::AssertionSuccess();
    }

    // Starts n1..n<count> (the seed first) and waits for the full mesh.
    // `user`/`password`: the clients of the pub/sub fallback, for configs
    // with accounts.
    ::testing::AssertionResult start_cluster(std::size_t count, const std::string& extra = "",
                                             const std::string& user = "",
                                             const std::string& password = "") {
        for (std::size_t i = 0; i < count; ++i)
            if (auto r = start_node(i, extra); !r) return r;
        return wait_full_mesh(count, 10s, user, password);
    }

    // Every one of the first `count` nodes routes to every other one: /routez
    // num_routes == count-1 and its remote_ids are exactly the others' server
    // ids. Where a node has no usable /routez, pub/sub across every ordered
    // pair stands in for it.
    ::testing::AssertionResult wait_full_mesh(std::size_t count, std::chrono::milliseconds timeout,
                                              const std::string& user = "",
                                              const std::string& password = "") {
        const auto deadline = clock_type::now() + timeout;
        std::string why;
        while (clock_type::now() < deadline) {
            std::vector<routez_view> views;
            for (std::size_t i = 0; i < count; ++i) {
                if (!nodes_[i]->running())
                    return ::testing::AssertionFailure() << nodes_[i]->what() << " has exited";
                views.push_back(get_routez(nodes_[i]->http_port()));
                if (!views.back().supported) {
                    std::printf("%s has no usable /routez (%s); checking the mesh by pub/sub\n",
                                nodes_[i]->what().c_str(),
                                views.back().body.substr(0, views.back().body.find('\n')).c_str());
                    return wait_pairwise_pubsub(count, deadline, user, password);
                }
                if (views.back().server_id.empty())
                    views.back().server_id = varz_server_id(nodes_[i]->http_port());
            }
            why.clear();
            for (std::size_t i = 0; i < count; ++i) {
                std::set<std::string> want,
                    got(views[i].remote_ids.begin(), views[i].remote_ids.end());
                for (std::size_t j = 0; j < count; ++j)
                    if (j != i) want.insert(views[j].server_id);
                if (views[i].num_routes != static_cast<std::int64_t>(count - 1) || got != want)
                    why += "\n  " + nodes_[i]->what() +
                           ": num_routes=" + std::to_string(views[i].num_routes) +
                           " remote_ids=" + join(views[i].remote_ids) +
                           " (want the other nodes' ids)";
            }
            if (why.empty()) return ::testing::AssertionSuccess();
            std::this_thread::sleep_for(20ms);
        }
        return ::testing::AssertionFailure() << "no full mesh of " << count << " nodes within "
                                             << timeout.count() << " ms:" << why;
    }

    ::testing::AssertionResult wait_pairwise_pubsub(std::size_t count,
                                                    clock_type::time_point deadline,
                                                    const std::string& user,
                                                    const std::string& password) {
        std::vector<std::unique_ptr<client>> clients;
        std::vector<std::unique_ptr<collector>> subs;
        for (std::size_t i = 0; i < count; ++i) {
            clients.push_back(std::make_unique<client>(nodes_[i]->url(), user, password));
            if (!clients.back()->ok())
                return ::testing::AssertionFailure() << "cannot connect to " << nodes_[i]->what();
        }
        for (std::size_t j = 0; j < count; ++j)
            subs.push_back(
                std::make_unique<collector>(*clients[j], "mesh.check." + std::to_string(j)));
        for (std::size_t i = 0; i < count; ++i)
            for (std::size_t j = 0; j < count; ++j) {
                if (i == j) continue;
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - clock_type::now());
                if (auto r = await_interest(*clients[i], "mesh.check." + std::to_string(j),
                                            {subs[j].get()}, std::max(left, 1ms));
                    !r)
                    return r << " (" << nodes_[i]->what() << " -> " << nodes_[j]->what() << ")";
            }
        return ::testing::AssertionSuccess();
    }

    std::string dir_;
    std::vector<std::unique_ptr<node_process>> nodes_;
};

// ---------------------------------------------------------------- cases ----

// 1. n2 and n3 know only the seed; gossip completes the mesh.
TEST_P(cluster, full_mesh_from_one_seed) {
    for (std::size_t i = 0; i < 3; ++i) ASSERT_TRUE(start_node(i));
    const auto t0 = clock_type::now();
    ASSERT_TRUE(wait_full_mesh(3, 5s));
    std::printf(
        "mesh of 3 formed %lld ms after the last node was up\n",
        static_cast<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count()));
}

// 2. A 4th node that knows only the seed is routed to by all, and a client on
// n1 learns its client URL from INFO's connect_urls.
TEST_P(cluster, joining_node_is_discovered_by_all_and_by_clients) {
    ASSERT_TRUE(start_cluster(3));
    std::atomic<int> discovered_cb{0};
    natsOptions* o = nullptr;
    natsOptions_Create(&o);
    natsOptions_SetURL(o, node(0).url().c_str());
    natsOptions_SetDiscoveredServersCB(
        o, [](natsConnection*, void* n) { static_cast<std::atomic<int>*>(n)->fetch_add(1); },
        &discovered_cb);
    client c(o);
    ASSERT_TRUE(c.ok());
    // The mesh is up, so n1's INFO already lists n2 and n3.
    auto deadline = clock_type::now() + 3s;
    while (clock_type::now() < deadline && !(lists_port(server_list(c, true), node(1).port()) &&
                                             lists_port(server_list(c, true), node(2).port())))
        std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(lists_port(server_list(c, true), node(1).port()) &&
                lists_port(server_list(c, true), node(2).port()))
        << "discovered: " << join(server_list(c, true));
    EXPECT_FALSE(lists_port(server_list(c, false), node(3).port()));
    const int cb_before = discovered_cb.load();

    ASSERT_TRUE(start_node(3));
    ASSERT_TRUE(wait_full_mesh(4, 5s));

    deadline = clock_type::now() + 5s;
    while (clock_type::now() < deadline &&
           !(discovered_cb.load() > cb_before && lists_port(server_list(c, true), node(3).port())))
        std::this_thread::sleep_for(10ms);
    EXPECT_GT(discovered_cb.load(), cb_before) << "the discovered-servers callback never fired";
    EXPECT_TRUE(lists_port(server_list(c, false), node(3).port()))
        << "n4's URL not in GetServers: " << join(server_list(c, false));
    EXPECT_TRUE(lists_port(server_list(c, true), node(3).port()))
        << "n4's URL not in GetDiscoveredServers: " << join(server_list(c, true));

    // And n4 carries traffic both ways.
    client on4(node(3).url()), on2(node(1).url());
    collector sub4(on4, "join.to4"), sub2(on2, "join.to2");
    EXPECT_TRUE(await_interest(on2, "join.to4", {&sub4}));
    EXPECT_TRUE(await_interest(on4, "join.to2", {&sub2}));
}

// 3a. 1000 messages from n1 reach subscribers on n2 and n3, all and in order.
TEST_P(cluster, pub_sub_across_nodes_in_order) {
    ASSERT_TRUE(start_cluster(3));
    client pub(node(0).url()), c2(node(1).url()), c3(node(2).url());
    collector s2(c2, "ps.data"), s3(c3, "ps.data");
    ASSERT_TRUE(await_interest(pub, "ps.data", {&s2, &s3}));
    constexpr int n = 1000;
    for (int i = 0; i < n; ++i)
        ASSERT_EQ(natsConnection_PublishString(pub, "ps.data", std::to_string(i).c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_FlushTimeout(pub, 5000), NATS_OK);
    for (const collector* s : {&s2, &s3}) {
        EXPECT_TRUE(s->wait_count(n, 10s)) << "got " << s->size() << " of " << n;
        std::this_thread::sleep_for(100ms); // time for duplicates to show
        const auto got = s->data();
        ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) ASSERT_EQ(got[static_cast<std::size_t>(i)], std::to_string(i));
    }
}

// 3b. Wildcard interest crosses routes and matches as it does locally.
TEST_P(cluster, wildcards_across_nodes) {
    ASSERT_TRUE(start_cluster(3));
    client pub(node(0).url()), c2(node(1).url()), c3(node(2).url());
    collector star(c2, "wc.*.x"), gt(c3, "wc.>");
    ASSERT_TRUE(await_interest(pub, "wc.probe.x", {&star, &gt}));
    for (const char* s :
         {"wc.a.x", "wc.b.y", "wc.a.b.c", "wc.x", "wc", "other.a.x", "wc.a.x.y", "wc.end.x"})
        ASSERT_EQ(natsConnection_PublishString(pub, s, s), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(pub), NATS_OK);
    // wc.end.x, sent last, matches both: once it is in, everything is.
    ASSERT_TRUE(star.wait_data("wc.end.x", 5s));
    ASSERT_TRUE(gt.wait_data("wc.end.x", 5s));
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(star.data(), (std::vector<std::string>{"wc.a.x", "wc.end.x"}));
    EXPECT_EQ(gt.data(), (std::vector<std::string>{"wc.a.x", "wc.b.y", "wc.a.b.c", "wc.x",
                                                   "wc.a.x.y", "wc.end.x"}));
    for (auto& m : gt.messages()) EXPECT_EQ(m.subject, m.data);
}

// 3c. Headers cross routes intact (HMSG over the route).
TEST_P(cluster, headers_across_nodes) {
    ASSERT_TRUE(start_cluster(3));
    client pub(node(0).url()), c2(node(1).url()), c3(node(2).url());
    collector s2(c2, "hdr.x"), s3(c3, "hdr.x");
    ASSERT_TRUE(await_interest(pub, "hdr.x", {&s2, &s3}));
    natsMsg* m = nullptr;
    ASSERT_EQ(natsMsg_Create(&m, "hdr.x", "reply.here", "body", 4), NATS_OK);
    ASSERT_EQ(natsMsgHeader_Set(m, "Trace-Id", "abc123"), NATS_OK);
    ASSERT_EQ(natsMsgHeader_Add(m, "Multi", "one"), NATS_OK);
    ASSERT_EQ(natsMsgHeader_Add(m, "Multi", "two"), NATS_OK);
    ASSERT_EQ(natsConnection_PublishMsg(pub, m), NATS_OK);
    natsMsg_Destroy(m);
    ASSERT_EQ(natsConnection_PublishString(pub, "hdr.x", "plain"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(pub), NATS_OK);
    for (const collector* s : {&s2, &s3}) {
        ASSERT_TRUE(s->wait_count(2, 5s));
        const auto got = s->messages();
        ASSERT_EQ(got.size(), 2u);
        EXPECT_EQ(got[0].data, "body");
        EXPECT_EQ(got[0].reply, "reply.here");
        EXPECT_EQ(got[0].headers.at("Trace-Id"), std::vector<std::string>{"abc123"});
        EXPECT_EQ(got[0].headers.at("Multi"), (std::vector<std::string>{"one", "two"}));
        EXPECT_EQ(got[1].data, "plain");
        EXPECT_TRUE(got[1].headers.empty());
    }
}

// 3d. Request on n1, responder on n3: the reply crosses back.
TEST_P(cluster, request_reply_across_nodes) {
    ASSERT_TRUE(start_cluster(3));
    client req(node(0).url()), rsp(node(2).url());
    responder r(rsp, "svc.echo");
    ASSERT_TRUE(await_responder(req, "svc.echo"));
    for (int i = 0; i < 50; ++i) {
        const std::string body = "q" + std::to_string(i);
        ASSERT_EQ(request(req, "svc.echo", body), "re:" + body);
    }
    // Nobody anywhere in the cluster: no-responders, not a timeout.
    EXPECT_EQ(request(req, "svc.nobody", "x", 2000),
              std::string("!") + natsStatus_GetText(NATS_NO_RESPONDERS));
}

// 3e. One queue group with a member on each of n1..n3, fed from n1 (which has
// a member) and from n4 (which has none). nats-server 2.9.10 picks uniformly
// over all members it knows, local and remote alike (a remote member weighs
// as many as the route says it has): measured about 1000/1000/1000 of 3000
// from n1 and from n4 alike, no preference for n1's local member. The bounds
// below allow ~10 sigma of noise.
TEST_P(cluster, queue_group_across_nodes) {
    ASSERT_TRUE(start_cluster(4));
    client c1(node(0).url()), c2(node(1).url()), c3(node(2).url()), c4(node(3).url());
    collector m1(c1, "q.work", "workers"), m2(c2, "q.work", "workers"), m3(c3, "q.work", "workers");
    const std::vector<const collector*> members{&m1, &m2, &m3};
    constexpr int n = 3000;
    std::vector<std::size_t> before(3, 0);
    for (auto [pub, tag] : {std::pair{&c1, "n1"}, std::pair{&c4, "n4"}}) {
        ASSERT_TRUE(await_interest(*pub, "q.work", members)) << "publisher on " << tag;
        for (int i = 0; i < n; ++i)
            ASSERT_EQ(natsConnection_PublishString(
                          *pub, "q.work", (std::string(tag) + "-" + std::to_string(i)).c_str()),
                      NATS_OK);
        ASSERT_EQ(natsConnection_FlushTimeout(*pub, 5000), NATS_OK);
        const auto deadline = clock_type::now() + 10s;
        auto total = [&] {
            std::size_t t = 0;
            for (std::size_t k = 0; k < 3; ++k) t += members[k]->size() - before[k];
            return t;
        };
        while (clock_type::now() < deadline && total() < static_cast<std::size_t>(n))
            std::this_thread::sleep_for(5ms);
        std::this_thread::sleep_for(200ms); // time for duplicates to show
        std::map<std::string, int> seen;
        std::vector<std::size_t> share(3, 0);
        for (std::size_t k = 0; k < 3; ++k) {
            const auto got = members[k]->data();
            for (std::size_t j = before[k]; j < got.size(); ++j) {
                ++seen[got[j]];
                ++share[k];
            }
            before[k] = got.size();
        }
        std::printf("queue group, publisher on %s: n1 member %zu, n2 member %zu, n3 member %zu "
                    "of %d\n",
                    tag, share[0], share[1], share[2], n);
        EXPECT_EQ(seen.size(), static_cast<std::size_t>(n)) << "publisher on " << tag;
        for (int i = 0; i < n; ++i) {
            const std::string key = std::string(tag) + "-" + std::to_string(i);
            const auto it = seen.find(key);
            EXPECT_TRUE(it != seen.end() && it->second == 1)
                << key << " delivered " << (it == seen.end() ? 0 : it->second) << " times";
            if (HasFailure()) break;
        }
        for (std::size_t k = 0; k < 3; ++k) {
            EXPECT_GE(share[k], static_cast<std::size_t>(n * 20 / 100))
                << "member on n" << k + 1 << ", publisher on " << tag;
            EXPECT_LE(share[k], static_cast<std::size_t>(n * 46 / 100))
                << "member on n" << k + 1 << ", publisher on " << tag;
        }
    }
}

// 4a. Stream export/import across nodes: a publishes on n1, b subscribes on n2.
TEST_P(cluster, account_stream_import_across_nodes) {
    ASSERT_TRUE(start_cluster(3, accounts_config, "a", "a"));
    client a(node(0).url(), "a", "a"), b(node(1).url(), "b", "b");
    collector prices(b, "prices.x"), other(b, "other.x");
    ASSERT_TRUE(await_interest(a, "prices.x", {&prices}));
    ASSERT_EQ(natsConnection_PublishString(a, "other.x", "not exported"), NATS_OK);
    for (int i = 0; i < 100; ++i)
        ASSERT_EQ(natsConnection_PublishString(a, "prices.x", std::to_string(i).c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(a), NATS_OK);
    ASSERT_TRUE(prices.wait_count(100, 5s)) << "got " << prices.size();
    std::this_thread::sleep_for(100ms);
    const auto got = prices.messages();
    ASSERT_EQ(got.size(), 100u);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(got[static_cast<std::size_t>(i)].data, std::to_string(i));
        EXPECT_EQ(got[static_cast<std::size_t>(i)].subject, "prices.x");
    }
    EXPECT_EQ(other.size(), 0u) << "account B got A's unexported other.x";
}

// 4b. Service export/import across nodes: a answers on n2, b asks on n1.
TEST_P(cluster, account_service_import_across_nodes) {
    ASSERT_TRUE(start_cluster(3, accounts_config, "a", "a"));
    client a(node(1).url(), "a", "a"), b(node(0).url(), "b", "b");
    responder r(a, "svc.x");
    ASSERT_TRUE(await_responder(b, "svc.x"));
    for (int i = 0; i < 20; ++i) {
        const std::string body = "q" + std::to_string(i);
        ASSERT_EQ(request(b, "svc.x", body), "re:" + body);
    }
}

// 5. A client given only n1's URL learns n2 and n3 from INFO; when n1 is
// killed mid-stream it reconnects to one of them within 2 s, its
// subscription is restored, and its messages flow again.
TEST_P(cluster, client_fails_over_to_discovered_node) {
    ASSERT_TRUE(start_cluster(3));
    struct events {
        std::mutex mu;
        std::condition_variable cv;
        bool reconnected = false;
        clock_type::time_point reconnected_at;
    } ev;
    natsOptions* o = nullptr;
    natsOptions_Create(&o);
    natsOptions_SetURL(o, node(0).url().c_str());
    natsOptions_SetReconnectWait(o, 100);
    natsOptions_SetReconnectJitter(o, 0, 0);
    natsOptions_SetMaxReconnect(o, 100);
    natsOptions_SetReconnectedCB(
        o,
        [](natsConnection*, void* e) {
            auto* p = static_cast<events*>(e);
            {
                std::lock_guard lock(p->mu);
                p->reconnected = true;
                p->reconnected_at = clock_type::now();
            }
            p->cv.notify_all();
        },
        &ev);
    client f(o);
    ASSERT_TRUE(f.ok());
    auto deadline = clock_type::now() + 3s;
    while (clock_type::now() < deadline && !(lists_port(server_list(f, true), node(1).port()) &&
                                             lists_port(server_list(f, true), node(2).port())))
        std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(lists_port(server_list(f, true), node(1).port()) &&
                lists_port(server_list(f, true), node(2).port()))
        << "discovered: " << join(server_list(f, true));

    client c2(node(1).url());
    collector ticks(c2, "fo.tick"), back(f, "fo.back");
    ASSERT_TRUE(await_interest(f, "fo.tick", {&ticks}));

    std::atomic<bool> stop{false};
    std::thread publisher([&] {
        for (int i = 0; !stop.load(); ++i) {
            natsConnection_PublishString(f, "fo.tick", std::to_string(i).c_str());
            std::this_thread::sleep_for(1ms);
        }
    });
    struct joiner {
        std::atomic<bool>& stop;
        std::thread& t;
        ~joiner() {
            stop = true;
            if (t.joinable()) t.join();
        }
    } join_publisher{stop, publisher};

    ASSERT_TRUE(ticks.wait_count(50, 5s)) << "ticks before the kill: " << ticks.size();
    const auto killed_at = clock_type::now();
    node(0).kill_hard();
    {
        std::unique_lock lock(ev.mu);
        ASSERT_TRUE(ev.cv.wait_for(lock, 10s, [&] { return ev.reconnected; }))
            << "no reconnect within 10 s of SIGKILL of n1";
    }
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(ev.reconnected_at - killed_at);
    char connected[256] = {};
    natsConnection_GetConnectedUrl(f, connected, sizeof connected);
    std::printf("reconnected to %s %lld ms after SIGKILL of n1\n", connected,
                static_cast<long long>(took.count()));
    EXPECT_LT(took, 2000ms);
    const std::string now_on = connected;
    const bool on_n2 = now_on.find(":" + std::to_string(node(1).port())) != std::string::npos;
    const bool on_n3 = now_on.find(":" + std::to_string(node(2).port())) != std::string::npos;
    ASSERT_TRUE(on_n2 || on_n3) << "reconnected to " << now_on;

    // Ticks flow again (to n2's subscriber, through a route when f is on n3).
    const std::size_t at_reconnect = ticks.size();
    EXPECT_TRUE(ticks.wait_count(at_reconnect + 50, 5s))
        << "ticks after reconnect: " << ticks.size() - at_reconnect;
    // f's subscription was replayed to its new node and crossed the route.
    client other(on_n2 ? node(2).url() : node(1).url());
    EXPECT_TRUE(await_interest(other, "fo.back", {&back}));
}

// 6. 100k 128-byte messages as fast as nats.c sends them, n1 to n2: the
// route loses none, and they arrive in order.
TEST_P(cluster, burst_across_route_loses_nothing) {
    ASSERT_TRUE(start_cluster(3));
    client pub(node(0).url()), c2(node(1).url());
    burst_counter sub(c2, "burst");
    const auto deadline = clock_type::now() + 5s;
    while (!sub.probe_seen && clock_type::now() < deadline) {
        natsConnection_PublishString(pub, "burst", std::string(probe_prefix).c_str());
        natsConnection_Flush(pub);
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(sub.probe_seen) << "n2's interest in 'burst' did not reach n1";
    std::this_thread::sleep_for(100ms); // let the last probes land before counting
    constexpr std::size_t n = 100000;
    char payload[128];
    std::memset(payload, 'x', sizeof payload);
    const auto t0 = clock_type::now();
    for (std::size_t i = 0; i < n; ++i) {
        std::snprintf(payload, sizeof payload, "%010zu", i);
        payload[10] = 'x';
        ASSERT_EQ(natsConnection_Publish(pub, "burst", payload, sizeof payload), NATS_OK);
    }
    ASSERT_EQ(natsConnection_FlushTimeout(pub, 20000), NATS_OK);
    const auto wait_until = clock_type::now() + 30s;
    while (sub.count.load() < n && clock_type::now() < wait_until) std::this_thread::sleep_for(5ms);
    const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    std::this_thread::sleep_for(200ms); // time for duplicates to show
    std::printf("burst: %zu of %zu received in %.2f s (%.0f msg/s)\n", sub.count.load(), n, secs,
                static_cast<double>(sub.count.load()) / secs);
    EXPECT_EQ(sub.count.load(), n);
    EXPECT_EQ(sub.out_of_order.load(), 0u);
    EXPECT_EQ(c2.async_errors(), 0);
}

INSTANTIATE_TEST_SUITE_P(nodes, cluster, ::testing::ValuesIn(cluster_params()),
                         [](const auto& i) { return i.param.name; });

} // namespace
} // namespace natrix::test

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    const int rc = RUN_ALL_TESTS();
    nats_Close(); // frees the library's global state so LeakSanitizer stays quiet
    return rc;
}
