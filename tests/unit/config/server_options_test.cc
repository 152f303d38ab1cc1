#include <gtest/gtest.h>

#include <natrix/config/server_options.hh>

#include "temp_dir.hh"

using namespace std::chrono_literals;
using natrix::config::builtin_default_config;
using natrix::config::config_warning;
using natrix::config::load_config_file;
using natrix::config::load_config_string;
using natrix::config::options_result;
using natrix::config::server_options;
using natrix::config::test::temp_dir;

namespace {

server_options load_ok(const std::string& text) {
    options_result r = load_config_string(text, "o.conf");
    EXPECT_TRUE(r.ok()) << r.error_text() << "\n--- input ---\n" << text;
    return r.options;
}

// The single error a config must produce.
std::string load_err(const std::string& text) {
    options_result r = load_config_string(text, "o.conf");
    EXPECT_EQ(r.errors.size(), 1u) << r.error_text() << "\n--- input ---\n" << text;
    return r.error_text();
}

bool has_warning(const options_result& r, const std::string& key, const std::string& part) {
    for (const config_warning& w : r.warnings)
        if (w.key == key && w.text.find(part) != std::string::npos) return true;
    return false;
}

void expect_defaults(const server_options& o) {
    server_options d;
    EXPECT_EQ(o.host, d.host);
    EXPECT_EQ(o.port, d.port);
    EXPECT_EQ(o.server_name, d.server_name);
    EXPECT_EQ(o.max_payload, d.max_payload);
    EXPECT_EQ(o.max_pending, d.max_pending);
    EXPECT_EQ(o.max_connections, d.max_connections);
    EXPECT_EQ(o.max_subscriptions, d.max_subscriptions);
    EXPECT_EQ(o.max_control_line, d.max_control_line);
    EXPECT_EQ(o.ping_interval, d.ping_interval);
    EXPECT_EQ(o.ping_max, d.ping_max);
    EXPECT_EQ(o.write_deadline, d.write_deadline);
    EXPECT_EQ(o.debug, d.debug);
    EXPECT_EQ(o.trace, d.trace);
    EXPECT_EQ(o.logtime, d.logtime);
    EXPECT_EQ(o.log_file, d.log_file);
    EXPECT_EQ(o.pid_file, d.pid_file);
    EXPECT_EQ(o.http_host, d.http_host);
    EXPECT_EQ(o.http_port, d.http_port);
    EXPECT_EQ(o.lame_duck_duration, d.lame_duck_duration);
    EXPECT_EQ(o.lame_duck_grace_period, d.lame_duck_grace_period);
    EXPECT_EQ(o.auth_timeout, d.auth_timeout);
    EXPECT_EQ(o.natrix.shards, d.natrix.shards);
    EXPECT_EQ(o.natrix.cpus, d.natrix.cpus);
    EXPECT_EQ(o.natrix.idle_strategy, d.natrix.idle_strategy);
    EXPECT_EQ(o.natrix.spin_us, d.natrix.spin_us);
    EXPECT_EQ(o.natrix.ring_capacity, d.natrix.ring_capacity);
    EXPECT_EQ(o.natrix.recv_buffer_size, d.natrix.recv_buffer_size);
    EXPECT_EQ(o.natrix.recv_buffer_count, d.natrix.recv_buffer_count);
    EXPECT_EQ(o.natrix.strict_config, d.natrix.strict_config);
}

} // namespace

TEST(server_options, struct_defaults_match_nats_server) {
    server_options d;
    EXPECT_EQ(d.port, 4222);
    EXPECT_EQ(d.max_payload, 1048576);
    EXPECT_EQ(d.max_pending, 67108864);
    EXPECT_EQ(d.max_connections, 65536);
    EXPECT_EQ(d.max_control_line, 4096);
    EXPECT_EQ(d.ping_interval, 2min);
    EXPECT_EQ(d.ping_max, 2);
    EXPECT_EQ(d.write_deadline, 10s);
    EXPECT_EQ(d.lame_duck_duration, 2min);
    EXPECT_EQ(d.lame_duck_grace_period, 10s);
    EXPECT_EQ(d.auth_timeout, 2s);
}

TEST(server_options, builtin_default_is_exactly_the_defaults) {
    options_result r = load_config_string(builtin_default_config, "<built-in>");
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_TRUE(r.warnings.empty());
    expect_defaults(r.options);
    ASSERT_TRUE(r.options.tree);
    EXPECT_TRUE(r.options.tree->find("natrix")->is_map());
}

TEST(server_options, empty_config_gives_defaults) {
    options_result r = load_config_string("", "o.conf");
    ASSERT_TRUE(r.ok());
    expect_defaults(r.options);
    EXPECT_EQ(r.options.config_file, "o.conf");
}

