// The engine on the wire, through raw sockets, with 1, 2 and 4 shards.
// Connections land on shards at random (SO_REUSEPORT); tests that need a
// cross-shard path open connections until they have one on another shard,
// and assert that they did.
#include <atomic>
#include <csignal>
#include <fstream>
#include <memory>
#include <set>
#include <thread>

#include "test_server.hh"

using namespace natrix::test;
using namespace std::chrono_literals;

namespace {

const std::string k_quiet = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n";
const std::string k_quiet_headers =
    "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true}\r\n";

class engine_raw : public ::testing::TestWithParam<unsigned> {
protected:
    void SetUp() override { srv_ = std::make_unique<test_server>(GetParam()); }
    unsigned shards() const { return GetParam(); }
    int port() const { return srv_->port(); }

    // A connected client on a shard other than `not_shard` (when shards > 1).
    std::unique_ptr<raw_client> client_off(unsigned not_shard) {
        for (int i = 0; i < 64; ++i) {
            auto c = std::make_unique<raw_client>(port());
            if (shards() == 1 || c->shard(shards()) != not_shard) return c;
        }
        ADD_FAILURE() << "could not get a connection on another shard";
        return std::make_unique<raw_client>(port());
    }

    std::unique_ptr<test_server> srv_;
};

} // namespace

TEST_P(engine_raw, info_fields_on_accept) {
    raw_client c(port());
    const std::string& info = c.info();
    ASSERT_EQ(info.rfind("INFO {", 0), 0u) << info;
    EXPECT_NE(info.find("} \r\n"), std::string::npos) << "nats-server puts a space before CRLF";
    for (const char* key :
         {"\"server_id\":\"N", "\"server_name\":", "\"version\":\"2.9.10\"", "\"proto\":1",
          "\"host\":\"127.0.0.1\"", "\"headers\":true", "\"max_payload\":1048576",
          "\"client_id\":", "\"client_ip\":\"127.0.0.1\""})
        EXPECT_NE(info.find(key), std::string::npos) << key << " in " << info;
    EXPECT_NE(info.find("\"port\":" + std::to_string(port())), std::string::npos);
}

TEST_P(engine_raw, pub_sub_ping_pong) {
    raw_client c(port());
    c.send(k_quiet + "SUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n");
    EXPECT_EQ(c.read_until("PONG\r\n"), "MSG foo 1 5\r\nhello\r\nPONG\r\n");
}

TEST_P(engine_raw, cross_shard_pub_sub_and_wildcards) {
    raw_client sub(port());
    sub.send(k_quiet + "SUB foo.* 1\r\nSUB foo.> 2\r\nSUB foo.bar 3\r\nSUB bar 4\r\nPING\r\n");
    ASSERT_EQ(sub.read_line(), "PONG\r\n");
    auto pub = client_off(sub.shard(shards()));
    if (shards() > 1) {
        ASSERT_NE(pub->shard(shards()), sub.shard(shards()));
    }
    pub->send(k_quiet +
              "PUB foo.bar 2\r\nhi\r\nPUB foo.bar.baz 1\r\nx\r\nPUB foo 1\r\ny\r\nPING\r\n");
    ASSERT_EQ(pub->read_line(), "PONG\r\n");
    sub.send("PING\r\n");
    std::string got = sub.read_until("PONG\r\n");
    // foo.bar -> sids 1,2,3 ; foo.bar.baz -> 2 ; foo -> nobody
    for (const char* m : {"MSG foo.bar 1 2\r\nhi\r\n", "MSG foo.bar 2 2\r\nhi\r\n",
                          "MSG foo.bar 3 2\r\nhi\r\n", "MSG foo.bar.baz 2 1\r\nx\r\n"})
        EXPECT_NE(got.find(m), std::string::npos) << m << " in " << got;
    EXPECT_EQ(got.find("MSG foo "), std::string::npos) << got;
}

