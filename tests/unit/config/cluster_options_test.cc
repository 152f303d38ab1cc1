// The cluster {} block, client_advertise, the cluster flags and the URL
// formats they share, as nats-server 2.9.10 reads them (opts.go
// parseCluster, parseURLs, overrideCluster, MergeOptions).
#include <gtest/gtest.h>

#include <natrix/config/cli.hh>
#include <natrix/config/cluster_options.hh>
#include <natrix/config/server_options.hh>

#include "temp_dir.hh"

using namespace std::chrono_literals;
using natrix::cluster::cluster_config;
using natrix::cluster::route_url;
using natrix::config::check_advertise;
using natrix::config::cluster_listen;
using natrix::config::config_warning;
using natrix::config::load_config_string;
using natrix::config::load_result;
using natrix::config::load_server_options;
using natrix::config::options_result;
using natrix::config::parse_cluster_listen;
using natrix::config::parse_route_url;
using natrix::config::redact_url;
using natrix::config::server_options;
using natrix::config::test::temp_dir;

namespace {

options_result load(const std::string& text) {
    return load_config_string(text, "c.conf");
}

cluster_config cluster_ok(const std::string& text) {
    options_result r = load(text);
    EXPECT_TRUE(r.ok()) << r.error_text() << "\n--- input ---\n" << text;
    return r.options.cluster;
}

// The single error a config must produce.
std::string cluster_err(const std::string& text) {
    options_result r = load(text);
    EXPECT_EQ(r.errors.size(), 1u) << r.error_text() << "\n--- input ---\n" << text;
    return r.error_text();
}

std::string warnings_of(const options_result& r) {
    std::string out;
    for (const config_warning& w : r.warnings) out += w.key + " | " + w.text + "\n";
    return out;
}

route_url route_ok(std::string_view text) {
    route_url r;
    std::string why;
    EXPECT_TRUE(parse_route_url(text, &r, &why)) << text << ": " << why;
    return r;
}

std::string route_err(std::string_view text) {
    route_url r;
    std::string why;
    EXPECT_FALSE(parse_route_url(text, &r, &why)) << text;
    return why;
}

load_result flags_ok(std::vector<std::string> args) {
    load_result r = load_server_options(args);
    EXPECT_TRUE(r.ok()) << r.error;
    return r;
}

} // namespace

// --- defaults ---------------------------------------------------------------

TEST(cluster_config, off_by_default) {
    for (const std::string& text :
         {std::string("port: 4222\n"), std::string(natrix::config::builtin_default_config)}) {
        options_result r = load(text);
        ASSERT_TRUE(r.ok()) << r.error_text();
        const cluster_config& c = r.options.cluster;
        EXPECT_FALSE(c.enabled);
        EXPECT_EQ(c.name, "");
        EXPECT_EQ(c.host, "0.0.0.0");
        EXPECT_EQ(c.port, 0);
        EXPECT_TRUE(c.routes.empty());
        EXPECT_EQ(c.user, "");
        EXPECT_EQ(c.password, "");
        EXPECT_EQ(c.auth_timeout, 2s);
        EXPECT_EQ(c.advertise, "");
        EXPECT_FALSE(c.no_advertise);
        EXPECT_EQ(c.connect_retries, 0);
        EXPECT_EQ(c.pool_size, 0);
        EXPECT_EQ(r.options.client_advertise, "");
    }
    EXPECT_FALSE(load_server_options(std::vector<std::string>{}).options.cluster.enabled);
}

// --- every key --------------------------------------------------------------

TEST(cluster_config, a_full_block_loads_without_warnings) {
    options_result r = load(R"(cluster {
  name: "east"
  listen: 10.0.0.1:6222
  authorization {
    user: ruser
    password: "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG"
    timeout: 0.5
  }
  routes: [
    nats-route://ruser:T0pS3cr3t@10.0.0.2:6222
    nats://10.0.0.3:6222
  ]
  cluster_advertise: "east-1.example.com:16222"
  no_advertise: true
  connect_retries: 30
}
)");
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_TRUE(r.warnings.empty()) << warnings_of(r);
    EXPECT_TRUE(r.options.ignored_keys.empty());
    const cluster_config& c = r.options.cluster;
    EXPECT_TRUE(c.enabled);
    EXPECT_EQ(c.name, "east");
    EXPECT_EQ(c.host, "10.0.0.1");
    EXPECT_EQ(c.port, 6222);
    EXPECT_EQ(c.user, "ruser");
    EXPECT_EQ(c.password, "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG");
    EXPECT_EQ(c.auth_timeout, 500ms);
    ASSERT_EQ(c.routes.size(), 2u);
    EXPECT_EQ(c.routes[0].user, "ruser");
    EXPECT_EQ(c.routes[0].password, "T0pS3cr3t");
    EXPECT_EQ(c.routes[0].host, "10.0.0.2");
    EXPECT_EQ(c.routes[0].port, 6222);
    EXPECT_EQ(c.routes[0].text, "nats-route://ruser:T0pS3cr3t@10.0.0.2:6222");
    EXPECT_EQ(c.routes[1].user, "");
    EXPECT_EQ(c.routes[1].host, "10.0.0.3");
    EXPECT_EQ(c.advertise, "east-1.example.com:16222");
    EXPECT_TRUE(c.no_advertise);
    EXPECT_EQ(c.connect_retries, 30);
    // The client side is untouched.
    EXPECT_EQ(r.options.port, 4222);
    EXPECT_EQ(r.options.host, "0.0.0.0");
}