TEST(server_options, listen_and_host_port) {
    server_options o = load_ok("listen: 127.0.0.1:4333");
    EXPECT_EQ(o.host, "127.0.0.1");
    EXPECT_EQ(o.port, 4333);
    o = load_ok("listen: 5222");
    EXPECT_EQ(o.host, "0.0.0.0");
    EXPECT_EQ(o.port, 5222);
    o = load_ok("listen: \":6222\"");
    EXPECT_EQ(o.host, "0.0.0.0");
    EXPECT_EQ(o.port, 6222);
    o = load_ok("listen: \"[::1]:7222\"");
    EXPECT_EQ(o.host, "::1");
    EXPECT_EQ(o.port, 7222);
    o = load_ok("listen: localhost:-1");
    EXPECT_EQ(o.port, 0) << "-1 = any free port";
    o = load_ok("host: 10.1.2.3\nport: 4999");
    EXPECT_EQ(o.host, "10.1.2.3");
    EXPECT_EQ(o.port, 4999);
    o = load_ok("net: 10.1.2.4");
    EXPECT_EQ(o.host, "10.1.2.4");
    EXPECT_EQ(load_ok("port: -1").port, 0);
    EXPECT_EQ(load_ok("port: 0").port, 4222) << "0 = default, as in nats-server";
    EXPECT_EQ(load_ok("listen: 1.2.3.4:5000\nport: 6000").port, 6000) << "later key wins";
    EXPECT_EQ(load_ok("PORT: 4111").port, 4111) << "top-level keys are case-insensitive";
}

TEST(server_options, listen_errors) {
    EXPECT_EQ(load_err("listen: \"localhost\""),
              "o.conf:1:9: could not parse address string \"localhost\" for 'listen' (expected "
              "host:port)");
    EXPECT_EQ(load_err("listen: \"::1:4222\""),
              "o.conf:1:9: could not parse address string \"::1:4222\" for 'listen' (expected "
              "host:port; write IPv6 as [addr]:port)");
    EXPECT_EQ(load_err("listen: \"[::1]4222\""),
              "o.conf:1:9: could not parse address string \"[::1]4222\" for 'listen' (expected "
              "host:port)");
    EXPECT_EQ(load_err("listen: host:http"),
              "o.conf:1:9: could not parse port \"http\" for 'listen'");
    EXPECT_EQ(load_err("listen: host:70000"),
              "o.conf:1:9: could not parse port \"70000\" for 'listen'");
    EXPECT_EQ(load_err("listen: [1]"),
              "o.conf:1:9: 'listen' must be a port or \"host:port\", not array");
    EXPECT_EQ(load_err("\n  port: 70000"),
              "o.conf:2:9: 'port' must be between -1 and 65535, not 70000");
    EXPECT_EQ(load_err("port: -2"), "o.conf:1:7: 'port' must be between -1 and 65535, not -2");
    EXPECT_EQ(load_err("port: \"4222\""), "o.conf:1:7: 'port' must be an integer, not string");
    EXPECT_EQ(load_err("host: \"\""), "o.conf:1:7: 'host' must not be empty");
    EXPECT_EQ(load_err("net: 5"), "o.conf:1:6: 'net' must be a string, not integer");
}

TEST(server_options, names_files_and_logging) {
    server_options o = load_ok("server_name: edge-1\nlog_file: /tmp/n.log\npid_file: /tmp/n.pid\n"
                               "debug: true\ntrace: yes\nlogtime: off\n");
    EXPECT_EQ(o.server_name, "edge-1");
    EXPECT_EQ(o.log_file, "/tmp/n.log");
    EXPECT_EQ(o.pid_file, "/tmp/n.pid");
    EXPECT_TRUE(o.debug);
    EXPECT_TRUE(o.trace);
    EXPECT_FALSE(o.logtime);
    o = load_ok("logfile: a.log\npidfile: a.pid");
    EXPECT_EQ(o.log_file, "a.log");
    EXPECT_EQ(o.pid_file, "a.pid");
    EXPECT_EQ(load_err("server_name: \"a b\""), "o.conf:1:14: server_name cannot contain spaces");
    EXPECT_EQ(load_err("debug: 1"), "o.conf:1:8: 'debug' must be a boolean (true/false, yes/no, "
                                    "on/off), not integer");
    EXPECT_EQ(load_err("trace: \"true\""), "o.conf:1:8: 'trace' must be a boolean (true/false, "
                                           "yes/no, on/off), not string");
}

