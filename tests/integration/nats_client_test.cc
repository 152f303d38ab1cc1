// The engine with a stock client: nats.c (Debian libnats), over 1, 2 and 4
// shards, plus slow-consumer eviction and a 10-second mixed-load soak.
#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include <nats/nats.h>

#include "test_server.hh"

using namespace natrix::test;
using namespace std::chrono_literals;

namespace {

struct nats_conn {
    natsConnection* nc = nullptr;
    explicit nats_conn(const std::string& url, bool no_echo = false) {
        natsOptions* o = nullptr;
        natsOptions_Create(&o);
        natsOptions_SetURL(o, url.c_str());
        natsOptions_SetNoEcho(o, no_echo);
        natsStatus s = natsConnection_Connect(&nc, o);
        natsOptions_Destroy(o);
        EXPECT_EQ(s, NATS_OK) << natsStatus_GetText(s);
    }
    ~nats_conn() { natsConnection_Destroy(nc); }
    std::uint64_t cid() const {
        std::uint64_t id = 0;
        natsConnection_GetClientID(nc, &id);
        return id;
    }
    operator natsConnection*() const { return nc; }
};

struct sync_sub {
    natsSubscription* sub = nullptr;
    sync_sub(natsConnection* nc, const char* subject, const char* queue = nullptr) {
        natsStatus s = queue ? natsConnection_QueueSubscribeSync(&sub, nc, subject, queue)
                             : natsConnection_SubscribeSync(&sub, nc, subject);
        EXPECT_EQ(s, NATS_OK);
        natsSubscription_SetPendingLimits(sub, -1, -1);
    }
    ~sync_sub() { natsSubscription_Destroy(sub); }
    // Next message's data, or "" on timeout.
    std::string next(int64_t timeout_ms = 2000) {
        natsMsg* m = nullptr;
        if (natsSubscription_NextMsg(&m, sub, timeout_ms) != NATS_OK) return "";
        std::string d(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
        natsMsg_Destroy(m);
        return d;
    }
};

class nats_client : public ::testing::TestWithParam<unsigned> {
protected:
    void SetUp() override { srv_ = std::make_unique<test_server>(GetParam()); }
    unsigned shards() const { return GetParam(); }
    unsigned shard_of(const nats_conn& c) const {
        return static_cast<unsigned>((c.cid() - 1) % shards());
    }
    std::unique_ptr<test_server> srv_;
};

} // namespace

TEST_P(nats_client, publish_subscribe_across_shards) {
    nats_conn sub_c(srv_->url());
    sync_sub sub(sub_c, "greet.*");
    ASSERT_EQ(natsConnection_Flush(sub_c), NATS_OK);
    // A publisher on another shard than the subscriber, when there is one.
    std::unique_ptr<nats_conn> pub;
    for (int i = 0; i < 64; ++i) {
        pub = std::make_unique<nats_conn>(srv_->url());
        if (shards() == 1 || shard_of(*pub) != shard_of(sub_c)) break;
    }
    if (shards() > 1) {
        ASSERT_NE(shard_of(*pub), shard_of(sub_c));
    }
    for (int i = 0; i < 100; ++i)
        ASSERT_EQ(natsConnection_PublishString(*pub, "greet.world", std::to_string(i).c_str()),
                  NATS_OK);
    ASSERT_EQ(natsConnection_Flush(*pub), NATS_OK);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(sub.next(), std::to_string(i));
    EXPECT_EQ(sub.next(200), "");
}

TEST_P(nats_client, request_reply_and_no_responders) {
    nats_conn responder(srv_->url());
    natsSubscription* s = nullptr;
    ASSERT_EQ(natsConnection_Subscribe(
                  &s, responder, "svc.echo",
                  [](natsConnection* nc, natsSubscription*, natsMsg* m, void*) {
                      natsConnection_Publish(nc, natsMsg_GetReply(m), natsMsg_GetData(m),
                                             natsMsg_GetDataLength(m));
                      natsMsg_Destroy(m);
                  },
                  nullptr),
              NATS_OK);
    ASSERT_EQ(natsConnection_Flush(responder), NATS_OK);
    nats_conn requester(srv_->url());
    for (int i = 0; i < 20; ++i) {
        natsMsg* reply = nullptr;
        std::string body = "req" + std::to_string(i);
        ASSERT_EQ(natsConnection_RequestString(&reply, requester, "svc.echo", body.c_str(), 2000),
                  NATS_OK);
        EXPECT_EQ(std::string(natsMsg_GetData(reply),
                              static_cast<std::size_t>(natsMsg_GetDataLength(reply))),
                  body);
        natsMsg_Destroy(reply);
    }
    natsMsg* reply = nullptr;
    EXPECT_EQ(natsConnection_RequestString(&reply, requester, "svc.nobody", "x", 2000),
              NATS_NO_RESPONDERS);
    natsSubscription_Destroy(s);
}

TEST_P(nats_client, queue_group_delivers_each_message_once) {
    std::vector<std::unique_ptr<nats_conn>> conns;
    std::vector<std::unique_ptr<sync_sub>> subs;
    std::set<unsigned> used_shards;
    // At least 6 members, and more until they span two shards (the kernel
    // spreads connections by hash, so 6 can land on one).
    for (int i = 0; i < 6 || (shards() > 1 && used_shards.size() < 2 && i < 40); ++i) {
        conns.push_back(std::make_unique<nats_conn>(srv_->url()));
        subs.push_back(std::make_unique<sync_sub>(*conns.back(), "jobs", "workers"));
        ASSERT_EQ(natsConnection_Flush(*conns.back()), NATS_OK);
        used_shards.insert(shard_of(*conns.back()));
    }
    if (shards() > 1) {
        ASSERT_GT(used_shards.size(), 1u);
    }
    nats_conn pub(srv_->url());
    constexpr int n = 600;
    for (int i = 0; i < n; ++i)
        natsConnection_PublishString(pub, "jobs", std::to_string(i).c_str());
    ASSERT_EQ(natsConnection_Flush(pub), NATS_OK);
    std::multiset<std::string> got;
    for (auto& s : subs)
        for (std::string m = s->next(500); !m.empty(); m = s->next(300)) got.insert(m);
    EXPECT_EQ(got.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) EXPECT_EQ(got.count(std::to_string(i)), 1u) << i;
}

TEST_P(nats_client, headers_round_trip) {
    nats_conn c(srv_->url());
    sync_sub sub(c, "hdr");
    ASSERT_EQ(natsConnection_Flush(c), NATS_OK);
    natsMsg* m = nullptr;
    ASSERT_EQ(natsMsg_Create(&m, "hdr", nullptr, "body", 4), NATS_OK);
    ASSERT_EQ(natsMsgHeader_Set(m, "Trace-Id", "abc123"), NATS_OK);
    ASSERT_EQ(natsConnection_PublishMsg(c, m), NATS_OK);
    natsMsg_Destroy(m);
    natsMsg* in = nullptr;
    ASSERT_EQ(natsSubscription_NextMsg(&in, sub.sub, 2000), NATS_OK);
    const char* v = nullptr;
    ASSERT_EQ(natsMsgHeader_Get(in, "Trace-Id", &v), NATS_OK);
    EXPECT_STREQ(v, "abc123");
    EXPECT_EQ(std::string(natsMsg_GetData(in), 4), "body");
    natsMsg_Destroy(in);
}

TEST_P(nats_client, auto_unsubscribe_and_no_echo) {
    nats_conn c(srv_->url(), /*no_echo=*/true);
    sync_sub own(c, "echo.test");
    nats_conn other(srv_->url());
    sync_sub theirs(other, "echo.test");
    natsSubscription_AutoUnsubscribe(theirs.sub, 3);
    ASSERT_EQ(natsConnection_Flush(c), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(other), NATS_OK);
    for (int i = 0; i < 5; ++i)
        natsConnection_PublishString(c, "echo.test", std::to_string(i).c_str());
    ASSERT_EQ(natsConnection_Flush(c), NATS_OK);
    EXPECT_EQ(theirs.next(), "0");
    EXPECT_EQ(theirs.next(), "1");
    EXPECT_EQ(theirs.next(), "2");
    EXPECT_EQ(theirs.next(300), "");
    EXPECT_EQ(own.next(300), "") << "no_echo connection got its own message";
}

INSTANTIATE_TEST_SUITE_P(shards, nats_client, ::testing::Values(1u, 2u, 4u),
                         [](const auto& i) { return std::to_string(i.param) + "_shards"; });

// A subscriber that stops reading is cut by its own shard, and a healthy
// subscriber loses nothing. evict: cut at max_pending, the publisher never
// waits. throttle (the default): the publisher waits for the stuck one until
// it has made no progress for stall_timeout, then it is cut.
void stuck_subscriber_is_cut(const std::string& policy, const std::string& cut_log) {
    test_server srv(2, "max_payload: 65536\nmax_pending: 1048576\nnatrix { " + policy + " }\n");
    raw_client slow(srv.port());
    slow.send("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB firehose 1\r\nPING\r\n");
    ASSERT_EQ(slow.read_line(), "PONG\r\n");
    // Shrink the slow reader's socket buffer so its backlog reaches the server fast.
    int small = 4096;
    setsockopt(slow.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);

    nats_conn fast_c(srv.url());
    std::atomic<int> fast_count{0};
    natsSubscription* fast = nullptr;
    ASSERT_EQ(natsConnection_Subscribe(
                  &fast, fast_c, "firehose",
                  [](natsConnection*, natsSubscription*, natsMsg* m, void* c) {
                      static_cast<std::atomic<int>*>(c)->fetch_add(1);
                      natsMsg_Destroy(m);
                  },
                  &fast_count),
              NATS_OK);
    natsSubscription_SetPendingLimits(fast, -1, -1);
    ASSERT_EQ(natsConnection_Flush(fast_c), NATS_OK);

    nats_conn pub(srv.url());
    constexpr int n = 30000;
    std::string payload(1024, 'x');
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
        ASSERT_EQ(natsConnection_Publish(pub, "firehose", payload.data(),
                                         static_cast<int>(payload.size())),
                  NATS_OK);
        if (i % 100 == 99) {
            // Pace by the healthy subscriber, never by the stuck one.
            ASSERT_EQ(natsConnection_FlushTimeout(pub, 5000), NATS_OK);
            for (int w = 0; w < 2000 && fast_count.load() < i - 200; ++w)
                std::this_thread::sleep_for(1ms);
        }
    }
    ASSERT_EQ(natsConnection_FlushTimeout(pub, 5000), NATS_OK);
    const auto publish_time = std::chrono::steady_clock::now() - start;
    EXPECT_LT(publish_time, 30s) << "publisher was stalled";