TEST_P(engine_raw, queue_group_exactly_one_member_across_shards) {
    std::vector<std::unique_ptr<raw_client>> members;
    std::set<unsigned> member_shards;
    // At least 8 members, and more until they span two shards.
    for (int i = 0; i < 8 || (shards() > 1 && member_shards.size() < 2 && i < 40); ++i) {
        auto m = std::make_unique<raw_client>(port());
        m->send(k_quiet + "SUB work workers 1\r\nPING\r\n");
        ASSERT_EQ(m->read_line(), "PONG\r\n");
        member_shards.insert(m->shard(shards()));
        members.push_back(std::move(m));
    }
    if (shards() > 1) {
        ASSERT_GT(member_shards.size(), 1u) << "members all landed on one shard";
    }
    raw_client pub(port());
    std::string batch = k_quiet;
    constexpr int n = 400;
    for (int i = 0; i < n; ++i)
        batch += "PUB work " + std::to_string(std::to_string(i).size()) + "\r\n" +
                 std::to_string(i) + "\r\n";
    pub.send(batch + "PING\r\n");
    ASSERT_EQ(pub.read_line(), "PONG\r\n");
    std::this_thread::sleep_for(200ms);
    std::multiset<std::string> seen;
    int members_used = 0;
    for (auto& m : members) {
        m->send("PING\r\n");
        std::string got = m->read_until("PONG\r\n");
        int count = 0;
        std::size_t pos = 0;
        while ((pos = got.find("MSG work 1 ", pos)) != std::string::npos) {
            auto eol = got.find("\r\n", pos);
            auto end = got.find("\r\n", eol + 2);
            seen.insert(got.substr(eol + 2, end - eol - 2));
            pos = end;
            ++count;
        }
        if (count) ++members_used;
    }
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) EXPECT_EQ(seen.count(std::to_string(i)), 1u) << i;
    EXPECT_GT(members_used, 1);
}

// Subjects past 64 KiB (max_control_line allows them) keep their full
// length across shards: record lengths are 32-bit.
TEST_P(engine_raw, long_subjects_cross_shards_intact) {
    test_server long_srv(shards(), "max_control_line: 300000\n");
    raw_client sub(long_srv.port());
    const std::string subject = "long." + std::string(70000, 'a');
    sub.send(k_quiet + "SUB " + subject + " 1\r\nSUB long.* 2\r\nPING\r\n");
    ASSERT_EQ(sub.read_line(), "PONG\r\n");
    std::unique_ptr<raw_client> pub;
    for (int i = 0; i < 40; ++i) {
        pub = std::make_unique<raw_client>(long_srv.port());
        pub->send(k_quiet + "PING\r\n");
        EXPECT_EQ(pub->read_line(), "PONG\r\n");
        if (shards() == 1 || pub->shard(shards()) != sub.shard(shards())) break;
    }
    pub->send("PUB " + subject + " 2\r\nok\r\nPUB long.b 1\r\nx\r\nPING\r\n");
    ASSERT_EQ(pub->read_line(), "PONG\r\n");
    sub.send("PING\r\n");
    std::string got = sub.read_until("PONG\r\n", 10s);
    EXPECT_NE(got.find("MSG " + subject + " 1 2\r\nok\r\n"), std::string::npos)
        << got.substr(0, 200);
    EXPECT_NE(got.find("MSG " + subject + " 2 2\r\nok\r\n"), std::string::npos)
        << "long.* matches too";
    EXPECT_NE(got.find("MSG long.b 2 1\r\nx\r\n"), std::string::npos) << got.substr(0, 200);
}

TEST_P(engine_raw, request_reply_across_shards) {
    raw_client responder(port());
    responder.send(k_quiet + "SUB svc 1\r\nPING\r\n");
    ASSERT_EQ(responder.read_line(), "PONG\r\n");
    auto req = client_off(responder.shard(shards()));
    req->send(k_quiet + "SUB _INBOX.r1 9\r\nPUB svc _INBOX.r1 4\r\nping\r\n");
    std::string got = responder.read_until("ping\r\n");
    EXPECT_EQ(got, "MSG svc 1 _INBOX.r1 4\r\nping\r\n");
    responder.send("PUB _INBOX.r1 4\r\npong\r\n");
    EXPECT_EQ(req->read_until("pong\r\n"), "MSG _INBOX.r1 9 4\r\npong\r\n");
}