TEST(server_options, trace_settings) {
    // trace_verbose is trace plus the system account's traffic, which natrix lacks.
    EXPECT_TRUE(load_ok("trace_verbose: true").trace);
    EXPECT_FALSE(load_ok("trace: true\ntrace_verbose: false").trace);
    EXPECT_EQ(load_ok("").max_traced_msg_len, 0);
    EXPECT_EQ(load_ok("max_traced_msg_len: 64").max_traced_msg_len, 64);
    EXPECT_EQ(load_ok("max_traced_msg_len: -1").max_traced_msg_len, -1);
    const options_result r =
        load_config_string("max_traced_msg_len: 10\ntrace_verbose: true", "o.conf");
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.warnings.empty()) << r.warnings[0].text;
}

TEST(server_options, limits_with_units) {
    server_options o = load_ok("max_payload: 2MB\nmax_pending: 128MB\nmax_connections: 1k\n"
                               "max_subscriptions: 500\nmax_control_line: 8KB\n");
    EXPECT_EQ(o.max_payload, 2 << 20);
    EXPECT_EQ(o.max_pending, 128 << 20);
    EXPECT_EQ(o.max_connections, 1000);
    EXPECT_EQ(o.max_subscriptions, 500);
    EXPECT_EQ(o.max_control_line, 8192);
    o = load_ok("max_conn: 10\nmax_subs: 20");
    EXPECT_EQ(o.max_connections, 10);
    EXPECT_EQ(o.max_subscriptions, 20);
    // Zero selects the default, as nats-server's baseline does.
    o = load_ok("max_payload: 0\nmax_pending: 0\nmax_connections: 0\nmax_control_line: 0\n"
                "ping_max: 0");
    expect_defaults(o);
    EXPECT_EQ(load_err("max_payload: 3GB"),
              "o.conf:1:14: 'max_payload' must be between 0 and 2147483647, not 3221225472");
    EXPECT_EQ(load_err("max_pending: -1"),
              "o.conf:1:14: 'max_pending' must be between 0 and 9223372036854775807, not -1");
    EXPECT_EQ(load_err("max_connections: -5"),
              "o.conf:1:18: 'max_connections' must be between 0 and 2147483647, not -5");
    EXPECT_EQ(load_err("max_subs: -1"), "o.conf:1:11: 'max_subs' must be between 0 and 2147483647, "
                                        "not -1");
    EXPECT_EQ(load_err("max_control_line: 2.5"),
              "o.conf:1:19: 'max_control_line' must be an integer, not float");
}

TEST(server_options, max_payload_cannot_exceed_max_pending) {
    EXPECT_EQ(load_err("max_payload: 2MB\nmax_pending: 1MB"),
              "max_payload (2097152) cannot be higher than max_pending (1048576)");
    EXPECT_EQ(load_ok("max_payload: 1MB\nmax_pending: 1MB").max_payload, 1 << 20);
}

TEST(server_options, durations) {
    server_options o = load_ok("ping_interval: \"30s\"\nping_max: 5\nwrite_deadline: \"2.5s\"\n"
                               "lame_duck_duration: \"1m\"\nlame_duck_grace_period: \"15s\"\n");
    EXPECT_EQ(o.ping_interval, 30s);
    EXPECT_EQ(o.ping_max, 5);
    EXPECT_EQ(o.write_deadline, 2500ms);
    EXPECT_EQ(o.lame_duck_duration, 1min);
    EXPECT_EQ(o.lame_duck_grace_period, 15s);
    o = load_ok("ping_interval: 1h30m\nwrite_deadline: 500ms");
    EXPECT_EQ(o.ping_interval, 90min);
    EXPECT_EQ(o.write_deadline, 500ms);
}

TEST(server_options, plain_numbers_are_seconds_with_a_warning) {
    options_result r = load_config_string("ping_interval: 30\nwrite_deadline: 3\n"
                                          "lame_duck_duration: 60\nlame_duck_grace_period: 5\n",
                                          "o.conf");
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_EQ(r.options.ping_interval, 30s);
    EXPECT_EQ(r.options.write_deadline, 3s);
    EXPECT_EQ(r.options.lame_duck_duration, 60s);
    EXPECT_EQ(r.options.lame_duck_grace_period, 5s);
    ASSERT_EQ(r.warnings.size(), 4u);
    EXPECT_EQ(r.warnings[0].key, "ping_interval");
    EXPECT_EQ(r.warnings[0].text, "o.conf:1:16: invalid use of field \"ping_interval\": "
                                  "ping_interval should be converted to a duration (a plain number "
                                  "is read as seconds)");
    EXPECT_TRUE(has_warning(r, "write_deadline", "o.conf:2:17:"));
    // The classic mistake: an unquoted 1m is one million seconds.
    r = load_config_string("ping_interval: 1m", "o.conf");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.options.ping_interval, std::chrono::seconds(1'000'000));
    EXPECT_TRUE(has_warning(r, "ping_interval",
                            "unquoted 1m or 2k are numbers (1000000, 2000): "
                            "quote durations, e.g. \"1m\")"));
}

