#include <gtest/gtest.h>

#include <natrix/config/cli.hh>

#include "temp_dir.hh"

using namespace std::chrono_literals;
using natrix::config::cli_action;
using natrix::config::load_result;
using natrix::config::load_server_options;
using natrix::config::usage_text;
using natrix::config::test::temp_dir;

namespace {

load_result run(std::vector<std::string> args) {
    return load_server_options(args);
}

load_result run_ok(std::vector<std::string> args) {
    load_result r = run(args);
    EXPECT_TRUE(r.ok()) << r.error;
    return r;
}

std::string usage_error(std::vector<std::string> args) {
    load_result r = run(args);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(r.usage_error) << r.error;
    return r.error;
}

} // namespace

TEST(cli, no_arguments_run_the_builtin_default) {
    load_result r = run_ok({});
    EXPECT_EQ(r.action, cli_action::run);
    EXPECT_EQ(r.options.port, 4222);
    EXPECT_EQ(r.options.host, "0.0.0.0");
    EXPECT_EQ(r.options.config_file, "");
    EXPECT_TRUE(r.warnings.empty());
    ASSERT_TRUE(r.options.tree);
    EXPECT_TRUE(r.options.tree->find("listen"));
}

TEST(cli, every_flag_spelling_of_port) {
    for (std::vector<std::string> args : {std::vector<std::string>{"-p", "4333"},
                                          {"--port", "4333"},
                                          {"-port", "4333"},
                                          {"--port=4333"},
                                          {"-p=4333"},
                                          {"-port=4333"}}) {
        load_result r = run_ok(args);
        EXPECT_EQ(r.options.port, 4333) << args[0];
    }
    EXPECT_EQ(run_ok({"-p", "-1"}).options.port, 0) << "-1 = any free port";
    EXPECT_EQ(run_ok({"-p", "0"}).options.port, 4222) << "0 = not given, as in nats-server";
}

TEST(cli, server_flags) {
    load_result r = run_ok({"-a", "127.0.0.1", "-m", "8222", "-n", "edge", "-l", "/tmp/x.log", "-P",
                            "/tmp/x.pid", "--max_payload", "2MB"});
    EXPECT_EQ(r.options.host, "127.0.0.1");
    EXPECT_EQ(r.options.http_port, 8222);
    EXPECT_EQ(r.options.server_name, "edge");
    EXPECT_EQ(r.options.log_file, "/tmp/x.log");
    EXPECT_EQ(r.options.pid_file, "/tmp/x.pid");
    EXPECT_EQ(r.options.max_payload, 2 << 20);
    EXPECT_EQ(run_ok({"--addr", "10.0.0.1"}).options.host, "10.0.0.1");
    EXPECT_EQ(run_ok({"--net=10.0.0.2"}).options.host, "10.0.0.2");
    EXPECT_EQ(run_ok({"--http_port", "-1"}).options.http_port, -1);
    EXPECT_EQ(run_ok({"--name", "x"}).options.server_name, "x");
    EXPECT_EQ(run_ok({"--server_name", "y"}).options.server_name, "y");
    EXPECT_EQ(run_ok({"--log", "a.log"}).options.log_file, "a.log");
    EXPECT_EQ(run_ok({"--pid", "a.pid"}).options.pid_file, "a.pid");
    EXPECT_EQ(run_ok({"--max_payload=4096"}).options.max_payload, 4096);
}

TEST(cli, logging_flags) {
    load_result r = run_ok({"-D"});
    EXPECT_TRUE(r.options.debug);
    EXPECT_FALSE(r.options.trace);
    r = run_ok({"-V"});
    EXPECT_TRUE(r.options.trace);
    EXPECT_FALSE(r.options.debug);
    r = run_ok({"-DV"});
    EXPECT_TRUE(r.options.debug);
    EXPECT_TRUE(r.options.trace);
    r = run_ok({"--debug", "--trace"});
    EXPECT_TRUE(r.options.debug && r.options.trace);
    r = run_ok({"-VV"});
    EXPECT_TRUE(r.options.trace);
    r = run_ok({"-DVV"});
    EXPECT_TRUE(r.options.debug && r.options.trace);
    EXPECT_FALSE(run_ok({"-T=false"}).options.logtime);
    EXPECT_FALSE(run_ok({"--logtime=0"}).options.logtime);
    EXPECT_TRUE(run_ok({"-D=true"}).options.debug);
    EXPECT_FALSE(run_ok({"-D=f"}).options.debug);
    EXPECT_EQ(run_ok({}).options.max_traced_msg_len, 0);
    EXPECT_EQ(run_ok({"--max_traced_msg_len", "32"}).options.max_traced_msg_len, 32);
    EXPECT_TRUE(run_ok({"--max_traced_msg_len=8"}).warnings.empty());
    EXPECT_NE(usage_error({"--max_traced_msg_len", "x"}).find("max_traced_msg_len"),
              std::string::npos);
}