TEST_P(engine_raw, headers_are_kept_or_stripped_per_subscriber) {
    raw_client plain(port());
    plain.send(k_quiet + "SUB h 1\r\nPING\r\n");
    ASSERT_EQ(plain.read_line(), "PONG\r\n");
    raw_client hdrs(port());
    hdrs.send(k_quiet_headers + "SUB h 2\r\nPING\r\n");
    ASSERT_EQ(hdrs.read_line(), "PONG\r\n");
    raw_client pub(port());
    pub.send(k_quiet_headers + "HPUB h 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\nPING\r\n");
    ASSERT_EQ(pub.read_line(), "PONG\r\n");
    EXPECT_EQ(plain.read_until("hello\r\n"), "MSG h 1 5\r\nhello\r\n");
    EXPECT_EQ(hdrs.read_until("hello\r\n"), "HMSG h 2 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\n");
}

TEST_P(engine_raw, no_responders_gets_503) {
    raw_client c(port());
    c.send(k_quiet_headers + "SUB _INBOX.x 7\r\nPUB nobody.home _INBOX.x 2\r\nhi\r\nPING\r\n");
    EXPECT_EQ(c.read_until("PONG\r\n"),
              "HMSG _INBOX.x 7 16 16\r\nNATS/1.0 503\r\n\r\n\r\nPONG\r\n");
}

TEST_P(engine_raw, unsub_max_and_duplicate_sids) {
    raw_client sub(port());
    sub.send(k_quiet + "SUB m 1\r\nSUB m 1\r\nSUB other 1\r\nUNSUB 1 2\r\nPING\r\n");
    ASSERT_EQ(sub.read_line(), "PONG\r\n");
    auto pub = client_off(sub.shard(shards()));
    pub->send(k_quiet +
              "PUB m 1\r\na\r\nPUB m 1\r\nb\r\nPUB m 1\r\nc\r\nPUB other 1\r\nd\r\nPING\r\n");
    ASSERT_EQ(pub->read_line(), "PONG\r\n");
    std::this_thread::sleep_for(100ms);
    sub.send("PING\r\n");
    // Only two deliveries (max 2), one per message: the duplicate SUB was ignored,
    // and "other" was never subscribed under sid 1.
    EXPECT_EQ(sub.read_until("PONG\r\n"), "MSG m 1 1\r\na\r\nMSG m 1 1\r\nb\r\nPONG\r\n");
    // UNSUB with a max already reached removes at once.
    sub.send("SUB n 5\r\nUNSUB 5 0\r\nPING\r\n");
    ASSERT_EQ(sub.read_line(), "PONG\r\n");
    pub->send("PUB n 1\r\nz\r\nPING\r\n");
    ASSERT_EQ(pub->read_line(), "PONG\r\n");
    sub.send("PING\r\n");
    EXPECT_EQ(sub.read_until("PONG\r\n"), "PONG\r\n");
}

TEST_P(engine_raw, echo_false_skips_own_messages) {
    raw_client c(port());
    c.send("CONNECT {\"verbose\":false,\"pedantic\":false,\"echo\":false}\r\nSUB e 1\r\nPUB e "
           "1\r\nx\r\nPING\r\n");
    EXPECT_EQ(c.read_until("PONG\r\n"), "PONG\r\n");
    raw_client other(port());
    other.send(k_quiet + "PUB e 1\r\ny\r\nPING\r\n");
    ASSERT_EQ(other.read_line(), "PONG\r\n");
    EXPECT_EQ(c.read_until("y\r\n"), "MSG e 1 1\r\ny\r\n");
}

TEST_P(engine_raw, verbose_mode_acks_every_op) {
    raw_client c(port());
    c.send("CONNECT {}\r\nSUB v 1\r\nPUB v 1\r\nx\r\nUNSUB 1\r\nPING\r\n");
    EXPECT_EQ(c.read_until("PONG\r\n"), "+OK\r\n+OK\r\n+OK\r\nMSG v 1 1\r\nx\r\n+OK\r\nPONG\r\n");
}

TEST_P(engine_raw, pedantic_invalid_publish_subject) {
    raw_client c(port());
    c.send("CONNECT {\"verbose\":false,\"pedantic\":true}\r\nPUB foo.* 1\r\nx\r\nPING\r\n");
    EXPECT_EQ(c.read_until("PONG\r\n"), "-ERR 'Invalid Publish Subject'\r\nPONG\r\n");
}

