// Flow control with a stock client (nats.c): a publisher faster than its
// subscribers is slowed to their pace, so every message arrives, in
// per-publisher order, and nobody is cut; a subscriber that stops reading is
// cut while a live one beside it keeps everything. 1, 2 and 4 shards.
// (Speed and memory figures live in bench/, not here.)
#include <atomic>
#include <cstring>
#include <mutex>
#include <vector>

#include <nats/nats.h>

#include "test_server.hh"

using namespace natrix::test;
using namespace std::chrono_literals;

namespace {

std::size_t messages(std::size_t dflt) {
    // NATRIX_FLOW_MESSAGES scales every scenario (bench-sized runs by hand).
    const char* e = std::getenv("NATRIX_FLOW_MESSAGES");
    return e ? static_cast<std::size_t>(std::strtoull(e, nullptr, 10)) * dflt / 1000000 : dflt;
}

struct connection {
    natsConnection* nc = nullptr;
    explicit connection(const std::string& url) {
        natsOptions* o = nullptr;
        natsOptions_Create(&o);
        natsOptions_SetURL(o, url.c_str());
        natsOptions_SetMaxReconnect(o, 0);
        const natsStatus s = natsConnection_Connect(&nc, o);
        natsOptions_Destroy(o);
        EXPECT_EQ(s, NATS_OK) << natsStatus_GetText(s);
    }
    ~connection() { natsConnection_Destroy(nc); }
    bool closed() const { return natsConnection_IsClosed(nc); }
    operator natsConnection*() const { return nc; }
};

// Payload: [publisher id u32][sequence u32][filler].
void stamp(std::string& p, std::uint32_t pub, std::uint32_t seq) {
    std::memcpy(p.data(), &pub, 4);
    std::memcpy(p.data() + 4, &seq, 4);
}

// A subscriber that checks completeness and per-publisher order. The client
// keeps every message it reads (no client-side limit): what is measured is
// whether the server delivered them.
struct checking_sub {
    natsSubscription* sub = nullptr;
    std::vector<std::uint32_t> next; // per publisher: expected sequence
    std::atomic<std::uint64_t> received{0}, out_of_order{0};
    std::chrono::nanoseconds work{0}; // busy work per message (a slow consumer)

    checking_sub(natsConnection* nc, const char* subject, const char* queue, unsigned publishers,
                 std::chrono::nanoseconds per_message = {})
        : next(publishers, 0)
        , work(per_message) {
        const natsStatus s =
            queue ? natsConnection_QueueSubscribe(&sub, nc, subject, queue, on_msg, this)
                  : natsConnection_Subscribe(&sub, nc, subject, on_msg, this);
        EXPECT_EQ(s, NATS_OK);
        natsSubscription_SetPendingLimits(sub, -1, -1);
    }
    ~checking_sub() { natsSubscription_Destroy(sub); }