    for (int i = 0; i < 500 && fast_count.load() < n; ++i) std::this_thread::sleep_for(20ms);
    EXPECT_EQ(fast_count.load(), n);
    // The slow one was cut: after what the kernel buffered, EOF.
    slow.drain(1s);
    EXPECT_TRUE(slow.closed_by_server(10s)) << srv.read_log();
    EXPECT_NE(
        srv.read_log().find("cid:" + std::to_string(slow.cid()) + " - Slow Consumer Detected"),
        std::string::npos)
        << srv.read_log();
    EXPECT_NE(srv.read_log().find(cut_log), std::string::npos) << srv.read_log();
    natsSubscription_Destroy(fast);
}

TEST(slow_consumer, evict_cuts_at_max_pending_and_others_lose_nothing) {
    stuck_subscriber_is_cut("slow_consumer: evict",
                            "Slow Consumer Detected: MaxPending of 1048576 Exceeded");
}

TEST(slow_consumer, throttle_cuts_a_stalled_reader_and_others_lose_nothing) {
    stuck_subscriber_is_cut("slow_consumer: throttle, stall_timeout: \"1s\"",
                            "Slow Consumer Detected: no progress for 1000ms");
}

// Ten seconds of mixed load over 4 shards: plain and wildcard subscribers on
// several connections, several publishers; nothing lost, per-publisher order kept.
TEST(soak, ten_seconds_mixed_load_no_loss_in_order) {
    test_server srv(4);
    constexpr int publishers = 3;
    struct tracker {
        std::mutex mu;
        std::map<int, long> next; // publisher -> next expected sequence
        long received = 0;
        bool in_order = true;
    };
    std::vector<std::unique_ptr<nats_conn>> sub_conns;
    std::vector<std::unique_ptr<tracker>> trackers;
    std::vector<natsSubscription*> subs;
    for (const char* subject : {"soak.>", "soak.*", "soak.1", "soak.>"}) {
        sub_conns.push_back(std::make_unique<nats_conn>(srv.url()));
        trackers.push_back(std::make_unique<tracker>());
        natsSubscription* s = nullptr;
        ASSERT_EQ(natsConnection_Subscribe(
                      &s, *sub_conns.back(), subject,
                      [](natsConnection*, natsSubscription*, natsMsg* m, void* c) {
                          auto* t = static_cast<tracker*>(c);
                          std::string d(natsMsg_GetData(m),
                                        static_cast<std::size_t>(natsMsg_GetDataLength(m)));
                          const int p = std::stoi(d.substr(0, d.find(':')));
                          const long seq = std::stol(d.substr(d.find(':') + 1));
                          std::lock_guard lock(t->mu);
                          if (t->next[p] != seq) t->in_order = false;
                          t->next[p] = seq + 1;
                          ++t->received;
                          natsMsg_Destroy(m);
                      },
                      trackers.back().get()),
                  NATS_OK);
        natsSubscription_SetPendingLimits(s, -1, -1);
        ASSERT_EQ(natsConnection_Flush(*sub_conns.back()), NATS_OK);
        subs.push_back(s);
    }
    std::atomic<bool> stop{false};
    std::vector<long> sent(publishers, 0);
    std::vector<std::thread> threads;
    for (int p = 0; p < publishers; ++p) {
        threads.emplace_back([&, p] {
            nats_conn c(srv.url());
            const std::string subject = "soak." + std::to_string(p);
            long seq = 0;
            while (!stop.load()) {
                std::string body = std::to_string(p) + ":" + std::to_string(seq) + ":" +
                                   std::string(seq % 200, 'p');
                if (natsConnection_PublishString(c, subject.c_str(), body.c_str()) != NATS_OK)
                    break;
                ++seq;
                if (seq % 500 == 0) natsConnection_FlushTimeout(c, 5000);
            }
            natsConnection_FlushTimeout(c, 5000);
            sent[static_cast<std::size_t>(p)] = seq;
        });
    }
    std::this_thread::sleep_for(10s);
    stop = true;
    for (auto& t : threads) t.join();
    long total = 0;
    for (long s : sent) total += s;
    ASSERT_GT(total, 1000);
    // Expected per subscriber: soak.> and soak.* see all; soak.1 sees publisher 1.
    const long expect[] = {total, total, sent[1], total};
    for (int i = 0; i < 600; ++i) {
        bool done = true;
        for (std::size_t k = 0; k < trackers.size(); ++k) {
            std::lock_guard lock(trackers[k]->mu);
            if (trackers[k]->received < expect[k]) done = false;
        }
        if (done) break;
        std::this_thread::sleep_for(50ms);
    }
    for (std::size_t k = 0; k < trackers.size(); ++k) {
        std::lock_guard lock(trackers[k]->mu);
        EXPECT_EQ(trackers[k]->received, expect[k]) << "subscriber " << k;
        EXPECT_TRUE(trackers[k]->in_order) << "subscriber " << k;
    }
    for (auto* s : subs) natsSubscription_Destroy(s);
    std::printf("soak: %ld messages published in 10 s (ASan build)\n", total);
}

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    int rc = RUN_ALL_TESTS();
    nats_Close(); // frees the library's global state so LeakSanitizer stays quiet
    return rc;
}