TEST_P(engine_raw, invalid_subject_keeps_the_connection) {
    raw_client c(port());
    c.send(k_quiet + "SUB foo..bar 1\r\nSUB foo.>.bar 2\r\nPING\r\n");
    EXPECT_EQ(c.read_until("PONG\r\n"),
              "-ERR 'Invalid Subject'\r\n-ERR 'Invalid Subject'\r\nPONG\r\n");
}

TEST_P(engine_raw, limits_close_with_the_right_error) {
    {
        raw_client c(port());
        c.send(k_quiet + "PUB foo 1048577\r\n");
        EXPECT_EQ(c.read_line(), "-ERR 'Maximum Payload Violation'\r\n");
        EXPECT_TRUE(c.closed_by_server());
    }
    {
        raw_client c(port());
        c.send(k_quiet + "SUB " + std::string(5000, 'a') + " 1\r\n");
        EXPECT_EQ(c.read_line(), "-ERR 'maximum control line exceeded'\r\n");
        EXPECT_TRUE(c.closed_by_server());
    }
    {
        raw_client c(port());
        c.send("FOO\r\n");
        EXPECT_EQ(c.read_line(), "-ERR 'Unknown Protocol Operation'\r\n");
        EXPECT_TRUE(c.closed_by_server());
    }
    {
        raw_client c(port());
        c.send("CONNECT {bad json}\r\n");
        EXPECT_TRUE(c.closed_by_server());
        EXPECT_EQ(c.drain(), "");
    }
    {
        raw_client c(port());
        c.send("CONNECT {\"protocol\":2}\r\n");
        EXPECT_EQ(c.read_line(), "-ERR 'invalid client protocol'\r\n");
        EXPECT_TRUE(c.closed_by_server());
    }
    // The server is still fine for everyone else.
    raw_client ok(port());
    ok.send(k_quiet + "PING\r\n");
    EXPECT_EQ(ok.read_line(), "PONG\r\n");
}

TEST_P(engine_raw, split_ops_byte_by_byte) {
    raw_client c(port());
    std::string stream = k_quiet + "SUB s 1\r\nPUB s 11\r\nhello world\r\nPING\r\n";
    for (char ch : stream) c.send(std::string(1, ch));
    EXPECT_EQ(c.read_until("PONG\r\n"), "MSG s 1 11\r\nhello world\r\nPONG\r\n");
}

INSTANTIATE_TEST_SUITE_P(shards, engine_raw, ::testing::Values(1u, 2u, 4u),
                         [](const auto& i) { return std::to_string(i.param) + "_shards"; });

TEST(engine_limits, max_connections_and_max_subscriptions) {
    test_server srv(2, "max_connections: 3\nmax_subscriptions: 2\n");
    raw_client a(srv.port()), b(srv.port()), c(srv.port());
    raw_client d(srv.port());
    EXPECT_EQ(d.read_line(), "-ERR 'maximum connections exceeded'\r\n");
    EXPECT_TRUE(d.closed_by_server());
    a.send(k_quiet + "SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPING\r\n");
    EXPECT_EQ(a.read_until("PONG\r\n"), "-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n");
}

// A subscriber cut as a slow consumer while the same message still had more
// of its subscriptions to serve: the rest of that delivery must not touch the
// cut session (the subscriptions it owned are freed when it closes). Only the
// max_pending cut happens in the middle of a delivery, hence evict.
TEST(engine_limits, slow_consumer_with_several_matching_subscriptions_is_cut_cleanly) {
    test_server srv(1,
                    "max_payload: 65536\nmax_pending: 262144\nnatrix { slow_consumer: evict }\n");
    raw_client stuck(srv.port()), pub(srv.port());
    stuck.send(k_quiet + "SUB big 1\r\nSUB big 2\r\nSUB b.* 3\r\nSUB > 4\r\nPING\r\n");
    ASSERT_EQ(stuck.read_line(), "PONG\r\n");
    const std::string body(32768, 'x');
    std::string burst;
    for (int i = 0; i < 16; ++i)
        burst += "PUB big " + std::to_string(body.size()) + "\r\n" + body + "\r\n";
    pub.send(k_quiet);
    // The stuck client never reads: its kernel buffers fill, then max_pending.
    for (int round = 0;
         round < 64 && srv.read_log().find("Slow Consumer Detected") == std::string::npos; ++round)
        pub.send(burst);
    ASSERT_TRUE(srv.wait_log("Slow Consumer Detected: MaxPending of 262144 Exceeded", 10s))
        << srv.read_log();
    EXPECT_TRUE(stuck.closed_by_server(10s));
    // The shard still serves everyone else.
    raw_client after(srv.port());
    after.send(k_quiet + "SUB big 9\r\nPUB big 2\r\nok\r\nPING\r\n");
    EXPECT_EQ(after.read_until("PONG\r\n"), "MSG big 9 2\r\nok\r\nPONG\r\n");
}