TEST(cli, natrix_flags) {
    load_result r = run_ok({"--shards", "3", "--cpus", "0-3,6", "--idle", "spin"});
    EXPECT_EQ(r.options.natrix.shards, 3u);
    EXPECT_EQ(r.options.natrix.cpus, (std::vector<int>{0, 1, 2, 3, 6}));
    EXPECT_EQ(r.options.natrix.idle_strategy, "spin");
    EXPECT_EQ(run_ok({"-idle=sleep"}).options.natrix.idle_strategy, "sleep");
    EXPECT_EQ(run_ok({"--io", "epoll"}).options.natrix.io_backend, "epoll");
    EXPECT_EQ(run_ok({"--io=uring"}).options.natrix.io_backend, "uring");
    EXPECT_EQ(run_ok({}).options.natrix.io_backend, "auto");
}

TEST(cli, actions) {
    EXPECT_EQ(run_ok({"-h"}).action, cli_action::help);
    EXPECT_EQ(run_ok({"--help"}).action, cli_action::help);
    EXPECT_EQ(run_ok({"help"}).action, cli_action::help);
    EXPECT_EQ(run_ok({"--help_tls"}).action, cli_action::help);
    EXPECT_EQ(run_ok({"-v"}).action, cli_action::version);
    EXPECT_EQ(run_ok({"--version"}).action, cli_action::version);
    EXPECT_EQ(run_ok({"VERSION"}).action, cli_action::version);
    EXPECT_EQ(run_ok({"-h", "-v"}).action, cli_action::version) << "version first, as nats-server";
    EXPECT_EQ(run_ok({"-t"}).action, cli_action::test_config);
    // Help and version never read the config.
    EXPECT_EQ(run_ok({"-c", "/nonexistent.conf", "-h"}).action, cli_action::help);
}

TEST(cli, check_host_is_an_action_and_json_goes_with_it) {
    load_result r = run_ok({"--check-host"});
    EXPECT_EQ(r.action, cli_action::check_host);
    EXPECT_FALSE(r.json);
    r = run_ok({"-check_host", "--json", "--cpus", "2-3"});
    EXPECT_EQ(r.action, cli_action::check_host);
    EXPECT_TRUE(r.json);
    EXPECT_EQ(r.options.natrix.cpus, (std::vector<int>{2, 3})) << "flags still override";
    EXPECT_EQ(run_ok({"-t", "--check-host"}).action, cli_action::check_host);
    EXPECT_NE(usage_error({"--json"}).find("--check-host"), std::string::npos);
    // A config that does not load is an error, as for -t.
    EXPECT_FALSE(run({"--check-host", "-c", "/nonexistent.conf"}).ok());
}