TEST(cluster_config, listen_forms) {
    cluster_config c = cluster_ok("cluster { listen: \"127.0.0.1:7000\" }");
    EXPECT_TRUE(c.enabled);
    EXPECT_EQ(c.host, "127.0.0.1");
    EXPECT_EQ(c.port, 7000);
    c = cluster_ok("cluster { listen: 7001 }");
    EXPECT_EQ(c.host, "0.0.0.0") << "a bare port listens everywhere";
    EXPECT_EQ(c.port, 7001);
    c = cluster_ok("cluster { listen: \":7002\" }");
    EXPECT_EQ(c.host, "0.0.0.0");
    EXPECT_EQ(c.port, 7002);
    c = cluster_ok("cluster { listen: \"[::1]:7003\" }");
    EXPECT_EQ(c.host, "::1");
    EXPECT_EQ(c.port, 7003);
    c = cluster_ok("cluster { host: 10.1.1.1, listen: 7004 }");
    EXPECT_EQ(c.host, "0.0.0.0") << "listen sets the host too, as in nats-server";
    c = cluster_ok("cluster { listen: \"10.1.1.1:7005\", port: 7006 }");
    EXPECT_EQ(c.host, "10.1.1.1");
    EXPECT_EQ(c.port, 7006) << "a later port replaces listen's";
}

TEST(cluster_config, port_host_and_net) {
    cluster_config c = cluster_ok("cluster { port: 6222 }");
    EXPECT_TRUE(c.enabled);
    EXPECT_EQ(c.host, "0.0.0.0");
    EXPECT_EQ(c.port, 6222);
    c = cluster_ok("cluster { host: 192.168.1.5, port: 6223 }");
    EXPECT_EQ(c.host, "192.168.1.5");
    EXPECT_EQ(c.port, 6223);
    c = cluster_ok("cluster { net: 192.168.1.6, port: 6224 }");
    EXPECT_EQ(c.host, "192.168.1.6");
    c = cluster_ok("cluster { host: \"\", port: 6225 }");
    EXPECT_EQ(c.host, "0.0.0.0") << "an empty host is nats-server's DEFAULT_HOST";
    c = cluster_ok("CLUSTER { PORT: 6226, Name: upper }");
    EXPECT_EQ(c.port, 6226) << "keys are case-insensitive, as in nats-server";
    EXPECT_EQ(c.name, "upper");
}

TEST(cluster_config, enabled_needs_a_listen_port) {
    // -1: any free port (nats-server's RANDOM_PORT), stored as 0 with enabled.
    cluster_config c = cluster_ok("cluster { port: -1 }");
    EXPECT_TRUE(c.enabled);
    EXPECT_EQ(c.port, 0);
    c = cluster_ok("cluster { listen: \"127.0.0.1:-1\" }");
    EXPECT_TRUE(c.enabled);
    EXPECT_EQ(c.port, 0);
    EXPECT_EQ(c.host, "127.0.0.1");
    // 0, or no port at all: no cluster listener, as in nats-server.
    EXPECT_FALSE(cluster_ok("cluster { port: 0 }").enabled);
    EXPECT_FALSE(cluster_ok("cluster { listen: \"0.0.0.0:0\" }").enabled);
    EXPECT_FALSE(cluster_ok("cluster { name: c1, host: 10.0.0.1 }").enabled);
    EXPECT_EQ(cluster_ok("cluster { name: c1 }").name, "c1");
}

TEST(cluster_config, routes_without_a_port_warn_that_they_do_nothing) {
    options_result r = load("cluster {\n  routes: [nats://h:6222]\n}\n");
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_FALSE(r.options.cluster.enabled);
    EXPECT_EQ(r.options.cluster.routes.size(), 1u) << "kept, for what it is worth";
    ASSERT_EQ(r.warnings.size(), 1u) << warnings_of(r);
    EXPECT_EQ(r.warnings[0].key, "cluster.routes");
    EXPECT_EQ(r.warnings[0].text,
              "c.conf:1:1: 'cluster.routes' has no effect without a cluster port "
              "('cluster.listen' or 'cluster.port'): no route is connected");
    EXPECT_TRUE(load("cluster {\n  port: 6222\n  routes: [nats://h:6222]\n}\n").warnings.empty());
}

TEST(cluster_config, a_later_block_replaces_the_earlier_one) {
    cluster_config c = cluster_ok("cluster { port: 6222, name: a, routes: [nats://h:1] }\n"
                                  "cluster { port: 6333 }\n");
    EXPECT_EQ(c.port, 6333);
    EXPECT_EQ(c.name, "") << "nats-server keeps only the last value of a key";
    EXPECT_TRUE(c.routes.empty());
}