TEST(server_options, duration_errors) {
    EXPECT_EQ(load_err("ping_interval: \"30\""),
              "o.conf:1:16: error parsing ping_interval: missing unit in duration \"30\" (use ns, "
              "us, ms, s, m or h)");
    EXPECT_EQ(load_err("write_deadline: 1d"),
              "o.conf:1:17: error parsing write_deadline: unknown unit \"d\" in duration \"1d\" "
              "(use ns, us, ms, s, m or h)");
    EXPECT_EQ(load_err("ping_interval: \"-5s\""),
              "o.conf:1:16: 'ping_interval' must not be negative");
    EXPECT_EQ(
        load_err("ping_interval: true"),
        "o.conf:1:16: 'ping_interval' must be a duration string such as \"30s\", not boolean");
    EXPECT_EQ(load_err("lame_duck_duration: \"10s\""),
              "o.conf:1:21: invalid lame_duck_duration of 10s, minimum is 30 seconds");
    EXPECT_EQ(load_err("lame_duck_grace_period: \"-1s\""),
              "o.conf:1:25: 'lame_duck_grace_period' must not be negative");
    EXPECT_EQ(
        load_err("lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"30s\""),
        "lame duck grace period (30s) should be strictly lower than lame duck duration (30s)");
    EXPECT_EQ(load_err("ping_max: -1"), "o.conf:1:11: 'ping_max' must be between 0 and 2147483647, "
                                        "not -1");
    EXPECT_EQ(load_err("ping_interval: 9223372036854775807"),
              "o.conf:1:16: 'ping_interval' is out of range");
}

TEST(server_options, monitoring) {
    server_options o = load_ok("http: 127.0.0.1:8222");
    EXPECT_EQ(o.http_host, "127.0.0.1");
    EXPECT_EQ(o.http_port, 8222);
    EXPECT_EQ(load_ok("http: 8333").http_port, 8333);
    EXPECT_EQ(load_ok("http_port: 8444").http_port, 8444);
    EXPECT_EQ(load_ok("monitor_port: 8555").http_port, 8555);
    EXPECT_EQ(load_ok("http_port: -1").http_port, -1) << "any free port";
    EXPECT_EQ(load_ok("http_port: 0").http_port, 0) << "off";
    // Monitoring binds where clients do unless `http` names a host.
    o = load_ok("listen: 127.0.0.1:4222\nhttp_port: 8222");
    EXPECT_EQ(o.http_host, "127.0.0.1");
    o = load_ok("listen: 127.0.0.1:4222\nhttp: \":8222\"");
    EXPECT_EQ(o.http_host, "127.0.0.1");
    EXPECT_EQ(o.http_port, 8222);
    o = load_ok("listen: 127.0.0.1:4222\nhttp: 0.0.0.0:8222");
    EXPECT_EQ(o.http_host, "0.0.0.0");
    EXPECT_EQ(load_ok("host: ::1\nhttp: \"[::2]:8222\"").http_host, "::2");
    EXPECT_EQ(load_err("http_port: 65536"),
              "o.conf:1:12: 'http_port' must be between -1 and 65535, not 65536");
}

TEST(server_options, authorization_timeout) {
    options_result r = load_config_string("authorization { timeout: 5 }", "o.conf");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.options.auth_timeout, 5s);
    EXPECT_TRUE(r.warnings.empty()) << "timeout alone is supported";
    EXPECT_EQ(load_ok("authorization { timeout: 0.5 }").auth_timeout, 500ms);
    EXPECT_EQ(load_ok("authorization { timeout: \"750ms\" }").auth_timeout, 750ms);
    EXPECT_EQ(load_ok("authorization { timeout: 0 }").auth_timeout, 2s);

    EXPECT_EQ(load_err("authorization: 5"),
              "o.conf:1:16: 'authorization' must be a map, not integer");
    EXPECT_EQ(load_err("authorization { timeout: -1 }"),
              "o.conf:1:26: authorization timeout must be between 0 and one year of seconds");
    EXPECT_EQ(load_err("authorization { timeout: [1] }"),
              "o.conf:1:26: 'timeout' must be a number of seconds, not array");
    EXPECT_EQ(load_err("authorization { timeout: \"x\" }"),
              "o.conf:1:26: error parsing authorization timeout: invalid duration \"x\"");
}

