#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include <natrix/auth/nkey.hh>
#include <natrix/bench_client/options.hh>

using namespace natrix::bench_client;

namespace {

parse_result parse(std::vector<std::string> args) {
    std::vector<const char*> argv{"natrix-bench"};
    for (auto& a : args) argv.push_back(a.c_str());
    return parse_args(static_cast<int>(argv.size()), argv.data());
}

void expect_error(std::vector<std::string> args, const std::string& needle) {
    const auto r = parse(args);
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.help);
    EXPECT_NE(r.error.find(needle), std::string::npos) << "error was: " << r.error;
}

namespace nk = natrix::auth::nkey;

std::string seed_of(nk::key_type t) {
    return nk::keypair::generate(t).seed();
}

// A file under the test's temporary directory, removed when destroyed.
struct temp_file {
    std::string path;
    explicit temp_file(const std::string& text) {
        char name[] = "/tmp/natrix-bench-seed-XXXXXX";
        const int fd = mkstemp(name);
        path = name;
        if (fd >= 0) {
            EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
            close(fd);
        }
    }
    ~temp_file() { std::remove(path.c_str()); }
};

} // namespace

TEST(options, nkey_seed) {
    const std::string seed = seed_of(nk::key_type::user);
    auto r = parse({"conns", "--nkey-seed", seed});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.options.nkey_seed, seed);
    r = parse({"pubsub", "--nkey-seed=" + seed, "-s", "nats://u:p@127.0.0.1:4222"});
    ASSERT_TRUE(r.ok) << r.error; // the URL's credentials are ignored, not an error
    EXPECT_EQ(r.options.nkey_seed, seed);
    EXPECT_NE(usage_text().find("--nkey-seed-file"), std::string::npos);
}

TEST(options, nkey_seed_file) {
    const std::string seed = seed_of(nk::key_type::user);
    {
        temp_file f(seed + "\n");
        const auto r = parse({"conns", "--nkey-seed-file", f.path});
        ASSERT_TRUE(r.ok) << r.error;
        EXPECT_EQ(r.options.nkey_seed, seed);
    }
    {
        // A .creds file: the seed is the line that looks like one.
        temp_file f(
            "-----BEGIN NATS USER JWT-----\neyJhbGciOi.x.y\n------END NATS USER JWT------\n\n"
            "-----BEGIN USER NKEY SEED-----\n" +
            seed + "\n------END USER NKEY SEED------\n");
        const auto r = parse({"pub", "--nkey-seed-file=" + f.path});
        ASSERT_TRUE(r.ok) << r.error;
        EXPECT_EQ(r.options.nkey_seed, seed);
    }
    {
        temp_file f("nothing here\nat all\n");
        expect_error({"pub", "--nkey-seed-file", f.path}, "no seed found");
    }
    expect_error({"pub", "--nkey-seed-file", "/nonexistent/seed"}, "cannot read --nkey-seed-file");
}

TEST(options, nkey_seed_errors_never_quote_the_seed) {
    std::string bad = seed_of(nk::key_type::user);
    bad[10] = bad[10] == 'A' ? 'B' : 'A'; // breaks the CRC
    auto r = parse({"pub", "--nkey-seed", bad});
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("bad value for --nkey-seed: invalid seed"), std::string::npos)
        << r.error;
    EXPECT_EQ(r.error.find(bad), std::string::npos);
    const std::string account = seed_of(nk::key_type::account);
    r = parse({"pub", "--nkey-seed", account});
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("the seed makes account keys"), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find(account), std::string::npos);
    const std::string user = nk::keypair::generate(nk::key_type::user).public_key();
    expect_error({"pub", "--nkey-seed", user}, "invalid seed");
    const std::string seed = seed_of(nk::key_type::user);
    expect_error({"pub", "--nkey-seed", seed, "--token", "t"}, "either --nkey-seed");
    expect_error({"pub", "--user", "u", "--nkey-seed", seed}, "either --nkey-seed");
    expect_error({"pub", "--nkey-seed"}, "needs a value");
}

