// Client authentication end to end: the real natrix binary with a stock
// client (nats.c) for token, user/password, bcrypt and no_auth_user, and a
// raw socket for the auth timeout and ops before CONNECT.
#include <memory>

#include <crypt.h>
#include <nats/nats.h>

#include "test_server.hh"

using namespace natrix::test;
using namespace std::chrono_literals;

namespace {

// A bcrypt ($2b$, cost 4) hash of `password`, as `nats server passwd` makes.
std::string bcrypt(const std::string& password) {
    const char rbytes[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    EXPECT_NE(crypt_gensalt_rn("$2b$", 4, rbytes, sizeof rbytes, setting, sizeof setting), nullptr);
    auto data = std::make_unique<crypt_data>();
    const char* h = crypt_r(password.c_str(), setting, data.get());
    return h ? std::string(h) : std::string();
}

struct creds {
    const char* user = nullptr;
    const char* pass = nullptr;
    const char* token = nullptr;
};

// Connects with the given credentials; *nc is null on failure.
natsStatus connect(const test_server& srv, const creds& c, natsConnection** nc) {
    natsOptions* o = nullptr;
    natsOptions_Create(&o);
    natsOptions_SetURL(o, srv.url().c_str());
    if (c.user) natsOptions_SetUserInfo(o, c.user, c.pass);
    if (c.token) natsOptions_SetToken(o, c.token);
    natsOptions_SetAllowReconnect(o, false);
    *nc = nullptr;
    natsStatus s = natsConnection_Connect(nc, o);
    natsOptions_Destroy(o);
    return s;
}

// Good credentials: the connection works for pub/sub (a subscriber and a
// publisher, both authenticated).
void expect_pub_sub_works(const test_server& srv, const creds& c) {
    natsConnection* sub_nc = nullptr;
    natsConnection* pub_nc = nullptr;
    ASSERT_EQ(connect(srv, c, &sub_nc), NATS_OK);
    ASSERT_EQ(connect(srv, c, &pub_nc), NATS_OK);
    natsSubscription* sub = nullptr;
    ASSERT_EQ(natsConnection_SubscribeSync(&sub, sub_nc, "auth.it"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(sub_nc), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(pub_nc, "auth.it", "hello"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(pub_nc), NATS_OK);
    natsMsg* m = nullptr;
    ASSERT_EQ(natsSubscription_NextMsg(&m, sub, 2000), NATS_OK);
    EXPECT_EQ(std::string(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))),
              "hello");
    natsMsg_Destroy(m);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(sub_nc);
    natsConnection_Destroy(pub_nc);
}

// Bad credentials: nats.c reports the server's Authorization Violation as
// NATS_CONNECTION_AUTH_FAILED and gives no connection.
void expect_rejected(const test_server& srv, const creds& c) {
    natsConnection* nc = nullptr;
    natsStatus s = connect(srv, c, &nc);
    EXPECT_EQ(s, NATS_CONNECTION_AUTH_FAILED) << natsStatus_GetText(s);
    EXPECT_EQ(nc, nullptr);
    natsConnection_Destroy(nc);
}

class auth : public ::testing::TestWithParam<unsigned> {};

} // namespace

TEST_P(auth, token) {
    test_server srv(GetParam(), "authorization { token: t0ken }");
    expect_pub_sub_works(srv, {.token = "t0ken"});
    expect_rejected(srv, {.token = "other"});
    expect_rejected(srv, {});
    // Each rejection is logged with the client's address and the reason.
    EXPECT_TRUE(srv.wait_log("127.0.0.1:"));
    EXPECT_TRUE(srv.wait_log("authentication error: wrong token"));
    EXPECT_TRUE(srv.wait_log("authentication error: no token given"));
}

TEST_P(auth, user_password) {
    test_server srv(GetParam(), "authorization { user: alice, password: s3cret }");
    expect_pub_sub_works(srv, {.user = "alice", .pass = "s3cret"});
    expect_rejected(srv, {.user = "alice", .pass = "nope"});
    expect_rejected(srv, {.user = "bob", .pass = "s3cret"});
    expect_rejected(srv, {});
    EXPECT_TRUE(srv.wait_log("authentication error: wrong password for user \"alice\""));
    EXPECT_TRUE(srv.wait_log("authentication error: unknown user \"bob\""));
}

TEST_P(auth, bcrypt_users_and_no_auth_user) {
    const std::string hash = bcrypt("b-pass");
    ASSERT_EQ(hash.rfind("$2b$04$", 0), 0u) << hash;
    test_server srv(GetParam(), "authorization { users: [\n"
                                "  {user: alice, password: a-pass}\n"
                                "  {user: bob, password: \"" +
                                    hash +
                                    "\"}\n"
                                    "] }\n"
                                    "no_auth_user: alice\n");
    expect_pub_sub_works(srv, {.user = "bob", .pass = "b-pass"});
    expect_rejected(srv, {.user = "bob", .pass = "a-pass"});
    expect_rejected(srv, {.user = "bob", .pass = hash.c_str()});
    expect_pub_sub_works(srv, {.user = "alice", .pass = "a-pass"});
    // No user name: bound to no_auth_user.
    expect_pub_sub_works(srv, {});
    // ... even for ops sent before any CONNECT.
    raw_client raw(srv.port());
    // INFO does not ask for auth when no_auth_user can stand in (nats-server).
    EXPECT_EQ(raw.info().find("auth_required"), std::string::npos) << raw.info();
    raw.send("PING\r\n");
    EXPECT_EQ(raw.read_line(), "PONG\r\n");
    // As nats-server 2.9.10: after that binding, an empty CONNECT is refused.
    raw.send("CONNECT {\"verbose\":false}\r\n");
    EXPECT_EQ(raw.read_line(), "-ERR 'Authorization Violation'\r\n");
    EXPECT_TRUE(raw.closed_by_server(2s));
}

TEST_P(auth, raw_timeout_and_ops_before_connect) {
    test_server srv(GetParam(), "authorization { user: alice, password: s3cret, timeout: 0.5 }");
    {
        raw_client c(srv.port());
        EXPECT_NE(c.info().find("\"auth_required\":true"), std::string::npos) << c.info();
        const auto t0 = std::chrono::steady_clock::now();
        EXPECT_EQ(c.read_line(3s), "-ERR 'Authentication Timeout'\r\n");
        const auto waited = std::chrono::steady_clock::now() - t0;
        EXPECT_GE(waited, 400ms);
        EXPECT_LE(waited, 1500ms);
        EXPECT_TRUE(c.closed_by_server(2s));
        EXPECT_TRUE(srv.wait_log("authentication timeout"));
    }
    {
        raw_client c(srv.port());
        c.send("SUB x 1\r\n");
        EXPECT_EQ(c.read_line(), "-ERR 'Authorization Violation'\r\n");
        EXPECT_TRUE(c.closed_by_server(2s));
    }
    {
        // Authenticating in time stops the timer; a second CONNECT is checked again.
        raw_client c(srv.port());
        c.send("CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"s3cret\"}\r\nPING\r\n");
        EXPECT_EQ(c.read_line(), "PONG\r\n");
        std::this_thread::sleep_for(800ms);
        c.send("PING\r\n");
        EXPECT_EQ(c.read_line(), "PONG\r\n");
        c.send("CONNECT {\"pass\":\"wrong\"}\r\n");
        EXPECT_EQ(c.read_line(), "-ERR 'Authorization Violation'\r\n");
        EXPECT_TRUE(c.closed_by_server(2s));
    }
}

// A bcrypt check runs beside the shard, not on it: while one client's slow
// login is being verified, another client of the same (only) shard is
// served, and the slow client's pipelined ops wait for its verdict.
TEST(auth_worker, bcrypt_login_does_not_hold_up_the_shard) {
    // Cost 12: ~0.3 s here, far longer than a PING round trip.
    const char rbytes[16] = {1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 44, 33, 22, 11, 0};
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    ASSERT_NE(crypt_gensalt_rn("$2b$", 12, rbytes, sizeof rbytes, setting, sizeof setting),
              nullptr);
    auto data = std::make_unique<crypt_data>();
    const std::string hash = crypt_r("slow-pass", setting, data.get());
    test_server srv(1, "authorization { users: [ {user: fast, password: f}, "
                       "{user: slow, password: \"" +
                           hash + "\"} ] }");
    raw_client fast(srv.port());
    fast.send("CONNECT {\"verbose\":false,\"user\":\"fast\",\"pass\":\"f\"}\r\nPING\r\n");
    ASSERT_EQ(fast.read_line(), "PONG\r\n");
    raw_client slow(srv.port());
    slow.send("CONNECT {\"verbose\":false,\"user\":\"slow\",\"pass\":\"slow-pass\"}\r\n"
              "SUB after.login 1\r\nPING\r\n");
    // The fast client's round trips complete while the slow one waits.
    for (int i = 0; i < 3; ++i) {
        fast.send("PING\r\n");
        ASSERT_EQ(fast.read_line(), "PONG\r\n");
    }
    EXPECT_EQ(slow.drain(0ms), "") << "the slow login answered before the fast client was served";
    // Then the verdict, and the parked SUB and PING run in order.
    EXPECT_EQ(slow.read_line(10s), "PONG\r\n");
    fast.send("PUB after.login 2\r\nok\r\nPING\r\n");
    ASSERT_EQ(fast.read_line(), "PONG\r\n");
    EXPECT_EQ(slow.read_line(), "MSG after.login 1 2\r\n");
}

INSTANTIATE_TEST_SUITE_P(shards, auth, ::testing::Values(1u, 2u));

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    int rc = RUN_ALL_TESTS();
    nats_Close(); // frees the library's global state so LeakSanitizer stays quiet
    return rc;
}