TEST(cluster_config, authorization) {
    cluster_config c = cluster_ok("cluster { port: 1, authorization { username: u, pass: p } }");
    EXPECT_EQ(c.user, "u");
    EXPECT_EQ(c.password, "p");
    EXPECT_EQ(c.auth_timeout, 2s);
    EXPECT_EQ(cluster_ok("cluster { authorization { timeout: 3 } }").auth_timeout, 3s);
    EXPECT_EQ(cluster_ok("cluster { authorization { timeout: \"750ms\" } }").auth_timeout, 750ms);
    EXPECT_EQ(cluster_ok("cluster { authorization { timeout: 0 } }").auth_timeout, 2s)
        << "0 is the default, as in nats-server";
    EXPECT_EQ(cluster_ok("authorization { timeout: 5 }\ncluster { authorization { user: u } }")
                  .auth_timeout,
              2s)
        << "the client authorization's timeout is not the cluster's";
    // No plaintext password warning: nats-server gives none for routes.
    EXPECT_TRUE(load("cluster { authorization { user: u, password: p } }").warnings.empty());
}

TEST(cluster_config, authorization_refuses_users_and_tokens) {
    EXPECT_EQ(cluster_err("cluster {\n  authorization {\n    users: [ {user: a, password: b} ]\n"
                          "  }\n}\n"),
              "c.conf:3:5: Cluster authorization does not allow multiple users");
    EXPECT_EQ(cluster_err("cluster {\n  authorization {\n    token: s3cr3t\n  }\n}\n"),
              "c.conf:3:5: Cluster authorization does not support tokens");
    EXPECT_EQ(cluster_err("cluster { authorization: yes }"),
              "c.conf:1:26: 'cluster.authorization' must be a map, not boolean");
    EXPECT_EQ(cluster_err("cluster { authorization { nkey: UABC } }"),
              "c.conf:1:27: unknown field \"cluster.authorization.nkey\"");
    EXPECT_EQ(cluster_err("cluster { authorization { timeout: \"soon\" } }"),
              "c.conf:1:36: error parsing authorization timeout: invalid duration \"soon\"");
    // Permissions there are deprecated in nats-server, and not applied by natrix.
    options_result r =
        load("cluster { authorization { user: u, permissions { import: \"foo\" } } }");
    ASSERT_TRUE(r.ok()) << r.error_text();
    ASSERT_EQ(r.warnings.size(), 1u) << warnings_of(r);
    EXPECT_NE(r.warnings[0].text.find("setting \"permissions\" within cluster authorization "
                                      "block is deprecated"),
              std::string::npos)
        << r.warnings[0].text;
    EXPECT_EQ(r.options.ignored_keys,
              std::vector<std::string>{"cluster.authorization.permissions"});
}

TEST(cluster_config, advertise_and_client_advertise) {
    EXPECT_EQ(cluster_ok("cluster { advertise: \"h:1\" }").advertise, "h:1");
    EXPECT_EQ(cluster_ok("cluster { cluster_advertise: h }").advertise, "h")
        << "a missing port means the cluster port";
    EXPECT_EQ(cluster_ok("cluster { advertise: \"[fe80::1]:6222\" }").advertise, "[fe80::1]:6222");
    EXPECT_EQ(cluster_err("cluster { advertise: \"h:x\" }"),
              "c.conf:1:22: invalid 'cluster.advertise' \"h:x\": invalid port \"x\"");
    EXPECT_EQ(cluster_err("cluster { cluster_advertise: \"fe80::1:6222\" }"),
              "c.conf:1:30: invalid 'cluster.cluster_advertise' \"fe80::1:6222\": too many "
              "colons in address (write IPv6 as [addr]:port)");

    options_result r = load("client_advertise: \"nats.example.com:4333\"\n");
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_TRUE(r.warnings.empty()) << "no longer an ignored key: " << warnings_of(r);
    EXPECT_TRUE(r.options.ignored_keys.empty());
    EXPECT_EQ(r.options.client_advertise, "nats.example.com:4333");
    EXPECT_EQ(load("client_advertise: 10.0.0.9\n").options.client_advertise, "10.0.0.9");
    EXPECT_EQ(cluster_err("client_advertise: \"h:99999\"\n"),
              "c.conf:1:19: invalid 'client_advertise' \"h:99999\": invalid port \"99999\"");
    EXPECT_EQ(cluster_err("client_advertise: 4222\n"),
              "c.conf:1:19: 'client_advertise' must be a string, not integer");
}