// A client that half-closes after its last request (`nc -N`, scripts): what
// it sent is still processed, its output written, then it is closed. The
// other subscriber makes its PUBs (and so its PING) cross shards when it is
// on another shard; on the same shard it shares the delivery loop.
void half_close_gets_everything(unsigned shards, bool other_on_another_shard) {
    test_server srv(shards);
    raw_client other(srv.port());
    other.send(k_quiet + "SUB foo 1\r\nPING\r\n");
    ASSERT_EQ(other.read_line(), "PONG\r\n");
    std::string request = k_quiet + "SUB foo 7\r\n";
    for (int i = 0; i < 5; ++i) request += "PUB foo 2\r\nm" + std::to_string(i) + "\r\n";
    request += "PING\r\n";
    std::string want;
    for (int i = 0; i < 5; ++i) want += "MSG foo 7 2\r\nm" + std::to_string(i) + "\r\n";
    want += "PONG\r\n";
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::unique_ptr<raw_client> c;
        for (int k = 0; k < 50;
             ++k) { // the kernel picks the shard: retry until it is the wanted one
            c = std::make_unique<raw_client>(srv.port());
            if ((c->shard(shards) != other.shard(shards)) == other_on_another_shard) break;
        }
        ASSERT_EQ((c->shard(shards) != other.shard(shards)), other_on_another_shard);
        c->send(request);
        c->shutdown_write();
        ASSERT_EQ(c->read_until("PONG\r\n", 5s), want) << "attempt " << attempt;
        ASSERT_TRUE(c->closed_by_server(5s)) << "attempt " << attempt;
    }
    EXPECT_GE(other.drain(500ms).size(), 100u * 5u * 15u);
}

TEST(engine_half_close, output_and_pong_arrive_with_another_subscriber_on_the_same_shard) {
    half_close_gets_everything(1, false);
}
TEST(engine_half_close, output_and_pong_arrive_with_another_subscriber_on_another_shard) {
    half_close_gets_everything(2, true);
}