    static void on_msg(natsConnection*, natsSubscription*, natsMsg* m, void* self) {
        auto* c = static_cast<checking_sub*>(self);
        std::uint32_t pub = 0, seq = 0;
        std::memcpy(&pub, natsMsg_GetData(m), 4);
        std::memcpy(&seq, natsMsg_GetData(m) + 4, 4);
        // A queue member sees a subsequence: order, not contiguity.
        if (pub >= c->next.size() || seq < c->next[pub])
            c->out_of_order.fetch_add(1);
        else
            c->next[pub] = seq + 1;
        if (c->work.count()) {
            const auto until = std::chrono::steady_clock::now() + c->work;
            while (std::chrono::steady_clock::now() < until) {
            }
        }
        c->received.fetch_add(1, std::memory_order_relaxed);
        natsMsg_Destroy(m);
    }
    std::int64_t dropped() const {
        int64_t d = 0;
        natsSubscription_GetDropped(sub, &d);
        return d;
    }
};

// A raw subscriber on "flow" that will never read again; a small receive
// buffer so that its backlog reaches the server quickly.
void subscribe_and_stop_reading(raw_client& c) {
    int small = 4096;
    setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    c.send("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB flow 1\r\nPING\r\n");
    ASSERT_EQ(c.read_line(), "PONG\r\n");
}

struct scenario {
    const char* name;
    unsigned pubs, subs;
    bool queue;
    std::size_t size, count; // count over all publishers
    std::chrono::nanoseconds work;
};

class flow_control : public ::testing::TestWithParam<unsigned> {};

void run(unsigned shards, const scenario& sc) {
    SCOPED_TRACE(sc.name);
    test_server srv(shards);
    const std::string url = "nats://127.0.0.1:" + std::to_string(srv.port());
    std::vector<std::unique_ptr<connection>> sub_conns;
    std::vector<std::unique_ptr<checking_sub>> subs;
    for (unsigned i = 0; i < sc.subs; ++i) {
        sub_conns.push_back(std::make_unique<connection>(url));
        subs.push_back(std::make_unique<checking_sub>(
            *sub_conns.back(), "flow", sc.queue ? "workers" : nullptr, sc.pubs, sc.work));
        ASSERT_EQ(natsConnection_Flush(*sub_conns.back()), NATS_OK);
    }
    std::vector<std::unique_ptr<connection>> pub_conns;
    for (unsigned p = 0; p < sc.pubs; ++p) pub_conns.push_back(std::make_unique<connection>(url));
    // A PING round trip through each publisher: every SUB is in effect everywhere.
    for (auto& c : pub_conns) ASSERT_EQ(natsConnection_Flush(*c), NATS_OK);

    std::vector<std::thread> threads;
    const std::size_t per_pub = sc.count / sc.pubs;
    for (unsigned p = 0; p < sc.pubs; ++p)
        threads.emplace_back([&, p] {
            std::string payload(sc.size, 'x');
            for (std::uint32_t i = 0; i < per_pub; ++i) {
                stamp(payload, p, i);
                if (natsConnection_Publish(*pub_conns[p], "flow", payload.data(),
                                           static_cast<int>(payload.size())) != NATS_OK) {
                    ADD_FAILURE() << "publish failed at " << i;
                    return;
                }
            }
            EXPECT_EQ(natsConnection_FlushTimeout(*pub_conns[p], 120000), NATS_OK);
        });
    for (auto& t : threads) t.join();

    const std::uint64_t want = sc.queue ? per_pub * sc.pubs : per_pub * sc.pubs * sc.subs;
    auto total = [&] {
        std::uint64_t n = 0;
        for (auto& s : subs) n += s->received.load();
        return n;
    };
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (total() < want && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(50ms); // anything extra (a duplicate) would show now
    EXPECT_EQ(total(), want);
    for (auto& s : subs) {
        EXPECT_EQ(s->out_of_order.load(), 0u);
        EXPECT_EQ(s->dropped(), 0);
        if (!sc.queue) {
            EXPECT_EQ(s->received.load(), per_pub * sc.pubs);
        }
    }
    for (auto& c : sub_conns) EXPECT_FALSE(c->closed());
    for (auto& c : pub_conns) EXPECT_FALSE(c->closed());
    EXPECT_EQ(srv.read_log().find("Slow Consumer"), std::string::npos) << srv.read_log();
}

TEST_P(flow_control, one_publisher_one_subscriber_128b) {
    run(GetParam(),
        {"1->1 128B", 1, 1, false, 128, messages(GetParam() == 2 ? 2000000 : 500000), {}});
}
TEST_P(flow_control, fan_out_1_to_4) {
    run(GetParam(), {"1->4 128B", 1, 4, false, 128, messages(200000), {}});
}
TEST_P(flow_control, queue_group_of_4) {
    run(GetParam(), {"queue 4 128B", 1, 4, true, 128, messages(400000), {}});
}
TEST_P(flow_control, two_publishers_1k) {
    run(GetParam(), {"2 pubs 1KiB", 2, 1, false, 1024, messages(200000), {}});
}
TEST_P(flow_control, subscriber_with_1us_of_work_per_message) {
    run(GetParam(),
        {"1->1 1us/msg", 1, 1, false, 128, messages(300000), std::chrono::microseconds(1)});
}

INSTANTIATE_TEST_SUITE_P(shards, flow_control, ::testing::Values(1u, 2u, 4u),
                         [](const auto& i) { return std::to_string(i.param) + "_shards"; });

// A raw subscriber that never reads, a stock subscriber on the same subject
// and a publisher of 100 MB in 1 KiB messages: the stuck one is cut once it
// made no progress for stall_timeout; the stock one gets every message in
// order and stays; the publisher finishes. Both policies.
void stuck_reader(unsigned shards, const std::string& policy, const std::string& cut_log) {
    SCOPED_TRACE(policy);
    test_server srv(shards, "natrix { " + policy + " }\n");
    const std::string url = "nats://127.0.0.1:" + std::to_string(srv.port());
    raw_client stuck(srv.port());
    ASSERT_NO_FATAL_FAILURE(subscribe_and_stop_reading(stuck));
    connection live_c(url), pub(url);
    checking_sub live(live_c, "flow", nullptr, 1);
    ASSERT_EQ(natsConnection_Flush(live_c), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(pub), NATS_OK);
    const std::size_t n = messages(100000);
    std::string payload(1024, 'x');
    for (std::uint32_t i = 0; i < n; ++i) {
        stamp(payload, 0, i);
        ASSERT_EQ(
            natsConnection_Publish(pub, "flow", payload.data(), static_cast<int>(payload.size())),
            NATS_OK);
    }
    ASSERT_EQ(natsConnection_FlushTimeout(pub, 60000), NATS_OK);
    for (int i = 0; i < 6000 && live.received.load() < n; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(live.received.load(), n);
    EXPECT_EQ(live.out_of_order.load(), 0u);
    EXPECT_EQ(live.dropped(), 0);
    EXPECT_FALSE(live_c.closed());
    EXPECT_FALSE(pub.closed());
    stuck.drain(500ms);
    EXPECT_TRUE(stuck.closed_by_server(10s));
    EXPECT_NE(srv.read_log().find("cid:" + std::to_string(stuck.cid()) + " - " + cut_log),
              std::string::npos)
        << srv.read_log();
}

TEST_P(flow_control, stuck_reader_is_cut_after_the_stall_timeout_throttle) {
    stuck_reader(GetParam(), "stall_timeout: \"1s\"",
                 "Slow Consumer Detected: no progress for 1000ms");
}
TEST_P(flow_control, stuck_reader_is_cut_at_max_pending_evict) {
    stuck_reader(GetParam(), "slow_consumer: evict",
                 "Slow Consumer Detected: MaxPending of 67108864 Exceeded");
}

// The policy reloads: throttle -> evict with SIGHUP changes how the same stuck
// reader is cut.
TEST(flow_control_reload, slow_consumer_policy_reloads_with_sighup) {
    test_server srv(2, "natrix { slow_consumer: throttle }\n");
    { std::ofstream(srv.config_path()) << "natrix { slow_consumer: evict }\n"; }
    srv.signal(SIGHUP);
    ASSERT_TRUE(srv.wait_log("Reloaded")) << srv.read_log();
    const std::string url = "nats://127.0.0.1:" + std::to_string(srv.port());
    raw_client stuck(srv.port());
    ASSERT_NO_FATAL_FAILURE(subscribe_and_stop_reading(stuck));
    connection pub(url);
    std::string payload(1024, 'x');
    for (int i = 0; i < 100000; ++i)
        ASSERT_EQ(
            natsConnection_Publish(pub, "flow", payload.data(), static_cast<int>(payload.size())),
            NATS_OK);
    ASSERT_EQ(natsConnection_FlushTimeout(pub, 60000), NATS_OK);
    EXPECT_TRUE(srv.wait_log("MaxPending of 67108864 Exceeded", 10s)) << srv.read_log();
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    const int rc = RUN_ALL_TESTS();
    nats_Close();
    return rc;
}