TEST(cli, flags_override_the_config_file) {
    temp_dir dir;
    std::string conf = dir.write("n.conf", "listen: 10.0.0.1:5000\nserver_name: file\ndebug: true\n"
                                           "trace: true\nmax_payload: 512KB\n"
                                           "natrix { shards: 2, idle_strategy: sleep }\n");
    load_result r = run_ok({"-c", conf});
    EXPECT_EQ(r.options.port, 5000);
    EXPECT_EQ(r.options.host, "10.0.0.1");
    EXPECT_TRUE(r.options.debug);
    EXPECT_EQ(r.options.config_file, conf);
    EXPECT_EQ(r.options.natrix.shards, 2u);

    r = run_ok({"--config", conf, "-p", "6000", "-n", "flag", "-D=false", "--shards=4",
                "--max_payload", "1KB"});
    EXPECT_EQ(r.action, cli_action::run);
    EXPECT_EQ(r.options.port, 6000);
    EXPECT_EQ(r.options.host, "10.0.0.1") << "not overridden";
    EXPECT_EQ(r.options.server_name, "flag");
    EXPECT_FALSE(r.options.debug) << "an explicit false overrides the file";
    EXPECT_TRUE(r.options.trace);
    EXPECT_EQ(r.options.max_payload, 1024);
    EXPECT_EQ(r.options.natrix.shards, 4u);
    EXPECT_EQ(r.options.natrix.idle_strategy, "sleep");
    EXPECT_EQ(run_ok({"-c", conf, "-a", "0.0.0.0"}).options.host, "0.0.0.0");
    // The monitoring host follows -a unless the file's `http` names one.
    EXPECT_EQ(run_ok({"-c", conf, "-a", "10.9.9.9", "-m", "8222"}).options.http_host, "10.9.9.9");
    std::string mon = dir.write("mon.conf", "http: 127.0.0.1:8222\n");
    EXPECT_EQ(run_ok({"-c", mon, "-a", "10.9.9.9"}).options.http_host, "127.0.0.1");
    EXPECT_EQ(run_ok({"-c", conf, "-t"}).action, cli_action::test_config);
}

TEST(cli, overrides_are_validated_together_with_the_file) {
    temp_dir dir;
    std::string conf = dir.write("n.conf", "max_pending: 1MB\nnatrix { cpus: \"0-1\" }\n");
    load_result r = run({"-c", conf, "--max_payload", "2MB"});
    EXPECT_FALSE(r.usage_error);
    EXPECT_EQ(r.error, "max_payload (2097152) cannot be higher than max_pending (1048576)");
    r = run({"-c", conf, "--shards", "3"});
    EXPECT_EQ(r.error, "natrix.shards (3) is more than the cpus listed in natrix.cpus (2)");
}

TEST(cli, config_errors_are_returned_with_position) {
    temp_dir dir;
    std::string conf = dir.write("bad.conf", "port: 4222\nport: \"x\"\nprot: 1\n");
    load_result r = run({"-c", conf, "-t"});
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.usage_error);
    EXPECT_EQ(r.action, cli_action::test_config);
    EXPECT_EQ(r.error, conf + ":2:7: 'port' must be an integer, not string\n" + conf +
                           ":3:1: unknown field \"prot\"");
    r = run({"-c", dir.path() + "/none.conf"});
    EXPECT_EQ(r.error,
              dir.path() + "/none.conf: cannot read config file: No such file or directory");
    std::string syntax = dir.write("syntax.conf", "a {\n");
    EXPECT_EQ(run({"-c", syntax}).error,
              syntax + ":2:1: missing '}' to close the map opened at " + syntax + ":1:3");
}

TEST(cli, config_warnings_and_unsupported_flags) {
    temp_dir dir;
    std::string conf = dir.write("w.conf", "leafnodes { port: 7422 }\n");
    load_result r =
        run_ok({"-c", conf, "--store_dir", "/tmp/js", "--tls=false", "-js", "-p", "4444"});
    EXPECT_EQ(r.options.port, 4444) << "values of unsupported flags are consumed";
    ASSERT_EQ(r.warnings.size(), 3u);
    EXPECT_EQ(r.warnings[0].key, "leafnodes");
    EXPECT_EQ(r.warnings[1].key, "-store_dir");
    EXPECT_EQ(r.warnings[1].text, "flag -store_dir is not supported by natrix yet; ignored");
    EXPECT_EQ(r.warnings[2].key, "-js");
    // --tls (asking for TLS) is refused, not ignored: fail_closed_test.cc.
}