// Issue #20: a reload raises max_payload from 1 MB to 8 MB under traffic.
// The shard rings were sized for 1 MB at start; the larger records cross
// shards by pointer. A publisher sends numbered messages all along; two
// subscribers, one on each shard, get every one of them in order.
TEST(engine_reload, raising_max_payload_under_traffic_loses_nothing) {
    test_server srv(2, "max_payload: 1048576\n");
    raw_client pub(srv.port());
    pub.send(k_quiet + "PING\r\n");
    ASSERT_NE(pub.read_until("PONG\r\n"), "");
    std::vector<std::unique_ptr<raw_client>> subs;
    std::set<unsigned> on;
    for (int i = 0; i < 64 && on.size() < 2; ++i) {
        auto c = std::make_unique<raw_client>(srv.port());
        if (!on.insert(c->shard(2)).second) continue;
        c->send(k_quiet + "SUB data 1\r\nPING\r\n");
        ASSERT_NE(c->read_until("PONG\r\n"), "");
        subs.push_back(std::move(c));
    }
    ASSERT_EQ(on.size(), 2u) << "no subscriber landed on the second shard";
    // Each subscriber reads as it goes (a stopped reader would be cut) and
    // keeps what it got: message number and size.
    struct got {
        std::vector<std::pair<std::size_t, std::size_t>> msgs;
        std::string error;
    };
    std::vector<got> received(subs.size());
    std::atomic<bool> publishing{true};
    std::atomic<std::size_t> total{0};
    std::vector<std::thread> readers;
    for (std::size_t k = 0; k < subs.size(); ++k)
        readers.emplace_back([&, k] {
            raw_client& c = *subs[k];
            while (publishing || received[k].msgs.size() < total) {
                const std::string head = c.read_line(30s);
                if (head == "PING\r\n") { // the server measuring its round trip
                    c.send("PONG\r\n");
                    continue;
                }
                if (!head.starts_with("MSG data 1 ")) {
                    received[k].error = "header: " + head;
                    return;
                }
                const std::size_t size = std::stoul(head.substr(11));
                const std::string body = c.read_exact(size + 2, 30s);
                if (body.size() != size + 2) {
                    received[k].error = "short body";
                    return;
                }
                received[k].msgs.emplace_back(std::stoul(body), size);
            }
        });
    // Before, during and after the reload: sizes cycle through small and
    // under the old limit, and after it up to 4 MB.
    std::vector<std::size_t> sizes;
    const auto publish = [&](std::size_t size) {
        const std::size_t n = sizes.size();
        std::string body = std::to_string(n) + ":";
        body.resize(size, static_cast<char>('a' + n % 26));
        pub.send("PUB data " + std::to_string(body.size()) + "\r\n" + body + "\r\n");
        sizes.push_back(size);
    };
    std::atomic<bool> reloaded{false};
    std::thread reloader([&] {
        std::this_thread::sleep_for(50ms);
        std::ofstream(srv.config_path(), std::ios::trunc) << "max_payload: 8388608\n";
        srv.signal(SIGHUP);
        reloaded = srv.wait_log("Reloaded server configuration", 20s);
    });
    for (int i = 0; (!reloaded || i < 40) && i < 4000; ++i) {
        publish(i % 2 ? 100 : 700 * 1024);
        if (reloaded && i % 4 == 3) publish((4u << 20) + static_cast<std::size_t>(i));
        std::this_thread::sleep_for(5ms);
    }
    reloader.join();
    pub.send("PING\r\n");
    const std::string pong = pub.read_until("PONG\r\n", 30s);
    total = sizes.size();
    publishing = false;
    for (auto& t : readers) t.join();
    ASSERT_TRUE(reloaded.load()) << srv.read_log();
    ASSERT_EQ(pong, "PONG\r\n") << srv.read_log();
    for (std::size_t k = 0; k < subs.size(); ++k) {
        ASSERT_EQ(received[k].error, "") << "subscriber " << k;
        ASSERT_EQ(received[k].msgs.size(), sizes.size()) << "subscriber " << k;
        for (std::size_t n = 0; n < sizes.size(); ++n)
            ASSERT_EQ(received[k].msgs[n], std::make_pair(n, sizes[n])) << "subscriber " << k;
    }
    EXPECT_EQ(srv.stop(), 0);
}

TEST(engine_limits, stale_connection_after_unanswered_pings) {
    test_server srv(2, "ping_interval: \"1s\"\nping_max: 1\n");
    raw_client c(srv.port());
    c.send(k_quiet);
    // First PING within ~1.2s; not answered; next interval -> stale.
    EXPECT_EQ(c.read_line(3s), "PING\r\n");
    EXPECT_EQ(c.read_line(4s), "-ERR 'Stale Connection'\r\n");
    EXPECT_TRUE(c.closed_by_server());
}

TEST(engine_lifecycle, sigterm_stops_cleanly) {
    test_server srv(2);
    raw_client c(srv.port());
    c.send(k_quiet + "PING\r\n");
    ASSERT_EQ(c.read_line(), "PONG\r\n");
    EXPECT_EQ(srv.stop(), 0);
    EXPECT_TRUE(c.closed_by_server());
    EXPECT_NE(srv.read_log().find("Server Exiting"), std::string::npos);
}