TEST(server_options, authorization_credentials) {
    options_result r =
        load_config_string("authorization {\n  user: a\n  password: b\n  timeout: 3\n}", "o.conf");
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_EQ(r.options.auth_timeout, 3s);
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_EQ(r.warnings[0].text, "o.conf:1:1: Plaintext passwords detected, use nkeys or bcrypt");
    EXPECT_EQ(r.options.security.user, "a");
    EXPECT_EQ(r.options.security.password, "b");
    EXPECT_FALSE(r.options.security.users_list);

    r = load_config_string("authorization { username: a, pass: \"$2a$11$xyz\" }", "o.conf");
    EXPECT_TRUE(r.warnings.empty()) << "a bcrypt password is not plain text";
    server_options o = r.options;
    EXPECT_EQ(o.security.user, "a");
    EXPECT_EQ(o.security.password, "$2a$11$xyz");
    EXPECT_EQ(load_ok("authorization { token: t0k }").security.token, "t0k");

    o = load_ok("authorization { users: [ {user: a, password: x}, {username: b, pass: y} ] }\n"
                "no_auth_user: b");
    ASSERT_TRUE(o.security.users_list);
    ASSERT_EQ(o.security.users.size(), 2u);
    EXPECT_EQ(o.security.users[1].user, "b");
    EXPECT_EQ(o.security.users[1].password, "y");
    EXPECT_EQ(o.security.no_auth_user, "b");
    EXPECT_TRUE(load_ok("authorization { users: [] }").security.users_list);

    // Per-user permissions, and default_permissions for users without their own.
    o = load_ok("authorization { users: [ {user: a, password: \"$2b$04$x\", "
                "permissions: {publish: [\"x.>\"]}}, {user: b, password: \"$2b$04$y\"} ], "
                "default_permissions: {subscribe: {deny: \"secret.>\"}} }");
    ASSERT_EQ(o.security.users.size(), 2u);
    ASSERT_TRUE(o.security.users[0].permissions.has_value());
    ASSERT_TRUE(o.security.users[0].permissions->publish.has_value());
    EXPECT_EQ(*o.security.users[0].permissions->publish->allow, std::vector<std::string>{"x.>"});
    EXPECT_FALSE(o.security.users[0].permissions->subscribe.has_value());
    ASSERT_TRUE(o.security.users[1].permissions.has_value());
    EXPECT_EQ(o.security.users[1].permissions->subscribe->deny,
              std::vector<std::string>{"secret.>"});
    EXPECT_EQ(load_err("authorization { users: [ {user: a, permissions: {publish: \"a..b\"}} ] }"),
              "o.conf:1:59: subject \"a..b\" is not a valid subject");
    EXPECT_EQ(load_err("authorization { users: [ {user: a, permissions: {pubish: x}} ] }"),
              "o.conf:1:50: Unknown field \"pubish\" parsing permissions");

    EXPECT_EQ(load_err("authorization { user: a, password: b, token: c }"),
              "o.conf:1:1: Cannot have a user/pass and token");
    EXPECT_EQ(load_err("authorization { user: a, users: [] }"),
              "o.conf:1:1: Can not have a single user/pass and a users array");
    EXPECT_EQ(load_err("authorization { token: a, users: [] }"),
              "o.conf:1:1: Can not have a token and a users array");
    EXPECT_EQ(load_err("authorization { users: [ {user: a}, {user: a} ] }"),
              "o.conf:1:1: Duplicate user \"a\" detected");
    EXPECT_EQ(load_err("authorization { users: [ {password: a} ] }"),
              "o.conf:1:26: User entry requires a user");
    EXPECT_EQ(load_err("authorization { users: [ {user: a} ] }\nno_auth_user: b"),
              "no_auth_user: \"b\" not present as user or nkey in authorization block or account "
              "configuration");
    EXPECT_EQ(load_err("authorization { user: a, password: b }\nno_auth_user: a"),
              "no_auth_user: \"a\" present, but users/nkeys are not defined");
}

