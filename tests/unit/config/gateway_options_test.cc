// The gateway {} block, as nats-server 2.9.10 reads it (opts.go
// parseGateway, parseGateways): keys, remote gateways and their URLs, and
// the errors nats-server gives (or that natrix gives where it refuses).
#include <gtest/gtest.h>

#include <natrix/config/gateway_options.hh>
#include <natrix/config/server_options.hh>

using natrix::cluster::gateway_config;
using natrix::config::load_config_string;
using natrix::config::options_result;

namespace {

gateway_config gateway_ok(const std::string& text) {
    options_result r = load_config_string(text, "g.conf");
    EXPECT_TRUE(r.ok()) << r.error_text() << "\n--- input ---\n" << text;
    EXPECT_TRUE(r.warnings.empty()) << r.warnings.front().text;
    return r.options.gateway;
}

std::string gateway_err(const std::string& text) {
    options_result r = load_config_string(text, "g.conf");
    EXPECT_FALSE(r.ok()) << text;
    return r.error_text();
}

} // namespace

TEST(gateway_config, off_by_default) {
    EXPECT_FALSE(gateway_ok("port: 4222\n").enabled);
}

TEST(gateway_config, every_key) {
    const gateway_config g = gateway_ok(R"(
gateway {
  name: "east"
  listen: "127.0.0.1:7222"
  advertise: "gw.example.com:7222"
  connect_retries: 3
  reject_unknown_cluster: true
  authorization { user: gw, password: secret, timeout: 3 }
  gateways: [
    {name: "west", url: "nats://w1:7222"}
    {name: "north", urls: ["nats://n1:7222", "nats-route://u:p@n2:7223"]}
  ]
}
)");
    EXPECT_TRUE(g.enabled);
    EXPECT_EQ(g.name, "east");
    EXPECT_EQ(g.host, "127.0.0.1");
    EXPECT_EQ(g.port, 7222);
    EXPECT_EQ(g.advertise, "gw.example.com:7222");
    EXPECT_EQ(g.connect_retries, 3);
    EXPECT_TRUE(g.reject_unknown);
    EXPECT_EQ(g.user, "gw");
    EXPECT_EQ(g.password, "secret");
    EXPECT_EQ(g.auth_timeout, std::chrono::seconds(3));
    ASSERT_EQ(g.gateways.size(), 2u);
    EXPECT_EQ(g.gateways[0].name, "west");
    ASSERT_EQ(g.gateways[0].urls.size(), 1u);
    EXPECT_EQ(g.gateways[0].urls[0].host, "w1");
    EXPECT_EQ(g.gateways[1].name, "north");
    ASSERT_EQ(g.gateways[1].urls.size(), 2u);
    EXPECT_EQ(g.gateways[1].urls[1].user, "u");
    EXPECT_EQ(g.gateways[1].urls[1].port, 7223);
}

TEST(gateway_config, port_and_host_keys_and_any_port) {
    gateway_config g = gateway_ok("gateway { name: a, port: -1, host: 10.0.0.1 }\n");
    EXPECT_TRUE(g.enabled);
    EXPECT_EQ(g.port, 0) << "-1: any free port";
    EXPECT_EQ(g.host, "10.0.0.1");
    g = gateway_ok("gateway { name: a, reject_unknown: true, port: 7222 }\n");
    EXPECT_TRUE(g.reject_unknown) << "the older spelling";
}

TEST(gateway_config, errors) {
    EXPECT_NE(gateway_err("gateway { port: 7222 }\n").find("gateway.name is required"),
              std::string::npos);
    EXPECT_NE(gateway_err("gateway { name: \"a b\", port: 7222 }\n").find("contain spaces"),
              std::string::npos);
    EXPECT_NE(gateway_err("gateway { name: a, port: 1, gateways: [{url: \"nats://h:1\"}] }\n")
                  .find("entry has no name"),
              std::string::npos);
    EXPECT_NE(gateway_err("gateway { name: a, port: 1, gateways: [{name: b, url: \"nats://h:1\"}, "
                          "{name: b, url: \"nats://h:2\"}] }\n")
                  .find("lists gateway \"b\" twice"),
              std::string::npos);
    EXPECT_NE(
        gateway_err("gateway { name: a, port: 1, gateways: [{name: b, url: \"nats://h\"}] }\n")
            .find("missing port"),
        std::string::npos);
    EXPECT_NE(
        gateway_err("gateway { name: a, port: 1, gateways: [{name: b, url: \"tls://h:1\"}] }\n")
            .find("does not take TLS from the URL scheme"),
        std::string::npos);
    EXPECT_NE(gateway_err("gateway { name: a, port: 1, tls: {} }\n").find("'gateway.tls'"),
              std::string::npos);
    EXPECT_NE(gateway_err("gateway { name: a, port: 1, bogus: 1 }\n").find("bogus"),
              std::string::npos);
    EXPECT_NE(gateway_err("gateway { name: a, port: 1, authorization { users: [] } }\n")
                  .find("does not allow multiple users"),
              std::string::npos);
}

TEST(gateway_config, remotes_without_a_port_warn) {
    options_result r = load_config_string(
        "gateway { name: a, gateways: [{name: b, url: \"nats://h:1\"}] }\n", "g.conf");
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_FALSE(r.options.gateway.enabled);
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_NE(r.warnings[0].text.find("no gateway is connected"), std::string::npos);
}
