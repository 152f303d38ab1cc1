// Unsupported settings that would leave the server more open if ignored
// (JWT/operator mode, TLS, auth callout, the authorization of other
// listeners) are errors with file:line:col and the reason; the rest are
// warnings, listed in server_options::ignored_keys (docs/decisions/0010).
#include <gtest/gtest.h>

#include <natrix/config/cli.hh>
#include <natrix/config/server_options.hh>

#include "temp_dir.hh"

using natrix::config::load_config_file;
using natrix::config::load_config_string;
using natrix::config::load_result;
using natrix::config::load_server_options;
using natrix::config::options_result;
using natrix::config::test::temp_dir;

namespace {

struct refused_case {
    const char* name;   // for the failure message
    const char* config; // the setting, written on line 2 after "port: 4222"
    const char* where;  // "line:col" of the key the error names
    const char* what;   // how the error names the setting
    const char* why;    // what ignoring it would open
};

constexpr const char* jwt = "decentralized JWT authentication would be disabled";
constexpr const char* tls =
    "connections would be plain text, unencrypted and with no certificate checks";
constexpr const char* callout = "clients would be let in without asking the auth callout service";
constexpr const char* section = "those connections would not be authenticated";

const refused_case refused_cases[] = {
    {"operator", "operator: \"/etc/nats/op.jwt\"", "2:1", "'operator'", jwt},
    {"operators", "operators: [a.jwt, b.jwt]", "2:1", "'operators'", jwt},
    {"root_operators", "root_operators: a.jwt", "2:1", "'root_operators'", jwt},
    {"resolver", "resolver: MEMORY", "2:1", "'resolver'", jwt},
    {"resolver_map", "resolver {\n  type: full\n  dir: \"./jwt\"\n}", "2:1", "'resolver'", jwt},
    {"account_resolver", "account_resolver: URL(\"http://h/\")", "2:1", "'account_resolver'", jwt},
    {"resolver_preload", "resolver_preload {\n  ACC: \"eyJ0...\"\n}", "2:1", "'resolver_preload'",
     jwt},
    {"resolver_tls", "resolver_tls { ca_file: ca.pem }", "2:1", "'resolver_tls'", jwt},
    {"resolver_pinned_accounts", "resolver_pinned_accounts: [ACC]", "2:1",
     "'resolver_pinned_accounts'", jwt},
    {"trusted_keys", "trusted_keys: [OABC]", "2:1", "'trusted_keys'", jwt},
    {"trusted", "trusted: OABC", "2:1", "'trusted'", jwt},
    {"trusted_operators", "trusted_operators: [a.jwt]", "2:1", "'trusted_operators'", jwt},
    {"leafnodes_tls", "leafnodes {\n  tls { verify: true }\n}", "3:3", "'leafnodes.tls'", tls},
    {"leafnodes_remote_tls",
     "leafnodes {\n  remotes: [\n    {url: \"nats://h:7422\"}\n    {url: \"tls://h:7422\", tls: "
     "{}}\n  ]\n}",
     "5:27", "'leafnodes.remotes[1].tls'", tls},
    {"leaf_alias_tls", "leaf { tls {} }", "2:8", "'leaf.tls'", tls},
    {"websocket_tls", "websocket {\n  port: 8080\n  tls { cert_file: c.pem }\n}", "4:3",
     "'websocket.tls'", tls},
    {"ws_alias_tls", "ws { tls {} }", "2:6", "'ws.tls'", tls},
    {"mqtt_tls", "mqtt {\n  tls {}\n}", "3:3", "'mqtt.tls'", tls},
    {"auth_callout", "auth_callout { issuer: AXXX }", "2:1", "'auth_callout'", callout},
    {"authorization_auth_callout",
     "authorization {\n  users: [ {user: a, password: \"$2b$04$x\"} ]\n  auth_callout {\n    "
     "issuer: AXXX\n  }\n}",
     "4:3", "'authorization.auth_callout'", callout},
    {"leafnodes_authorization", "leafnodes {\n  authorization { user: leaf, password: s }\n}",
     "3:3", "'leafnodes.authorization'", section},
    {"websocket_authorization", "websocket {\n  authorization { token: t }\n}", "3:3",
     "'websocket.authorization'", section},
    {"websocket_authentication", "websocket {\n  authentication { token: t }\n}", "3:3",
     "'websocket.authentication'", section},
    {"mqtt_authorization", "mqtt {\n  authorization { users: [ {user: m, password: p} ] }\n}",
     "3:3", "'mqtt.authorization'", section},
    {"gateway_authentication", "gateway {\n  authentication { user: g, password: s }\n}", "3:3",
     "'gateway.authentication'", section},
};

std::string expected_error(const std::string& file, const refused_case& c) {
    return file + ":" + c.where + ": " + c.what + " is not supported by natrix yet: " + c.why +
           "; refusing to start";
}

} // namespace