TEST(options, full_command_line) {
    const auto r = parse({"pubsub",
                          "--server",
                          "nats://alice:secret@127.0.0.1:4333,localhost",
                          "-p",
                          "3",
                          "--subs=5",
                          "--subjects",
                          "2",
                          "-m",
                          "1KiB",
                          "-n",
                          "2M",
                          "--rate",
                          "50k",
                          "-w",
                          "500ms",
                          "--headers",
                          "--cpus",
                          "0-2,5",
                          "--batch",
                          "32K",
                          "--max-inflight",
                          "10k",
                          "--drain-timeout",
                          "2s",
                          "--json",
                          "--allow-loss",
                          "-q",
                          "--subject",
                          "a.b"});
    ASSERT_TRUE(r.ok) << r.error;
    const auto& o = r.options;
    EXPECT_EQ(o.kind, scenario::pubsub);
    ASSERT_EQ(o.servers.size(), 2u);
    EXPECT_EQ(o.servers[0].host, "127.0.0.1");
    EXPECT_EQ(o.servers[0].port, 4333);
    EXPECT_EQ(o.servers[0].user, "alice");
    EXPECT_EQ(o.servers[0].pass, "secret");
    EXPECT_EQ(o.servers[1].host, "localhost");
    EXPECT_EQ(o.servers[1].port, 4222);
    EXPECT_EQ(o.pubs, 3);
    EXPECT_EQ(o.subs, 5);
    EXPECT_EQ(o.subjects, 2);
    EXPECT_EQ(o.size, 1024u);
    EXPECT_EQ(o.count, 2000000u);
    EXPECT_DOUBLE_EQ(o.rate, 50000);
    EXPECT_DOUBLE_EQ(o.warmup_s, 0.5);
    EXPECT_TRUE(o.headers);
    EXPECT_EQ(o.cpus, (std::vector<int>{0, 1, 2, 5}));
    EXPECT_EQ(o.batch_bytes, 32u * 1024);
    EXPECT_EQ(o.max_inflight, 10000u);
    EXPECT_DOUBLE_EQ(o.drain_timeout_s, 2);
    EXPECT_TRUE(o.json);
    EXPECT_TRUE(o.allow_loss);
    EXPECT_FALSE(o.progress);
    EXPECT_EQ(o.subject, "a.b");
}

TEST(options, scenario_defaults) {
    auto r = parse({"fanout"});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.options.pubs, 1);
    EXPECT_EQ(r.options.subs, 4);
    EXPECT_DOUBLE_EQ(r.options.run_seconds(), 5);
    ASSERT_EQ(r.options.servers.size(), 1u);
    EXPECT_EQ(r.options.servers[0].text(), "nats://127.0.0.1:4222");

    r = parse({"pub", "-n", "100"});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.options.subs, 0);
    EXPECT_DOUBLE_EQ(r.options.run_seconds(), 0); // count only

    r = parse({"sub"});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.options.pubs, 0);
    EXPECT_EQ(r.options.subs, 1);

    r = parse({"latency"});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_DOUBLE_EQ(r.options.rate, 10000);

    r = parse({"queue", "--queue", "workers", "--token", "t0k"});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.options.subs, 4);
    EXPECT_EQ(r.options.queue_group, "workers");
    EXPECT_EQ(r.options.token, "t0k");

    r = parse({"conns", "-c", "2000", "--ping-interval", "250ms", "-d", "1m"});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.options.clients, 2000);
    EXPECT_DOUBLE_EQ(r.options.ping_interval_s, 0.25);
    EXPECT_DOUBLE_EQ(r.options.duration_s, 60);

    for (const char* s : {"pub", "sub", "pubsub", "fanout", "queue", "reqrep", "latency", "conns",
                          "tcp-bulk", "tcp-pingpong"}) {
        r = parse({s});
        EXPECT_TRUE(r.ok) << s << ": " << r.error;
        EXPECT_EQ(scenario_name(r.options.kind), s);
    }
}

TEST(options, help) {
    EXPECT_TRUE(parse({"--help"}).help);
    EXPECT_TRUE(parse({"pub", "-h"}).help);
    EXPECT_NE(usage_text().find("usage: natrix-bench SCENARIO"), std::string::npos);
}

