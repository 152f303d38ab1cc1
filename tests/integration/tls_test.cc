// Client TLS with the nats.c client (issue #17): server authentication,
// mutual TLS, certificates refused for the right reasons (another CA, an
// expired one, a wrong hostname), verify_and_map logins with permissions,
// allow_non_tls, and a client that never finishes its handshake. The
// certificates are made fresh for each run by tls_certs.sh (TLS_CERTS_SCRIPT).
// NATRIX_TEST_SHARDS sets the shard count (default 2).
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>

#include <nats/nats.h>

#include "test_server.hh"

namespace natrix::test {
namespace {

std::string certs_dir() {
    static const std::string dir = [] {
        char tmpl[] = "/tmp/natrix-tls-XXXXXX";
        std::string d = mkdtemp(tmpl);
        const char* script = std::getenv("TLS_CERTS_SCRIPT");
        const std::string cmd = std::string(script ? script : "tls_certs.sh") + " " + d;
        EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
        return d;
    }();
    return dir;
}

std::string cert(const std::string& name) {
    return certs_dir() + "/" + name;
}

unsigned shards() {
    const char* s = std::getenv("NATRIX_TEST_SHARDS");
    return s && *s ? static_cast<unsigned>(std::atoi(s)) : 2u;
}

std::string tls_block(const std::string& extra = "", const std::string& server = "server") {
    return "tls {\n  cert_file: \"" + cert(server + ".pem") + "\"\n  key_file: \"" +
           cert(server + ".key") + "\"\n  ca_file: \"" + cert("ca.pem") + "\"\n" + extra + "}\n";
}

struct tls_client {
    std::string ca = "ca.pem";
    std::string cert; // client certificate name, "" for none
    std::string host = "localhost";
    bool secure = true;
    bool skip_verify = false;
};

// Connects with nats.c; the status and, on success, the connection.
natsStatus connect(int port, const tls_client& c, natsConnection** nc,
                   natsErrHandler on_error = nullptr, void* closure = nullptr) {
    natsOptions* o = nullptr;
    natsOptions_Create(&o);
    const std::string url = "nats://127.0.0.1:" + std::to_string(port);
    natsOptions_SetURL(o, url.c_str());
    natsOptions_SetAllowReconnect(o, false);
    natsOptions_SetTimeout(o, 3000);
    if (c.secure) natsOptions_SetSecure(o, true);
    if (!c.ca.empty()) natsOptions_LoadCATrustedCertificates(o, cert(c.ca).c_str());
    if (!c.cert.empty())
        natsOptions_LoadCertificatesChain(o, cert(c.cert + ".pem").c_str(),
                                          cert(c.cert + ".key").c_str());
    if (!c.host.empty()) natsOptions_SetExpectedHostname(o, c.host.c_str());
    if (c.skip_verify) natsOptions_SkipServerVerification(o, true);
    if (on_error) natsOptions_SetErrorHandler(o, on_error, closure);
    const natsStatus s = natsConnection_Connect(nc, o);
    natsOptions_Destroy(o);
    if (s != NATS_OK) *nc = nullptr;
    return s;
}

// A round trip through the server on `nc`: subscribe, publish, receive.
bool round_trip(natsConnection* nc, const char* subject = "tls.echo") {
    natsSubscription* sub = nullptr;
    if (natsConnection_SubscribeSync(&sub, nc, subject) != NATS_OK) return false;
    natsConnection_PublishString(nc, subject, "over tls");
    natsMsg* m = nullptr;
    const bool ok = natsSubscription_NextMsg(&m, sub, 3000) == NATS_OK &&
                    std::string(natsMsg_GetData(m)) == "over tls";
    natsMsg_Destroy(m);
    natsSubscription_Destroy(sub);
    return ok;
}

// The plain-text INFO line a raw TCP client gets.
std::string raw_info(int port, int* fd_out = nullptr) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return "";
    timeval tv{3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string got;
    char buf[4096];
    while (got.find("\r\n") == std::string::npos) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    if (fd_out)
        *fd_out = fd;
    else
        ::close(fd);
    return got.substr(0, got.find("\r\n"));
}

TEST(tls, server_authentication_and_traffic) {
    test_server srv(shards(), tls_block());
    natsConnection* nc = nullptr;
    ASSERT_EQ(connect(srv.port(), {}, &nc), NATS_OK) << nats_GetLastError(nullptr);
    EXPECT_TRUE(round_trip(nc));
    // A burst bigger than a TLS record, in order.
    natsSubscription* sub = nullptr;
    ASSERT_EQ(natsConnection_SubscribeSync(&sub, nc, "tls.burst"), NATS_OK);
    const std::string big(40000, 'x');
    for (int i = 0; i < 200; ++i)
        ASSERT_EQ(natsConnection_Publish(nc, "tls.burst", big.data(), static_cast<int>(big.size())),
                  NATS_OK);
    for (int i = 0; i < 200; ++i) {
        natsMsg* m = nullptr;
        ASSERT_EQ(natsSubscription_NextMsg(&m, sub, 5000), NATS_OK) << i;
        ASSERT_EQ(natsMsg_GetDataLength(m), 40000);
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    // INFO, in plain text, says TLS is required.
    const std::string info = raw_info(srv.port());
    EXPECT_NE(info.find("\"tls_required\":true"), std::string::npos) << info;
    EXPECT_EQ(info.find("tls_verify"), std::string::npos) << info;
}

TEST(tls, a_client_that_did_not_ask_for_tls_upgrades_when_required) {
    test_server srv(shards(), tls_block());
    natsConnection* nc = nullptr;
    tls_client c;
    c.secure = false; // nats.c switches itself to TLS on tls_required
    ASSERT_EQ(connect(srv.port(), c, &nc), NATS_OK) << nats_GetLastError(nullptr);
    EXPECT_TRUE(round_trip(nc));
    natsConnection_Destroy(nc);
}

TEST(tls, server_certificates_are_checked_by_the_client) {
    test_server srv(shards(), tls_block());
    natsConnection* nc = nullptr;
    tls_client other_ca;
    other_ca.ca = "other-ca.pem";
    EXPECT_NE(connect(srv.port(), other_ca, &nc), NATS_OK) << "a CA the client does not trust";
    tls_client wrong_host;
    wrong_host.host = "other.example.com";
    EXPECT_NE(connect(srv.port(), wrong_host, &nc), NATS_OK) << "a hostname the cert lacks";
    test_server expired(shards(), tls_block("", "expired"));
    EXPECT_NE(connect(expired.port(), {}, &nc), NATS_OK) << "an expired server certificate";
    // natrix survives the refused handshakes and serves the next client.
    ASSERT_EQ(connect(srv.port(), {}, &nc), NATS_OK);
    EXPECT_TRUE(round_trip(nc));
    natsConnection_Destroy(nc);
}

TEST(tls, mutual_tls_requires_a_good_client_certificate) {
    test_server srv(shards(), tls_block("  verify: true\n"));
    natsConnection* nc = nullptr;
    tls_client alice;
    alice.cert = "alice";
    ASSERT_EQ(connect(srv.port(), alice, &nc), NATS_OK) << nats_GetLastError(nullptr);
    EXPECT_TRUE(round_trip(nc));
    natsConnection_Destroy(nc);
    EXPECT_NE(connect(srv.port(), {}, &nc), NATS_OK) << "no client certificate";
    tls_client stranger;
    stranger.cert = "stranger";
    EXPECT_NE(connect(srv.port(), stranger, &nc), NATS_OK) << "signed by another CA";
    tls_client old;
    old.cert = "old-alice";
    EXPECT_NE(connect(srv.port(), old, &nc), NATS_OK) << "an expired client certificate";
    const std::string info = raw_info(srv.port());
    EXPECT_NE(info.find("\"tls_verify\":true"), std::string::npos) << info;
    ASSERT_EQ(connect(srv.port(), alice, &nc), NATS_OK) << "still serving after the refusals";
    natsConnection_Destroy(nc);
}

struct error_log {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::string> errors;
    static void on_error(natsConnection* nc, natsSubscription*, natsStatus s, void* closure) {
        auto* self = static_cast<error_log*>(closure);
        const char* last = nullptr;
        natsConnection_GetLastError(nc, &last);
        std::lock_guard lock(self->mu);
        self->errors.push_back(std::string(natsStatus_GetText(s)) + ": " + (last ? last : ""));
        self->cv.notify_all();
    }
};

TEST(tls, verify_and_map_logs_in_the_certificate_user_with_its_permissions) {
    const std::string config = tls_block("  verify_and_map: true\n") + R"(
authorization {
  users = [
    {user: "alice@example.com", permissions: {publish: "alice.>", subscribe: ">"}}
    {user: "bob.example.com"}
    {user: "CN=nobody"}
  ]
}
)";
    test_server srv(shards(), config);
    natsConnection* nc = nullptr;
    error_log errs;
    tls_client alice;
    alice.cert = "alice";
    ASSERT_EQ(connect(srv.port(), alice, &nc, error_log::on_error, &errs), NATS_OK)
        << nats_GetLastError(nullptr);
    EXPECT_TRUE(round_trip(nc, "alice.echo"));
    // Outside alice's publish permission: nats-server's violation, async.
    natsConnection_PublishString(nc, "bob.secret", "x");
    natsConnection_FlushTimeout(nc, 2000);
    {
        std::unique_lock lock(errs.mu);
        errs.cv.wait_for(lock, 3s, [&] { return !errs.errors.empty(); });
        ASSERT_FALSE(errs.errors.empty()) << "no permissions violation for alice";
        EXPECT_NE(errs.errors[0].find("Permissions Violation for Publish to \"bob.secret\""),
                  std::string::npos)
            << errs.errors[0];
    }
    natsConnection_Destroy(nc);
    tls_client bob; // a DNS SAN names the user
    bob.cert = "bob";
    ASSERT_EQ(connect(srv.port(), bob, &nc), NATS_OK) << nats_GetLastError(nullptr);
    EXPECT_TRUE(round_trip(nc, "bob.echo"));
    natsConnection_Destroy(nc);
    tls_client nobody; // no SAN: the subject DN names the user
    nobody.cert = "nobody";
    ASSERT_EQ(connect(srv.port(), nobody, &nc), NATS_OK) << nats_GetLastError(nullptr);
    natsConnection_Destroy(nc);
    // A good certificate whose identity no user has: Authorization Violation.
    const std::string other_users = tls_block("  verify_and_map: true\n") +
                                    "authorization { users = [ {user: \"carol@example.com\"} ] }\n";
    test_server strict(shards(), other_users);
    const natsStatus s = connect(strict.port(), alice, &nc);
    EXPECT_NE(s, NATS_OK);
    EXPECT_NE(std::string(nats_GetLastError(nullptr)).find("Authorization Violation"),
              std::string::npos)
        << nats_GetLastError(nullptr);
}

// nats.c 3.4.1 reads only tls_required, so with allow_non_tls (INFO says
// tls_available) it connects in plain text and refuses to go secure, against
// nats-server as against natrix: TLS clients of such a server are covered by
// tls_protocol_test.py (Python's ssl). Here: plain clients still work.
TEST(tls, allow_non_tls_serves_plain_clients) {
    test_server srv(shards(), tls_block() + "allow_non_tls: true\n");
    natsConnection* nc = nullptr;
    tls_client plain;
    plain.secure = false;
    plain.ca.clear();
    plain.host.clear();
    ASSERT_EQ(connect(srv.port(), plain, &nc), NATS_OK) << nats_GetLastError(nullptr);
    EXPECT_TRUE(round_trip(nc));
    natsConnection_Destroy(nc);
    const std::string info = raw_info(srv.port());
    EXPECT_NE(info.find("\"tls_available\":true"), std::string::npos) << info;
    EXPECT_EQ(info.find("tls_required"), std::string::npos) << info;
}

TEST(tls, a_client_that_never_finishes_its_handshake_is_cut_at_the_timeout) {
    test_server srv(shards(), tls_block("  timeout: 0.5\n"));
    int fd = -1;
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_NE(raw_info(srv.port(), &fd).find("INFO "), std::string::npos);
    // Half a ClientHello's header, then silence.
    ASSERT_EQ(::send(fd, "\x16\x03\x01", 3, MSG_NOSIGNAL), 3);
    std::string got;
    char buf[512];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    const auto waited = std::chrono::steady_clock::now() - t0;
    ::close(fd);
    // Closed without a word, as nats-server 2.9.10 (tls_protocol_test.py).
    EXPECT_TRUE(got.empty()) << got;
    EXPECT_GE(waited, 400ms);
    EXPECT_LT(waited, 2500ms) << "cut well before the 3 s read timeout";
    // A plain-text CONNECT where TLS is required is not a handshake: closed.
    ASSERT_NE(raw_info(srv.port(), &fd).find("INFO "), std::string::npos);
    ::send(fd, "CONNECT {}\r\nPING\r\n", 18, MSG_NOSIGNAL);
    got.clear();
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    EXPECT_EQ(got.find("PONG"), std::string::npos) << got;
    natsConnection* nc = nullptr;
    ASSERT_EQ(connect(srv.port(), {}, &nc), NATS_OK);
    natsConnection_Destroy(nc);
}

TEST(tls, bad_tls_configuration_is_refused_at_load) {
    // A key that does not match the certificate, and a missing file: `-t`
    // fails with the reason, so a start would too.
    for (const std::string& block : {"tls { cert_file: \"" + cert("server.pem") +
                                         "\", key_file: \"" + cert("alice.key") + "\" }\n",
                                     "tls { cert_file: \"" + cert("missing.pem") +
                                         "\", key_file: \"" + cert("server.key") + "\" }\n"}) {
        const std::string conf = certs_dir() + "/bad.conf";
        std::ofstream(conf) << block;
        const std::string out = certs_dir() + "/bad.out";
        const int rc =
            std::system((natrix_bin() + " -t -c " + conf + " >" + out + " 2>&1").c_str());
        std::ifstream in(out);
        const std::string text((std::istreambuf_iterator<char>(in)), {});
        EXPECT_NE(rc, 0) << block;
        EXPECT_NE(text.find("error parsing X509 certificate/key pair"), std::string::npos) << text;
    }
}

} // namespace
} // namespace natrix::test

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    const int rc = RUN_ALL_TESTS();
    nats_Close();
    std::error_code ec;
    std::filesystem::remove_all(natrix::test::certs_dir(), ec);
    return rc;
}