TEST(cluster_config, no_advertise_connect_retries_and_pool_size) {
    EXPECT_TRUE(cluster_ok("cluster { no_advertise: yes }").no_advertise);
    EXPECT_FALSE(cluster_ok("cluster { no_advertise: false }").no_advertise);
    EXPECT_EQ(cluster_ok("cluster { connect_retries: 5 }").connect_retries, 5);
    EXPECT_EQ(cluster_ok("cluster { connect_retries: -3 }").connect_retries, 0)
        << "a negative count retries as 0 does in nats-server";
    EXPECT_EQ(cluster_err("cluster { no_advertise: 1 }"),
              "c.conf:1:25: 'cluster.no_advertise' must be a boolean (true/false, yes/no, "
              "on/off), not integer");
    EXPECT_EQ(cluster_err("cluster { connect_retries: \"5\" }"),
              "c.conf:1:28: 'cluster.connect_retries' must be an integer, not string");

    // pool_size (nats-server 2.10): stored; natrix runs one route per peer.
    options_result r = load("cluster { pool_size: 3 }");
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_EQ(r.options.cluster.pool_size, 3);
    ASSERT_EQ(r.warnings.size(), 1u) << warnings_of(r);
    EXPECT_EQ(r.warnings[0].text, "c.conf:1:11: 'cluster.pool_size' has no effect: natrix runs "
                                  "one route per peer, as pool_size: -1 (nats-server 2.10) or "
                                  "nats-server 2.9");
    r = load("cluster { pool_size: -1 }");
    EXPECT_EQ(r.options.cluster.pool_size, -1);
    EXPECT_TRUE(r.warnings.empty()) << "-1 is what natrix does: " << warnings_of(r);
    EXPECT_EQ(cluster_err("cluster { pool_size: -2 }"),
              "c.conf:1:22: 'cluster.pool_size' must be between -1 and 2147483647, not -2");
}

TEST(cluster_config, accounts_compression_and_permissions_warn) {
    options_result r = load("cluster {\n"
                            "  port: 6222\n"
                            "  accounts: [A, B]\n"
                            "  compression: s2_fast\n"
                            "  permissions { import: \"foo.>\", export: [\"bar\"] }\n"
                            "}\n");
    ASSERT_TRUE(r.ok()) << r.error_text();
    ASSERT_EQ(r.warnings.size(), 3u) << warnings_of(r);
    EXPECT_EQ(r.warnings[0].key, "cluster");
    EXPECT_EQ(r.warnings[0].text, "c.conf:3:3: 'cluster.accounts' has no effect: natrix runs one "
                                  "route per peer, which carries every account; ignored");
    EXPECT_EQ(r.warnings[1].text, "c.conf:4:3: 'cluster.compression' has no effect: natrix "
                                  "routes are not compressed; ignored");
    EXPECT_EQ(r.warnings[2].text, "c.conf:5:3: 'cluster.permissions' is not supported by natrix "
                                  "yet: routes import and export every subject; ignored");
    EXPECT_EQ(r.options.ignored_keys,
              (std::vector<std::string>{"cluster.accounts", "cluster.compression",
                                        "cluster.permissions"}));
    EXPECT_TRUE(r.options.cluster.enabled) << "the rest of the block still counts";
    // What natrix does anyway needs no warning.
    EXPECT_TRUE(load("cluster { compression: off }").warnings.empty());
    EXPECT_TRUE(load("cluster { compression: false }").warnings.empty());
    EXPECT_TRUE(load("cluster { accounts: [] }").warnings.empty());
    EXPECT_EQ(load("cluster { compression { mode: s2_auto } }").warnings.size(), 1u);
}

TEST(cluster_config, tls_is_mutual_and_tls_elsewhere_stays_refused) {
    const cluster_config c =
        cluster_ok("cluster {\n  port: 6222\n  tls { cert_file: c.pem, key_file: k.pem }\n}\n");
    EXPECT_TRUE(c.tls.enabled);
    EXPECT_TRUE(c.tls.verify) << "routes are always mutual TLS, as nats-server forces";
    EXPECT_NE(cluster_err("cluster {\n  port: 6222\n  tls { cert_file: c.pem }\n}\n")
                  .find("missing 'cert_file' or 'key_file'"),
              std::string::npos);
    // Anywhere else in the block, and whatever strict_config says.
    EXPECT_EQ(cluster_err("natrix { strict_config: false }\n"
                          "cluster { compression { tls { x: 1 } } }\n"),
              "c.conf:2:25: 'cluster.compression.tls' is not supported by natrix yet: "
              "connections would be plain text, unencrypted and with no certificate checks; "
              "refusing to start");
    EXPECT_NE(cluster_err("cluster { authorization { user: a, tls {} } }")
                  .find("'cluster.authorization.tls' is not supported by natrix yet"),
              std::string::npos);
    EXPECT_NE(cluster_err("cluster { authentication { user: a } }")
                  .find("'cluster.authentication' is not supported by natrix yet: those "
                        "connections would not be authenticated"),
              std::string::npos);
}