TEST(fail_closed, every_security_key_is_an_error_with_its_position) {
    for (const refused_case& c : refused_cases) {
        SCOPED_TRACE(c.name);
        const std::string text = std::string("port: 4222\n") + c.config + "\nmax_payload: 1MB\n";
        options_result r = load_config_string(text, "sec.conf");
        EXPECT_FALSE(r.ok()) << text;
        ASSERT_EQ(r.errors.size(), 1u) << r.error_text();
        EXPECT_EQ(r.errors[0], expected_error("sec.conf", c));
    }
}

TEST(fail_closed, strict_config_off_does_not_soften_them) {
    for (const refused_case& c : refused_cases) {
        SCOPED_TRACE(c.name);
        const std::string text = std::string("natrix { strict_config: false }\n") + c.config + "\n";
        options_result r = load_config_string(text, "sec.conf");
        ASSERT_EQ(r.errors.size(), 1u) << r.error_text();
        EXPECT_EQ(r.errors[0], expected_error("sec.conf", c));
    }
}

TEST(fail_closed, every_one_is_reported_and_an_include_names_its_own_file) {
    temp_dir dir;
    const std::string inc =
        dir.write("tls.conf", "# resolver settings\nresolver_tls {\n  ca_file: c.pem\n}\n");
    const std::string main_conf = dir.write("main.conf", "operator: op.jwt\n"
                                                         "include tls.conf\n"
                                                         "system_account: SYS\n"
                                                         "trusted_keys: [OABC]\n");
    options_result r = load_config_file(main_conf);
    ASSERT_EQ(r.errors.size(), 3u) << r.error_text();
    EXPECT_EQ(r.errors[0].rfind(main_conf + ":1:1: 'operator' is not supported", 0), 0u)
        << r.errors[0];
    EXPECT_EQ(r.errors[1].rfind(inc + ":2:1: 'resolver_tls' is not supported", 0), 0u)
        << r.errors[1];
    EXPECT_EQ(r.errors[2].rfind(main_conf + ":4:1: 'trusted_keys' is not supported", 0), 0u)
        << r.errors[2];
}

TEST(fail_closed, connection_types_without_standard_are_refused) {
    // natrix has STANDARD clients only: a user held to WEBSOCKET would get in
    // over plain TCP, where nats-server refuses it.
    options_result r =
        load_config_string("authorization {\n  users: [\n    {user: ws, password: \"$2b$04$x\", "
                           "allowed_connection_types: [\"WEBSOCKET\", \"MQTT\"]}\n  ]\n}\n",
                           "u.conf");
    ASSERT_EQ(r.errors.size(), 1u) << r.error_text();
    EXPECT_EQ(r.errors[0], "u.conf:3:38: 'allowed_connection_types' of user \"ws\" is not "
                           "supported by natrix yet: every client is STANDARD, which this list "
                           "does not allow, so the user would get in where nats-server refuses "
                           "it; refusing to start");
    r = load_config_string(
        "accounts {\n  A: { users: [ {allowed_connection_types: [LEAFNODE], "
        "nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4} ] }\n}\n",
        "u.conf");
    ASSERT_EQ(r.errors.size(), 1u) << r.error_text();
    EXPECT_NE(r.errors[0].find("u.conf:2:18: 'allowed_connection_types' of user "
                               "\"UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4\""),
              std::string::npos)
        << r.errors[0];

    // A list that allows STANDARD changes nothing in natrix: ignored with a warning.
    r = load_config_string("authorization { users: [ {user: a, password: \"$2b$04$x\", "
                           "allowed_connection_types: [\"standard\", \"WEBSOCKET\"]} ] }\n",
                           "u.conf");
    ASSERT_TRUE(r.ok()) << r.error_text();
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_EQ(r.warnings[0].text, "u.conf:1:58: 'allowed_connection_types' is not supported by "
                                  "natrix yet; every client is STANDARD");
    EXPECT_EQ(r.options.ignored_keys,
              std::vector<std::string>{"authorization.users.allowed_connection_types"});
    r = load_config_string("authorization { users: [ {user: a, password: \"$2b$04$x\", "
                           "allowed_connection_types: []} ] }\n",
                           "u.conf");
    EXPECT_TRUE(r.ok()) << "an empty list allows every type, as in nats-server";
}