TEST(engine_lifecycle, bad_config_fails_with_a_clear_error) {
    test_server* srv = nullptr;
    (void)srv;
    // Run the binary directly: a config error must exit non-zero with file:line.
    char path[] = "/tmp/natrix-badconf-XXXXXX";
    int fd = mkstemp(path);
    std::string bad = "port: 4222\nmax_payload: [\n";
    ASSERT_EQ(::write(fd, bad.data(), bad.size()), static_cast<ssize_t>(bad.size()));
    ::close(fd);
    std::string cmd = natrix_bin() + " -c " + path + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out += buf;
    int status = pclose(p);
    ::unlink(path);
    EXPECT_NE(WEXITSTATUS(status), 0);
    EXPECT_NE(out.find(std::string(path) + ":"), std::string::npos) << out;
}

// SO_REUSEPORT lets the shards share a port; it must not let a second
// natrix share it too and split the clients between two servers.
TEST(engine_lifecycle, a_port_in_use_is_refused) {
    test_server srv(2);
    std::string cmd = natrix_bin() + " -a 127.0.0.1 -p " + std::to_string(srv.port()) + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out += buf;
    int status = pclose(p);
    EXPECT_NE(WEXITSTATUS(status), 0) << out;
    EXPECT_NE(out.find("Address already in use"), std::string::npos) << out;
    raw_client c(srv.port());
    c.send(k_quiet + "PING\r\n");
    EXPECT_EQ(c.read_line(), "PONG\r\n");
}

// One publisher on shard A feeding 12 subscribers on shard B with 1 KiB
// messages makes B do 12x the work of A, so A's ring to B fills and its
// overflow grows past the watermark: A must pause reading its client (TCP
// back-pressure, nothing dropped) and every subscriber must still get every
// message, in order.
TEST(engine_backpressure, ring_overflow_pauses_input_and_loses_nothing) {
    test_server srv(2, "max_payload: 2048\nnatrix { ring_capacity: 4KB }\n", {"-D"});
    constexpr std::size_t nsubs = 12;
    std::vector<std::unique_ptr<raw_client>> subs;
    unsigned sub_shard = 0;
    for (int tries = 0; subs.size() < nsubs && tries < 500; ++tries) {
        auto c = std::make_unique<raw_client>(srv.port());
        if (subs.empty()) sub_shard = c->shard(2);
        if (c->shard(2) != sub_shard) continue;
        c->send(k_quiet + "SUB flood 1\r\nPING\r\n");
        ASSERT_EQ(c->read_line(), "PONG\r\n");
        subs.push_back(std::move(c));
    }
    ASSERT_EQ(subs.size(), nsubs);
    std::unique_ptr<raw_client> pub;
    do {
        pub = std::make_unique<raw_client>(srv.port());
    } while (pub->shard(2) == sub_shard);
    pub->send(k_quiet);
    constexpr int n = 6000;
    auto body_of = [](int i) {
        std::string b = std::to_string(i);
        b.resize(1024, '.');
        return b;
    };
    std::string batch;
    for (int i = 0; i < n; ++i) batch += "PUB flood 1024\r\n" + body_of(i) + "\r\n";
    // Readers keep up in the background so subscribers are never slow consumers.
    std::atomic<bool> ok{true};
    std::vector<std::thread> readers;
    for (auto& s : subs) {
        readers.emplace_back([&ok, &body_of, c = s.get()] {
            for (int i = 0; i < n && ok; ++i) {
                if (c->read_until("\r\n", 30s) != "MSG flood 1 1024\r\n" ||
                    c->read_until("\r\n", 30s) != body_of(i) + "\r\n") {
                    ok = false;
                    return;
                }
            }
        });
    }
    pub->send(batch + "PING\r\n");
    // The flood can outlast the server's first PING (2 s after CONNECT).
    std::string line = pub->read_line(60s);
    while (line == "PING\r\n") {
        pub->send("PONG\r\n");
        line = pub->read_line(60s);
    }
    EXPECT_EQ(line, "PONG\r\n");
    for (auto& t : readers) t.join();
    EXPECT_TRUE(ok.load()) << "a subscriber missed or reordered a message";
    const std::string log = srv.read_log();
    EXPECT_NE(log.find("pausing client input"), std::string::npos) << "back-pressure never engaged";
    EXPECT_NE(log.find("resuming client input"), std::string::npos);
    EXPECT_EQ(log.find("Slow Consumer"), std::string::npos) << log;
}