TEST(cluster_config, key_errors) {
    EXPECT_EQ(cluster_err("cluster: 6222"), "c.conf:1:10: 'cluster' must be a map, not integer");
    EXPECT_EQ(cluster_err("cluster { bogus: 1 }"), "c.conf:1:11: unknown field \"cluster.bogus\"");
    EXPECT_EQ(cluster_err("cluster { name: \"my cluster\" }"),
              "c.conf:1:17: cluster name cannot contain spaces");
    EXPECT_EQ(cluster_err("cluster { name: 5 }"),
              "c.conf:1:17: 'cluster.name' must be a string, not integer");
    EXPECT_EQ(cluster_err("cluster { port: 70000 }"),
              "c.conf:1:17: 'cluster.port' must be between -1 and 65535, not 70000");
    EXPECT_EQ(cluster_err("cluster { listen: \"h\" }"),
              "c.conf:1:19: could not parse address string \"h\" for 'cluster.listen' (expected "
              "host:port)");
    EXPECT_EQ(cluster_err("cluster { listen: \"h:x\" }"),
              "c.conf:1:19: could not parse port \"x\" for 'cluster.listen'");
    EXPECT_EQ(cluster_err("cluster { routes: \"nats://h:1\" }"),
              "c.conf:1:19: 'cluster.routes' must be an array of route URLs, not string");
    EXPECT_EQ(cluster_err("cluster { routes: [1] }"),
              "c.conf:1:20: 'cluster.routes' must be an array of route URLs (strings), not "
              "integer");
    // Unknown keys inside the block follow strict_config, as everywhere.
    options_result r = load("natrix { strict_config: false }\ncluster { port: 1, bogus: 1 }\n");
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_EQ(r.options.ignored_keys, std::vector<std::string>{"cluster.bogus"});
    EXPECT_EQ(r.options.cluster.port, 1);
    // A key used as a $variable is not unknown.
    EXPECT_EQ(cluster_ok("cluster { p: 6444, port: $p }").port, 6444);
}

TEST(cluster_config, route_errors_name_the_entry_without_its_password) {
    EXPECT_EQ(cluster_err("cluster {\n  port: 1\n  routes: [\n    nats-route://h:6222\n"
                          "    \"h2:6222\"\n  ]\n}\n"),
              "c.conf:5:5: error parsing route url [\"h2:6222\"]: not a URL (expected "
              "nats-route://[user:password@]host:port)");
    EXPECT_EQ(cluster_err("cluster { routes: [\"nats-route://u:secret@h\"] }"),
              "c.conf:1:20: error parsing route url [\"nats-route://u:xxxxx@h\"]: missing port "
              "(expected nats-route://[user:password@]host:port)");
    // Every bad entry is reported; the good ones are kept.
    options_result r = load("cluster { port: 1, routes: [\"x\", nats://ok:1, \"tls://h:1\"] }");
    ASSERT_EQ(r.errors.size(), 2u) << r.error_text();
    EXPECT_NE(r.errors[1].find("unsupported scheme \"tls\""), std::string::npos) << r.errors[1];
}

TEST(cluster_config, duplicate_routes_warn_and_count_once) {
    options_result r = load("cluster {\n  port: 1\n  routes: [\n    nats://u:p@h:6222\n"
                            "    \" nats://u:p@h:6222 \"\n    nats://h:6223\n  ]\n}\n");
    ASSERT_TRUE(r.ok()) << r.error_text();
    ASSERT_EQ(r.options.cluster.routes.size(), 2u);
    EXPECT_EQ(r.options.cluster.routes[1].port, 6223);
    ASSERT_EQ(r.warnings.size(), 1u) << warnings_of(r);
    EXPECT_EQ(r.warnings[0].text,
              "c.conf:5:5: Duplicate route entry detected: \"nats://u:xxxxx@h:6222\"; ignored");
}

// --- URL formats ------------------------------------------------------------

TEST(route_url, accepted_forms) {
    route_url r = route_ok("nats-route://10.0.0.2:6222");
    EXPECT_EQ(r.host, "10.0.0.2");
    EXPECT_EQ(r.port, 6222);
    EXPECT_EQ(r.user, "");
    EXPECT_EQ(r.password, "");
    EXPECT_EQ(r.text, "nats-route://10.0.0.2:6222");
    r = route_ok("  nats://ruser:T0pS3cr3t@n2.example.com:6222/  ");
    EXPECT_EQ(r.host, "n2.example.com");
    EXPECT_EQ(r.user, "ruser");
    EXPECT_EQ(r.password, "T0pS3cr3t");
    EXPECT_EQ(r.text, "nats://ruser:T0pS3cr3t@n2.example.com:6222/") << "trimmed, as written";
    r = route_ok("NATS-ROUTE://[fe80::1%25eth0]:6222");
    EXPECT_EQ(r.host, "fe80::1%25eth0");
    EXPECT_EQ(r.port, 6222);
    // The user info is percent-decoded, as Go's url.Parse does.
    r = route_ok("nats-route://us%40er:p%3Ass:w@h:1");
    EXPECT_EQ(r.user, "us@er");
    EXPECT_EQ(r.password, "p:ss:w");
    r = route_ok("nats-route://only_user@h:1");
    EXPECT_EQ(r.user, "only_user");
    EXPECT_EQ(r.password, "");
    r = route_ok("nats-route://a@b:c@h:1");
    EXPECT_EQ(r.user, "a@b") << "the last @ ends the user info";
    EXPECT_EQ(r.password, "c");
    EXPECT_EQ(route_ok("nats://h:65535").port, 65535);
}