TEST(fail_closed, other_unsupported_keys_stay_warnings_and_are_listed) {
    // system_account is not an auth hole without an operator: its account
    // keeps its users and its isolation; natrix only lacks the $SYS services.
    options_result r = load_config_string("cluster {\n  name: c1\n  routes: [nats://h:6222]\n"
                                          "  port: 6222\n}\n"
                                          "jetstream { store_dir: /tmp/js }\n"
                                          "leafnodes { port: 7422, remotes: [{url: "
                                          "\"nats://h\"}] }\n"
                                          "websocket { port: 8080, no_tls: true }\n"
                                          "mqtt { port: 1883 }\n"
                                          "system_account: SYS\n"
                                          "no_system_account: true\n"
                                          "accounts { SYS: { users: [ {user: s, password: "
                                          "\"$2b$04$x\"} ], jetstream: enabled } }\n"
                                          "natrix { strict_config: false }\n"
                                          "bogus_key: 1\n",
                                          "w.conf");
    ASSERT_TRUE(r.ok()) << r.error_text();
    const std::vector<std::string> want = {"jetstream",
                                           "leafnodes",
                                           "websocket",
                                           "mqtt",
                                           "system_account",
                                           "no_system_account",
                                           "accounts.SYS.jetstream",
                                           "bogus_key"};
    EXPECT_EQ(r.options.ignored_keys, want);
    EXPECT_EQ(r.warnings.size(), want.size());
    for (const auto& w : r.warnings) EXPECT_NE(w.text.find("ignored"), std::string::npos) << w.text;
    // Each key once, however often it appears.
    r = load_config_string("mqtt { port: 1 }\nmqtt { port: 2 }\n", "w.conf");
    EXPECT_EQ(r.options.ignored_keys, std::vector<std::string>{"mqtt"});
    EXPECT_TRUE(load_config_string("port: 4222\n", "w.conf").options.ignored_keys.empty());
}

TEST(fail_closed, tls_flags_turn_tls_on_and_other_flags_are_listed) {
    // The TLS flags are nats-server's: any of them turns client TLS on, and
    // then a certificate and key are required.
    for (const char* flag : {"--tls", "-tlsverify", "--tlscacert=ca.pem"}) {
        load_result r = load_server_options(std::vector<std::string>{flag, "-t"});
        EXPECT_FALSE(r.ok()) << flag;
        EXPECT_NE(r.error.find("TLS Server certificate must be present and valid"),
                  std::string::npos)
            << r.error;
    }
    load_result r = load_server_options(std::vector<std::string>{
        "--tlsverify", "--tlscert", "s.pem", "--tlskey=s.key", "--tlscacert", "ca.pem"});
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_TRUE(r.options.tls.enabled);
    EXPECT_TRUE(r.options.tls.verify);
    EXPECT_EQ(r.options.tls.cert_file, "s.pem");
    EXPECT_EQ(r.options.tls.key_file, "s.key");
    EXPECT_EQ(r.options.tls.ca_file, "ca.pem");
    EXPECT_TRUE(load_server_options(std::vector<std::string>{"--tls=false"}).ok())
        << "asking for no TLS is what natrix does";
    temp_dir dir;
    const std::string conf = dir.write("c.conf", "jetstream {}\n");
    r = load_server_options(
        std::vector<std::string>{"-c", conf, "--store_dir", "/tmp/a", "-js", "--store_dir", "x"});
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.options.ignored_keys, (std::vector<std::string>{"jetstream", "-store_dir", "-js"}));
}

TEST(fail_closed, shipped_configs_have_none) {
    for (const char* name : {"natrix.conf", "natrix.low_latency.conf", "natrix.throughput.conf",
                             "natrix.secure.conf"}) {
        options_result r = load_config_file(std::string(NATRIX_SOURCE_ROOT) + "/configs/" + name);
        EXPECT_TRUE(r.ok()) << name << ": " << r.error_text();
        EXPECT_TRUE(r.options.ignored_keys.empty()) << name;
    }
}
