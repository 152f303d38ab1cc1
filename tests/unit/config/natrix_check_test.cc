// `natrix -t` (the real binary, NATRIX_BIN) on configs with fail-closed
// security keys: a non-zero exit and the key's file:line:col on stderr,
// never "is valid". Also that an ignored key still only warns.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "temp_dir.hh"

using natrix::config::test::temp_dir;

namespace {

struct run_result {
    int status = -1;    // exit status, or -1 when it did not exit normally
    std::string output; // stdout and stderr
};

run_result run_natrix(const std::string& args) {
    run_result r;
    const char* bin = std::getenv("NATRIX_BIN");
    if (!bin) return r;
    const std::string cmd = std::string("'") + bin + "' " + args + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf;
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
    const int st = ::pclose(p);
    if (st != -1 && WIFEXITED(st)) r.status = WEXITSTATUS(st);
    return r;
}

class natrix_check : public ::testing::Test {
protected:
    void SetUp() override {
        if (!std::getenv("NATRIX_BIN")) GTEST_SKIP() << "NATRIX_BIN not set";
    }
    temp_dir dir_;
};

TEST_F(natrix_check, every_fail_closed_key_fails_with_its_position) {
    struct key_case {
        const char* config;
        const char* where;
        const char* what;
    };
    const key_case cases[] = {
        {"operator: op.jwt\n",
         ":2:1: 'operator' is not supported by natrix yet: decentralized JWT "
         "authentication would be disabled; refusing to start",
         "operator"},
        {"resolver: MEMORY\n", ":2:1: 'resolver' is not supported", "resolver"},
        {"resolver_preload { A: x }\n", ":2:1: 'resolver_preload' is not supported",
         "resolver_preload"},
        {"trusted_keys: [OABC]\n", ":2:1: 'trusted_keys' is not supported", "trusted_keys"},
        {"trusted_operators: [x]\n", ":2:1: 'trusted_operators' is not supported",
         "trusted_operators"},
        {"leafnodes {\n  tls {}\n}\n", ":3:3: 'leafnodes.tls' is not supported", "leafnodes.tls"},
        {"websocket {\n  tls {}\n}\n", ":3:3: 'websocket.tls' is not supported", "websocket.tls"},
        {"mqtt {\n  tls {}\n}\n", ":3:3: 'mqtt.tls' is not supported", "mqtt.tls"},
        {"auth_callout {}\n", ":2:1: 'auth_callout' is not supported", "auth_callout"},
        {"authorization {\n  token: t\n  auth_callout {}\n}\n",
         ":4:3: 'authorization.auth_callout' is not supported", "authorization.auth_callout"},
        {"leafnodes {\n  authorization { user: a, password: b }\n}\n",
         ":3:3: 'leafnodes.authorization' is not supported by natrix yet: those connections "
         "would not be authenticated; refusing to start",
         "leafnodes.authorization"},
        {"websocket {\n  authorization { token: t }\n}\n",
         ":3:3: 'websocket.authorization' is not supported", "websocket.authorization"},
        {"mqtt {\n  authorization { token: t }\n}\n", ":3:3: 'mqtt.authorization' is not supported",
         "mqtt.authorization"},
    };
    int i = 0;
    for (const key_case& c : cases) {
        SCOPED_TRACE(c.what);
        const std::string conf =
            dir_.write("k" + std::to_string(i++) + ".conf", std::string("port: -1\n") + c.config);
        const run_result r = run_natrix("-c '" + conf + "' -t");
        EXPECT_NE(r.status, 0) << r.output;
        EXPECT_NE(r.status, -1) << "natrix did not exit normally: " << r.output;
        EXPECT_NE(r.output.find(conf + c.where), std::string::npos) << r.output;
        EXPECT_EQ(r.output.find("is valid"), std::string::npos) << r.output;
    }
}

TEST_F(natrix_check, tls_without_a_certificate_is_refused) {
    // --tls asks for TLS: without a certificate and key natrix refuses to
    // start rather than run in plain text.
    run_result r = run_natrix("--tls -t");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("TLS Server certificate must be present and valid"), std::string::npos)
        << r.output;
    // A tls block whose files do not load fails -t with the reason.
    r = run_natrix("--tls --tlscert /nonexistent/c.pem --tlskey /nonexistent/k.pem -t");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("error parsing X509 certificate/key pair"), std::string::npos)
        << r.output;
}

TEST_F(natrix_check, cluster_errors_fail_with_their_positions) {
    const std::string conf = dir_.write("c.conf", "port: -1\n"
                                                  "cluster {\n"
                                                  "  port: -1\n"
                                                  "  authorization { token: s3cr3t }\n"
                                                  "  routes: [\n"
                                                  "    nats-route://u:pw@h2:6222\n"
                                                  "    \"h3:6222\"\n"
                                                  "  ]\n"
                                                  "}\n");
    const run_result r = run_natrix("-c '" + conf + "' -t");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find(conf + ":4:19: Cluster authorization does not support tokens"),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find(conf + ":7:5: error parsing route url [\"h3:6222\"]: not a URL"),
              std::string::npos)
        << r.output;
    EXPECT_EQ(r.output.find("is valid"), std::string::npos) << r.output;

    const run_result f = run_natrix("--routes nats://h:6222 -t");
    EXPECT_EQ(f.status, 1) << f.output;
    EXPECT_NE(f.output.find("solicited routes require cluster capabilities, e.g. --cluster"),
              std::string::npos)
        << f.output;

    const std::string good =
        dir_.write("g.conf", "port: -1\ncluster {\n  port: -1\n  compression: s2_auto\n"
                             "  routes: [nats-route://u:pw@h2:6222]\n}\n");
    const run_result g = run_natrix("-c '" + good + "' -t");
    EXPECT_EQ(g.status, 0) << g.output;
    EXPECT_NE(g.output.find(good + ":4:3: 'cluster.compression' has no effect"), std::string::npos)
        << g.output;
    EXPECT_NE(g.output.find("is valid"), std::string::npos) << g.output;
}

TEST_F(natrix_check, ignored_keys_still_pass_with_a_warning) {
    const std::string conf =
        dir_.write("w.conf", "port: -1\njetstream { store_dir: /tmp/x }\nsystem_account: SYS\n");
    const run_result r = run_natrix("-c '" + conf + "' -t");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find(conf + ":2:1: 'jetstream' is not supported by natrix yet; ignored"),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("is valid"), std::string::npos) << r.output;
}

} // namespace