TEST(route_url, rejected_forms) {
    const std::string form = " (expected nats-route://[user:password@]host:port)";
    EXPECT_EQ(route_err(""), "empty route URL" + form);
    EXPECT_EQ(route_err("   "), "empty route URL" + form);
    EXPECT_EQ(route_err("h:6222"), "not a URL" + form);
    EXPECT_EQ(route_err("://h:6222"), "not a URL" + form);
    EXPECT_EQ(route_err("1nats://h:6222"), "not a URL" + form);
    EXPECT_EQ(route_err("http://h:6222"),
              "unsupported scheme \"http\" (expected nats-route://[user:password@]host:port or "
              "nats://)");
    EXPECT_EQ(route_err("nats-route://h"), "missing port" + form);
    EXPECT_EQ(route_err("nats-route://h:"), "missing port" + form);
    EXPECT_EQ(route_err("nats-route://:6222"), "missing host" + form);
    EXPECT_EQ(route_err("nats-route://h:0"), "invalid port \"0\" (1-65535)");
    EXPECT_EQ(route_err("nats-route://h:65536"), "invalid port \"65536\" (1-65535)");
    EXPECT_EQ(route_err("nats-route://h:-1"), "invalid port \"-1\"" + form);
    EXPECT_EQ(route_err("nats-route://h:62x"), "invalid port \"62x\"" + form);
    EXPECT_EQ(route_err("nats-route://fe80::1:6222"),
              "too many colons in \"fe80::1:6222\" (write IPv6 as [addr]:port)" + form);
    EXPECT_EQ(route_err("nats-route://[fe80::1:6222"), "missing ']' in the host" + form);
    EXPECT_EQ(route_err("nats-route://[fe80::1]6222"), "unexpected \"6222\" after the host" + form);
    EXPECT_EQ(route_err("nats-route://h:6222/x"),
              "unexpected path, query or fragment \"/x\"" + form);
    EXPECT_EQ(route_err("nats-route://h:6222?a=b"),
              "unexpected path, query or fragment \"?a=b\"" + form);
    EXPECT_EQ(route_err("nats-route://u:p%zz@h:1"),
              "invalid URL escape \"%zz\" in the user info" + form);
    EXPECT_EQ(route_err("nats-route://u:p%4@h:1"),
              "invalid URL escape \"%4\" in the user info" + form);
    EXPECT_EQ(route_err("nats-route://u p@h:1"), "invalid character in the user info" + form);
    EXPECT_EQ(route_err("nats-route://h h:1"), "invalid character in the host \"h h\"" + form);
}

TEST(route_url, redact_hides_only_the_password) {
    EXPECT_EQ(redact_url("nats-route://u:secret@h:6222"), "nats-route://u:xxxxx@h:6222");
    EXPECT_EQ(redact_url("nats://u:a@b@h:1/"), "nats://u:xxxxx@h:1/");
    EXPECT_EQ(redact_url("nats://u@h:1"), "nats://u@h:1") << "no password";
    EXPECT_EQ(redact_url("nats://h:1"), "nats://h:1");
    EXPECT_EQ(redact_url("nats://h:1/p@q"), "nats://h:1/p@q") << "an @ after the host is not "
                                                                 "user info";
    EXPECT_EQ(redact_url("h:6222"), "h:6222");
}

TEST(cluster_listen_url, forms) {
    cluster_listen c;
    std::string why;
    ASSERT_TRUE(parse_cluster_listen("nats://0.0.0.0:6222", &c, &why)) << why;
    EXPECT_EQ(c.host, "0.0.0.0");
    EXPECT_EQ(c.port, 6222);
    EXPECT_FALSE(c.with_user);
    ASSERT_TRUE(parse_cluster_listen("nats-route://ru:rp@127.0.0.1:-1", &c, &why)) << why;
    EXPECT_EQ(c.host, "127.0.0.1");
    EXPECT_EQ(c.port, -1) << "any free port";
    EXPECT_TRUE(c.with_user);
    EXPECT_EQ(c.user, "ru");
    EXPECT_EQ(c.password, "rp");
    ASSERT_TRUE(parse_cluster_listen("nats://:7222", &c, &why)) << why;
    EXPECT_EQ(c.host, "0.0.0.0");
    ASSERT_TRUE(parse_cluster_listen("nats://[::]:7223", &c, &why)) << why;
    EXPECT_EQ(c.host, "::");
    ASSERT_TRUE(parse_cluster_listen("nats://h:0", &c, &why)) << why;
    EXPECT_EQ(c.port, 0) << "clustering off, as nats-server";

    EXPECT_FALSE(parse_cluster_listen("0.0.0.0:6222", &c, &why));
    EXPECT_EQ(why, "not a URL (expected a URL such as nats://0.0.0.0:6222)");
    EXPECT_FALSE(parse_cluster_listen("nats://0.0.0.0", &c, &why));
    EXPECT_EQ(why, "missing port (expected a URL such as nats://0.0.0.0:6222)");
    EXPECT_FALSE(parse_cluster_listen("nats://h:70000", &c, &why));
    EXPECT_EQ(why, "invalid port \"70000\" (0-65535, or -1 for any free port)");
    EXPECT_FALSE(parse_cluster_listen("nats://user@h:6222", &c, &why));
    EXPECT_EQ(why, "expected cluster password to be set");
}