TEST(server_options, natrix_block) {
    server_options o = load_ok("natrix {\n"
                               "  shards: 4\n"
                               "  cpus: [2, 3, 4, 5]\n"
                               "  idle_strategy: spin\n"
                               "  spin_us: 200\n"
                               "  ring_capacity: 1MB\n"
                               "  io { recv_buffer_size: 16KB, recv_buffer_count: 1024 }\n"
                               "}\n");
    EXPECT_EQ(o.natrix.shards, 4u);
    EXPECT_EQ(o.natrix.cpus, (std::vector<int>{2, 3, 4, 5}));
    EXPECT_EQ(o.natrix.idle_strategy, "spin");
    EXPECT_EQ(o.natrix.spin_us, 200u);
    EXPECT_EQ(o.natrix.ring_capacity, 1u << 20);
    EXPECT_EQ(o.natrix.recv_buffer_size, 16384u);
    EXPECT_EQ(o.natrix.recv_buffer_count, 1024u);
    EXPECT_EQ(load_ok("natrix { cpus: \"0-3,6\" }").natrix.cpus, (std::vector<int>{0, 1, 2, 3, 6}));
    EXPECT_EQ(load_ok("natrix { cpus: [\"0-1\", 4] }").natrix.cpus, (std::vector<int>{0, 1, 4}));
    EXPECT_EQ(load_ok("natrix { cpus: 7 }").natrix.cpus, (std::vector<int>{7}));
    EXPECT_EQ(load_ok("natrix { idle_strategy: SLEEP }").natrix.idle_strategy, "sleep");
    EXPECT_EQ(load_ok("NATRIX { Shards: 2 }").natrix.shards, 2u);
    // The I/O backend: a string, or `backend` inside the io block.
    EXPECT_EQ(load_ok("").natrix.io_backend, "auto");
    EXPECT_EQ(load_ok("natrix { io: epoll }").natrix.io_backend, "epoll");
    EXPECT_EQ(load_ok("natrix { io: io_uring }").natrix.io_backend, "uring");
    EXPECT_EQ(load_ok("natrix { io { backend: EPOLL, recv_buffer_count: 64 } }").natrix.io_backend,
              "epoll");
}

TEST(server_options, natrix_block_errors) {
    EXPECT_EQ(load_err("natrix { shards: -1 }"),
              "o.conf:1:18: 'natrix.shards' must be between 0 and 4096, not -1");
    EXPECT_EQ(load_err("natrix { cpus: \"3-1\" }"),
              "o.conf:1:16: 'natrix.cpus': cpu range '3-1' is "
              "reversed");
    EXPECT_EQ(load_err("natrix { cpus: [1, -1] }"),
              "o.conf:1:20: 'natrix.cpus': cpu -1 is out of range (0-4095)");
    EXPECT_EQ(load_err("natrix { cpus: [1, \"0-2\"] }"),
              "o.conf:1:16: 'natrix.cpus': cpu 1 is listed twice");
    EXPECT_EQ(load_err("natrix { cpus: [true] }"),
              "o.conf:1:17: 'natrix.cpus' must be an array of cpu numbers or a string like "
              "\"0-3,6\", not boolean");
    EXPECT_EQ(load_err("natrix { idle_strategy: yield }"),
              "o.conf:1:25: 'natrix.idle_strategy' must be spin, backoff or sleep, not \"yield\"");
    EXPECT_EQ(load_err("natrix { spin_us: 2000000 }"),
              "o.conf:1:19: 'natrix.spin_us' must be between 0 and 1000000, not 2000000");
    EXPECT_EQ(load_err("natrix { ring_capacity: 1000 }"),
              "o.conf:1:25: 'natrix.ring_capacity' must be between 1024 and 1073741824, not 1000");
    EXPECT_EQ(load_err("natrix { ring_capacity: 3000 }"),
              "o.conf:1:25: 'natrix.ring_capacity' must be a power of two, not 3000");
    EXPECT_EQ(load_err("natrix { io { recv_buffer_count: 300 } }"),
              "o.conf:1:34: 'natrix.io.recv_buffer_count' must be a power of two (io_uring buffer "
              "rings), not 300");
    EXPECT_EQ(load_err("natrix { io { recv_buffer_count: 65536 } }"),
              "o.conf:1:34: 'natrix.io.recv_buffer_count' must be between 1 and 32768, not 65536");
    EXPECT_EQ(
        load_err("natrix { io { recv_buffer_size: 100 } }"),
        "o.conf:1:33: 'natrix.io.recv_buffer_size' must be between 1024 and 16777216, not 100");
    EXPECT_EQ(load_err("natrix { io: 5 }"),
              "o.conf:1:14: 'natrix.io' must be a string or a map, not integer");
    EXPECT_EQ(load_err("natrix { io: kqueue }"),
              "o.conf:1:14: 'natrix.io' must be uring, epoll or auto, not \"kqueue\"");
    EXPECT_EQ(load_err("natrix { io { backend: dpdk } }"),
              "o.conf:1:24: 'natrix.io.backend' must be uring, epoll or auto, not \"dpdk\"");
    EXPECT_EQ(load_err("natrix: 5"), "o.conf:1:9: 'natrix' must be a map, not integer");
    EXPECT_EQ(load_err("natrix { shards: 4, cpus: \"0-1\" }"),
              "natrix.shards (4) is more than the cpus listed in natrix.cpus (2)");
    EXPECT_EQ(load_err("natrix { bogus: 1 }"), "o.conf:1:10: unknown field \"natrix.bogus\"");
    EXPECT_EQ(load_err("natrix { io { bogus: 1 } }"),
              "o.conf:1:15: unknown field \"natrix.io.bogus\"");
}