TEST(cli, user_pass_and_auth_flags_set_credentials) {
    load_result r = run_ok({"--user", "bob", "--pass=x"});
    EXPECT_EQ(r.options.security.user, "bob");
    EXPECT_EQ(r.options.security.password, "x");
    EXPECT_TRUE(r.warnings.empty());
    EXPECT_EQ(run_ok({"--auth", "t0k"}).options.security.token, "t0k");
    temp_dir dir;
    std::string conf = dir.write("a.conf", "authorization { user: a, password: b }\n");
    r = run_ok({"-c", conf, "--pass", "override"});
    EXPECT_EQ(r.options.security.user, "a");
    EXPECT_EQ(r.options.security.password, "override");
    EXPECT_EQ(run({"-c", conf, "--auth", "t"}).error, "Cannot have a user/pass and token");
}

TEST(cli, usage_errors) {
    EXPECT_EQ(usage_error({"--bogus"}), "flag provided but not defined: -bogus");
    EXPECT_EQ(usage_error({"-x=1"}), "flag provided but not defined: -x");
    EXPECT_EQ(usage_error({"-p"}), "flag needs an argument: -p");
    EXPECT_EQ(usage_error({"-c"}), "flag needs an argument: -c");
    EXPECT_EQ(usage_error({"-p", "abc"}), "invalid value \"abc\" for flag -p: parse error");
    EXPECT_EQ(usage_error({"--port=70000"}),
              "invalid value \"70000\" for flag -port: a port is -1 (any free port) to 65535");
    EXPECT_EQ(usage_error({"-D=maybe"}), "invalid boolean value \"maybe\" for -D: parse error");
    EXPECT_EQ(usage_error({"---p", "1"}), "bad flag syntax: ---p");
    EXPECT_EQ(usage_error({"-=1"}), "bad flag syntax: -=1");
    EXPECT_EQ(usage_error({"run"}), "unrecognized command: \"run\"");
    EXPECT_EQ(usage_error({"-D", "false"}), "unrecognized command: \"false\"")
        << "boolean flags take no separate value (Go flag rules)";
    EXPECT_EQ(usage_error({"--cpus", "3-1"}), "invalid value \"3-1\" for flag -cpus: cpu range "
                                              "'3-1' is reversed");
    EXPECT_EQ(usage_error({"--idle", "yield"}),
              "invalid value \"yield\" for flag -idle: expected spin, backoff or sleep");
    EXPECT_EQ(usage_error({"--io", "kqueue"}),
              "invalid value \"kqueue\" for flag -io: expected uring, epoll or auto");
    EXPECT_EQ(usage_error({"--shards", "-2"}),
              "invalid value \"-2\" for flag -shards: expected a shard count (0 = one per core)");
    EXPECT_EQ(
        usage_error({"--max_payload", "big"}),
        "invalid value \"big\" for flag -max_payload: expected a size such as 1048576 or 2MB");
    EXPECT_EQ(usage_error({"--max_payload", "1\nport: 5"}),
              "invalid value \"1\nport: 5\" for flag -max_payload: expected a size such as "
              "1048576 or 2MB");
    EXPECT_EQ(usage_error({"-n", "a b"}),
              "invalid value \"a b\" for flag -n: server name cannot contain spaces");
    EXPECT_EQ(usage_error({"--signal", "reload"}),
              "flag -signal is not supported by natrix: send the signal to the natrix process "
              "with kill(1)");
}

TEST(cli, flag_parsing_stops_at_double_dash) {
    EXPECT_EQ(run_ok({"-p", "4555", "--"}).options.port, 4555);
    EXPECT_EQ(usage_error({"--", "-p", "1"}), "unrecognized command: \"-p\"");
    EXPECT_EQ(run_ok({"--", "version"}).action, cli_action::version);
}

TEST(cli, argc_argv_entry_point_skips_the_program_name) {
    char prog[] = "natrix", p[] = "-p", port[] = "4666", d[] = "-D";
    char* argv[] = {prog, p, port, d, nullptr};
    load_result r = load_server_options(4, argv);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.options.port, 4666);
    EXPECT_TRUE(r.options.debug);
}

TEST(cli, usage_lists_the_flags) {
    std::string u = usage_text();
    for (const char* flag :
         {"--addr", "--port", "--http_port", "--config", "-t", "--debug", "--trace", "-DV", "--log",
          "--pid", "--server_name", "--help", "--version", "--shards", "--cpus", "--idle",
          "--max_payload", "--logtime"})
        EXPECT_NE(u.find(flag), std::string::npos) << flag;
}