TEST(options, invalid_command_lines) {
    expect_error({}, "missing scenario");
    expect_error({"bogus"}, "unknown scenario 'bogus'");
    expect_error({"pub", "extra"}, "unexpected argument 'extra'");
    expect_error({"pub", "--frobnicate"}, "unknown option '--frobnicate'");
    expect_error({"pub", "--size"}, "needs a value");
    expect_error({"pub", "--size", "12Q"}, "bad value '12Q' for --size");
    expect_error({"pub", "--size", "65M"}, "bad value");
    expect_error({"pub", "--count", "0"}, "positive count");
    expect_error({"pub", "--duration", "-1"}, "bad value");
    expect_error({"pub", "--duration", "10 parsecs"}, "bad value");
    expect_error({"pub", "--cpus", "3-1"}, "CPU list");
    expect_error({"pub", "--cpus", "0,"}, "CPU list");
    expect_error({"pub", "--pubs", "70000"}, "0..65535");
    expect_error({"pub", "--subs", "2"}, "pub has no subscribers");
    expect_error({"sub", "--pubs", "1"}, "sub has no publishers");
    expect_error({"pubsub", "--pubs", "0"}, "needs at least one publisher");
    expect_error({"fanout", "--subs", "0"}, "needs at least one subscriber");
    expect_error({"fanout", "--subjects", "3"}, "fanout uses one subject");
    expect_error({"reqrep", "--rate", "100"}, "closed loop");
    expect_error({"latency", "--rate", "0"}, "positive --rate");
    expect_error({"pubsub", "--queue", "q"}, "--queue applies");
    expect_error({"conns", "--count", "10"}, "--count does not apply");
    expect_error({"pub", "--token", "t", "--user", "u"}, "either --token");
    expect_error({"pub", "--subject", "a.*"}, "without spaces or wildcards");
    expect_error({"pub", "--subject", "a..b"}, "bad value");
    expect_error({"pub", "--server", "nats://host:99999"}, "bad port");
    expect_error({"pub", "--server", "http://host:4222"}, "unsupported URL scheme");
    expect_error({"pub", "--server", "nats://:4222"}, "missing host");
    expect_error({"pub", "--json=yes"}, "takes no value");
    expect_error({"pub", "--batch", "100"}, "at least 1K");
}

TEST(options, value_parsers) {
    std::uint64_t n = 0;
    EXPECT_TRUE(parse_size("16", n));
    EXPECT_EQ(n, 16u);
    EXPECT_TRUE(parse_size("4K", n));
    EXPECT_EQ(n, 4096u);
    EXPECT_TRUE(parse_size("1MiB", n));
    EXPECT_EQ(n, 1u << 20);
    EXPECT_FALSE(parse_size("", n));
    EXPECT_FALSE(parse_size("K", n));
    EXPECT_FALSE(parse_size("1.5K", n));
    EXPECT_TRUE(parse_count("250k", n));
    EXPECT_EQ(n, 250000u);
    EXPECT_FALSE(parse_count("-5", n));

    double d = 0;
    EXPECT_TRUE(parse_duration("1.5", d));
    EXPECT_DOUBLE_EQ(d, 1.5);
    EXPECT_TRUE(parse_duration("250ms", d));
    EXPECT_DOUBLE_EQ(d, 0.25);
    EXPECT_TRUE(parse_duration("100us", d));
    EXPECT_DOUBLE_EQ(d, 1e-4);
    EXPECT_TRUE(parse_duration("2m", d));
    EXPECT_DOUBLE_EQ(d, 120);
    EXPECT_FALSE(parse_duration("2 s", d));
    EXPECT_TRUE(parse_rate("1.5M", d));
    EXPECT_DOUBLE_EQ(d, 1.5e6);
    EXPECT_FALSE(parse_rate("fast", d));

    std::vector<int> cpus;
    EXPECT_TRUE(parse_cpu_list("0,1", cpus));
    EXPECT_EQ(cpus, (std::vector<int>{0, 1}));
    EXPECT_TRUE(parse_cpu_list("2-4,8", cpus));
    EXPECT_EQ(cpus, (std::vector<int>{2, 3, 4, 8}));
    EXPECT_FALSE(parse_cpu_list("", cpus));
    EXPECT_FALSE(parse_cpu_list("a", cpus));
}

TEST(options, server_urls) {
    server_url u;
    std::string err;
    ASSERT_TRUE(parse_server_url("nats://[::1]:4333", u, err)) << err;
    EXPECT_EQ(u.host, "::1");
    EXPECT_EQ(u.port, 4333);
    EXPECT_EQ(u.text(), "nats://[::1]:4333");
    ASSERT_TRUE(parse_server_url("tok3n@example.org", u, err)) << err;
    EXPECT_EQ(u.token, "tok3n");
    EXPECT_EQ(u.host, "example.org");
    EXPECT_EQ(u.port, 4222);
    ASSERT_TRUE(parse_server_url("10.0.0.1:5000/", u, err)) << err;
    EXPECT_EQ(u.port, 5000);
    EXPECT_FALSE(parse_server_url("nats://host:", u, err));
    EXPECT_FALSE(parse_server_url("nats://[::1", u, err));
}