TEST(server_options, unknown_keys_are_errors_like_nats_server) {
    EXPECT_EQ(load_err("port: 4222\n  prot: 4223\n"), "o.conf:2:3: unknown field \"prot\"");
    options_result r = load_config_string("a: 1\nb: 2\n", "o.conf");
    EXPECT_EQ(r.errors.size(), 2u) << "every error is collected";
    // A key used as a $variable is not unknown (nats-server's rule).
    options_result v = load_config_string("my_port = 4333\nport: $my_port\n", "o.conf");
    ASSERT_TRUE(v.ok()) << v.error_text();
    EXPECT_EQ(v.options.port, 4333);
    EXPECT_TRUE(v.warnings.empty());
}

TEST(server_options, strict_config_off_turns_unknown_keys_into_warnings) {
    options_result r = load_config_string("prot: 1\nnatrix { strict_config: false, bogus: 2 }\n"
                                          "port: 4999\n",
                                          "o.conf");
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_FALSE(r.options.natrix.strict_config);
    EXPECT_EQ(r.options.port, 4999);
    EXPECT_TRUE(has_warning(r, "prot",
                            "o.conf:1:1: unknown field \"prot\" ignored (strict_config "
                            "is off)"));
    EXPECT_TRUE(has_warning(r, "natrix.bogus", "o.conf:2:32: unknown field \"natrix.bogus\""));
    EXPECT_EQ(load_err("natrix { strict_config: 0 }"),
              "o.conf:1:25: 'natrix.strict_config' must be a boolean (true/false, yes/no, on/off), "
              "not integer");
}

TEST(server_options, unsupported_nats_server_keys_are_warnings) {
    const char* keys[] = {"leafnodes { port: 7422 }",
                          "jetstream { store_dir: /tmp }",
                          "websocket { port: 8080 }",
                          "mqtt { port: 1883 }",
                          "syslog: true",
                          "system_account: SYS",
                          "server_tags: [a, b]",
                          "https_port: 8443",
                          "trace_headers: true"};
    for (const char* k : keys) {
        options_result r = load_config_string(k, "o.conf");
        EXPECT_TRUE(r.ok()) << k << ": " << r.error_text();
        ASSERT_EQ(r.warnings.size(), 1u) << k;
        EXPECT_NE(r.warnings[0].text.find("is not supported by natrix yet; ignored"),
                  std::string::npos)
            << r.warnings[0].text;
        EXPECT_EQ(r.warnings[0].text.rfind("o.conf:1:1: ", 0), 0u) << r.warnings[0].text;
    }
}

TEST(server_options, a_real_nats_server_config_loads_with_warnings) {
    temp_dir dir;
    std::string path = dir.write("nats.conf", R"(# A typical nats-server configuration.
server_name: "n1"
listen: 0.0.0.0:4222
port: 4333
max_payload: 2MB
ping_interval: "30s"
write_deadline: "5s"
http: 127.0.0.1:8222

authorization {
  user: a
  password: b
  timeout: 3
}

cluster {
  name: c1
  listen: 0.0.0.0:6222
  routes = [
    nats-route://n2:6222
    nats-route://n3:6222
  ]
}

jetstream {
  store_dir: "/var/lib/nats"
  max_mem: 1G
}
)");
    options_result r = load_config_file(path);
    ASSERT_TRUE(r.ok()) << r.error_text();
    const server_options& o = r.options;
    EXPECT_EQ(o.server_name, "n1");
    EXPECT_EQ(o.host, "0.0.0.0");
    EXPECT_EQ(o.port, 4333);
    EXPECT_EQ(o.max_payload, 2 << 20);
    EXPECT_EQ(o.ping_interval, 30s);
    EXPECT_EQ(o.write_deadline, 5s);
    EXPECT_EQ(o.http_host, "127.0.0.1");
    EXPECT_EQ(o.http_port, 8222);
    EXPECT_EQ(o.auth_timeout, 3s);
    EXPECT_EQ(o.config_file, path);
    EXPECT_EQ(o.security.user, "a");
    EXPECT_EQ(o.security.password, "b");
    // cluster {} is read (cluster_options_test.cc).
    EXPECT_TRUE(o.cluster.enabled);
    EXPECT_EQ(o.cluster.name, "c1");
    EXPECT_EQ(o.cluster.port, 6222);
    ASSERT_EQ(o.cluster.routes.size(), 2u);
    EXPECT_EQ(o.cluster.routes[1].host, "n3");
    ASSERT_EQ(r.warnings.size(), 2u);
    EXPECT_EQ(r.warnings[0].key, "authorization");
    EXPECT_EQ(r.warnings[0].text,
              path + ":10:1: Plaintext passwords detected, use nkeys or bcrypt");
    EXPECT_EQ(r.warnings[1].key, "jetstream");
    // The raw tree stays available for the modules that will implement these.
    ASSERT_TRUE(o.tree);
    EXPECT_EQ(o.tree->find("authorization")->find("user")->as_string(), "a");
    EXPECT_EQ(o.tree->find("cluster")->find("routes")->as_array().size(), 2u);
}