TEST(advertise, host_port_forms) {
    std::string why;
    for (const char* ok :
         {"h", "h:4222", "10.0.0.1:0", "h:-1", "[::1]", "[::1]:4222", ":4222", "h: 4222"})
        EXPECT_TRUE(check_advertise(ok, &why)) << ok << ": " << why;
    EXPECT_FALSE(check_advertise("::1", &why));
    EXPECT_EQ(why, "too many colons in address (write IPv6 as [addr]:port)");
    EXPECT_FALSE(check_advertise("h:", &why));
    EXPECT_EQ(why, "invalid port \"\"");
    EXPECT_FALSE(check_advertise("[::1", &why));
    EXPECT_EQ(why, "missing ']' in address");
    EXPECT_FALSE(check_advertise("[::1]x", &why));
    EXPECT_EQ(why, "unexpected \"x\" after the address");
}

// --- flags ------------------------------------------------------------------

TEST(cluster_flags, cluster_and_cluster_listen_enable_clustering) {
    for (const char* flag : {"--cluster", "-cluster", "--cluster_listen"}) {
        load_result r = flags_ok({flag, "nats://127.0.0.1:6222"});
        EXPECT_TRUE(r.warnings.empty()) << flag << " is no longer ignored";
        EXPECT_TRUE(r.options.ignored_keys.empty());
        const cluster_config& c = r.options.cluster;
        EXPECT_TRUE(c.enabled) << flag;
        EXPECT_EQ(c.host, "127.0.0.1");
        EXPECT_EQ(c.port, 6222);
    }
    load_result r = flags_ok({"--cluster=nats://0.0.0.0:-1"});
    EXPECT_TRUE(r.options.cluster.enabled);
    EXPECT_EQ(r.options.cluster.port, 0) << "-1: any free port";
    r = flags_ok({"--cluster", "nats://ru:rp@0.0.0.0:6222"});
    EXPECT_EQ(r.options.cluster.user, "ru");
    EXPECT_EQ(r.options.cluster.password, "rp");
}

TEST(cluster_flags, flags_override_the_file) {
    temp_dir dir;
    const std::string conf = dir.write("c.conf", "cluster {\n"
                                                 "  name: file\n"
                                                 "  listen: 10.0.0.1:6222\n"
                                                 "  authorization { user: fu, password: fp }\n"
                                                 "  routes: [nats://a:1]\n"
                                                 "  cluster_advertise: fa\n"
                                                 "  no_advertise: true\n"
                                                 "  connect_retries: 3\n"
                                                 "}\n"
                                                 "client_advertise: fc\n");
    // No flag: the file's values.
    load_result r = flags_ok({"-c", conf});
    EXPECT_EQ(r.options.cluster.name, "file");
    EXPECT_EQ(r.options.cluster.port, 6222);
    EXPECT_EQ(r.options.client_advertise, "fc");

    r = flags_ok({"-c", conf, "--cluster", "nats://127.0.0.1:7222", "--routes",
                  "nats://b:2, nats-route://u:p@c:3", "--cluster_name", "flag",
                  "--cluster_advertise", "adv:9", "--no_advertise=false", "--connect_retries", "7",
                  "--client_advertise", "cli:4333"});
    const cluster_config& c = r.options.cluster;
    EXPECT_TRUE(c.enabled);
    EXPECT_EQ(c.host, "127.0.0.1");
    EXPECT_EQ(c.port, 7222);
    EXPECT_EQ(c.user, "") << "a --cluster URL without user info clears the file's, as "
                             "nats-server's overrideCluster";
    EXPECT_EQ(c.password, "");
    ASSERT_EQ(c.routes.size(), 2u);
    EXPECT_EQ(c.routes[0].host, "b");
    EXPECT_EQ(c.routes[1].host, "c");
    EXPECT_EQ(c.routes[1].user, "u");
    EXPECT_EQ(c.routes[1].text, "nats-route://u:p@c:3") << "each entry trimmed";
    EXPECT_EQ(c.name, "flag");
    EXPECT_EQ(c.advertise, "adv:9");
    EXPECT_FALSE(c.no_advertise) << "--no_advertise=false overrides the file's true";
    EXPECT_EQ(c.connect_retries, 7);
    EXPECT_EQ(r.options.client_advertise, "cli:4333");

    // Flags that are not given leave the file alone; empty strings change nothing.
    r = flags_ok({"-c", conf, "--cluster_name", "", "--no_advertise", "--routes", ""});
    EXPECT_EQ(r.options.cluster.name, "file");
    EXPECT_EQ(r.options.cluster.user, "fu");
    EXPECT_TRUE(r.options.cluster.no_advertise);
    EXPECT_TRUE(r.options.cluster.routes.empty()) << "an empty --routes drops the file's";

    // An empty --cluster turns clustering off.
    r = flags_ok({"-c", conf, "--cluster", ""});
    EXPECT_FALSE(r.options.cluster.enabled);
    EXPECT_EQ(r.options.cluster.port, 0);
}

TEST(cluster_flags, routes_need_a_cluster_listener) {
    load_result r = load_server_options(std::vector<std::string>{"--routes", "nats://h:6222"});
    EXPECT_EQ(r.error, "solicited routes require cluster capabilities, e.g. --cluster");
    EXPECT_FALSE(r.usage_error);
    EXPECT_TRUE(flags_ok({"--routes", "nats://h:6222", "--cluster", "nats://0.0.0.0:6222"})
                    .options.cluster.enabled);
    temp_dir dir;
    const std::string with_port = dir.write("p.conf", "cluster { port: 6222 }\n");
    EXPECT_EQ(flags_ok({"-c", with_port, "--routes", "nats://h:1"}).options.cluster.routes.size(),
              1u);
    // The file's routes without a port: a warning, until --cluster gives one.
    const std::string no_port = dir.write("n.conf", "cluster { routes: [nats://h:1] }\n");
    r = flags_ok({"-c", no_port});
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_EQ(r.warnings[0].key, "cluster.routes");
    r = flags_ok({"-c", no_port, "--cluster", "nats://0.0.0.0:6222"});
    EXPECT_TRUE(r.warnings.empty()) << r.warnings[0].text;
    EXPECT_EQ(r.options.cluster.routes.size(), 1u);
    EXPECT_EQ(load_server_options(std::vector<std::string>{"-c", with_port, "--cluster", "",
                                                           "--routes", "nats://h:1"})
                  .error,
              "solicited routes require cluster capabilities, e.g. --cluster");
}

TEST(cluster_flags, bad_values_are_usage_errors) {
    auto usage_error = [](std::vector<std::string> args) {
        load_result r = load_server_options(args);
        EXPECT_FALSE(r.ok());
        EXPECT_TRUE(r.usage_error) << r.error;
        return r.error;
    };
    EXPECT_EQ(usage_error({"--cluster", "0.0.0.0:6222"}),
              "invalid value \"0.0.0.0:6222\" for flag -cluster: not a URL (expected a URL "
              "such as nats://0.0.0.0:6222)");
    EXPECT_EQ(usage_error({"--cluster_listen", "nats://u@h:1"}),
              "invalid value \"nats://u@h:1\" for flag -cluster_listen: expected cluster password "
              "to be set");
    EXPECT_EQ(usage_error({"--cluster", "nats://u:secret@h"}),
              "invalid value \"nats://u:xxxxx@h\" for flag -cluster: missing port (expected a URL "
              "such as nats://0.0.0.0:6222)");
    EXPECT_EQ(usage_error({"--routes", "nats://h:1,nats://u:secret@h2"}),
              "invalid value for flag -routes: error parsing route url [\"nats://u:xxxxx@h2\"]: "
              "missing port (expected nats-route://[user:password@]host:port)");
    EXPECT_EQ(usage_error({"--routes", "nats://h:1,"}),
              "invalid value for flag -routes: error parsing route url [\"\"]: empty route URL "
              "(expected nats-route://[user:password@]host:port)");
    EXPECT_EQ(usage_error({"--cluster_name", "a b"}),
              "invalid value \"a b\" for flag -cluster_name: cluster name cannot contain spaces");
    EXPECT_EQ(usage_error({"--connect_retries", "x"}),
              "invalid value \"x\" for flag -connect_retries: parse error");
    EXPECT_EQ(usage_error({"--cluster_advertise", "::1"}),
              "invalid value \"::1\" for flag -cluster_advertise: too many colons in address "
              "(write IPv6 as [addr]:port)");
    EXPECT_EQ(usage_error({"--client_advertise", "h:x"}),
              "invalid value \"h:x\" for flag -client_advertise: invalid port \"x\"");
    EXPECT_EQ(usage_error({"--no_advertise=maybe"}),
              "invalid boolean value \"maybe\" for -no_advertise: parse error");
    EXPECT_EQ(usage_error({"--no_advertise", "true"}), "unrecognized command: \"true\"")
        << "a boolean flag, as in nats-server";
}

TEST(cluster_flags, connect_retries_and_usage) {
    EXPECT_EQ(flags_ok({"--connect_retries", "12"}).options.cluster.connect_retries, 12);
    EXPECT_EQ(flags_ok({"--connect_retries=-4"}).options.cluster.connect_retries, 0);
    const std::string u = natrix::config::usage_text();
    for (const char* flag : {"--routes", "--cluster", "--cluster_name", "--no_advertise",
                             "--cluster_advertise", "--connect_retries", "--client_advertise"})
        EXPECT_NE(u.find(flag), std::string::npos) << flag;
}