TEST(server_options, parse_errors_come_through_with_position) {
    options_result r = load_config_string("port: 4222\nbad = \"x\n", "o.conf");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0], "o.conf:2:7: unterminated string (missing closing '\"')");
    EXPECT_TRUE(r.options.tree) << "never null";
    r = load_config_file("/nonexistent/x.conf");
    EXPECT_EQ(r.error_text(), "/nonexistent/x.conf: cannot read config file: No such file or "
                              "directory");
}

namespace {

using namespace natrix::config;

TEST(server_options, accounts_with_users_exports_and_imports) {
    server_options o = load_ok(R"(
accounts {
  A: {
    users: [ {user: a, password: "$2b$04$x"} ]
    exports: [ {stream: "pub.>"}, {service: "svc.>", response: stream, threshold: "5s"},
               {stream: "priv.>", accounts: [B]} ]
  }
  B: {
    users: [ {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4} ]
    imports: [ {stream: {account: A, subject: "pub.>"}, prefix: from_a},
               {stream: {account: A, subject: "priv.x"}, to: "mine.x"},
               {service: {account: A, subject: "svc.time"}, to: "time"} ]
    default_permissions: { publish: "time" }
  }
}
)");
    const security_options& s = o.security;
    ASSERT_EQ(s.accounts.size(), 2u);
    EXPECT_TRUE(s.users_list);
    ASSERT_EQ(s.users.size(), 2u);
    EXPECT_EQ(s.users[0].account, "A");
    EXPECT_EQ(s.users[1].account, "B");
    EXPECT_EQ(s.users[1].nkey, "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4");
    ASSERT_TRUE(s.users[1].permissions.has_value()) << "default_permissions apply";
    const account_option& a = s.accounts[0];
    ASSERT_EQ(a.exports.size(), 3u);
    EXPECT_FALSE(a.exports[0].service);
    EXPECT_TRUE(a.exports[1].service);
    EXPECT_EQ(a.exports[1].responses, response_type::stream);
    EXPECT_EQ(a.exports[1].response_threshold, 5s);
    EXPECT_EQ(a.exports[2].accounts, std::vector<std::string>{"B"});
    const account_option& b = s.accounts[1];
    ASSERT_EQ(b.imports.size(), 3u);
    EXPECT_EQ(b.imports[0].prefix, "from_a");
    EXPECT_EQ(b.imports[1].to, "mine.x");
    EXPECT_TRUE(b.imports[2].service);
}

TEST(server_options, accounts_errors_follow_nats_server) {
    EXPECT_EQ(load_err("accounts { $G: {} }"), "o.conf:1:12: \"$G\" is a Reserved Account");
    EXPECT_EQ(
        load_err("accounts { A: {}, B: { imports: [ {stream: {account: A, subject: x}} ] } }"),
        "o.conf:1:1: Error adding stream import \"x\": stream import not authorized");
    EXPECT_EQ(load_err("accounts { A: { exports: [ {stream: \"x.>\", accounts: [C]} ] } }"),
              "o.conf:1:1: \"C\" account not defined for stream export");
    EXPECT_EQ(load_err("accounts { A: { exports: [ {stream: \"x.>\", accounts: [A]} ] }, "
                       "B: { imports: [ {stream: {account: A, subject: \"x.y\"}} ] } }"),
              "o.conf:1:1: Error adding stream import \"x.y\": stream import not authorized");
    EXPECT_EQ(load_err("accounts { B: { imports: [ {service: {account: Z, subject: x}} ] } }"),
              "o.conf:1:1: \"Z\" account not defined for service import");
    EXPECT_EQ(load_err("accounts { A: { users: [ {user: u} ] }, B: { users: [ {user: u} ] } }"),
              "o.conf:1:1: Duplicate user \"u\" detected");
    EXPECT_EQ(
        load_err(
            "authorization { user: x, password: y }\naccounts { A: { users: [ {user: u} ] } }"),
        "o.conf:2:1: Can not have a single user/pass and accounts");
    EXPECT_EQ(load_err("accounts { A: { users: [ {nkey: Ubad} ] } }"),
              "o.conf:1:26: Not a valid public nkey for a user");
    EXPECT_EQ(load_err("accounts { A: { exports: [ {stream: x, response: singleton} ] } }"),
              "o.conf:1:28: Detected response directive on non-service");
}

} // namespace
