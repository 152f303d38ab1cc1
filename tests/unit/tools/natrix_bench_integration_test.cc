// Runs the natrix-bench binary, as a user would, against a real nats-server on an ephemeral
// loopback port (and against natrix when NATRIX_BIN names a binary whose engine runs), one short
// run per scenario, and checks the JSON it prints: traffic flowed and nothing was lost.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <natrix/auth/nkey.hh>

namespace {

using namespace std::chrono_literals;

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

bool port_open(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

struct proc_result {
    int rc = -1;
    std::string out, err;
};

// Spawns argv with stdout and stderr on pipes.
pid_t spawn(const std::vector<std::string>& args, int& out_fd, int& err_fd) {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_fd = out[0];
    err_fd = err[0];
    return pid;
}

// Runs to completion (killed after timeout), collecting both streams.
proc_result run(const std::vector<std::string>& args, std::chrono::seconds timeout = 30s) {
    proc_result r;
    int out_fd = -1, err_fd = -1;
    const pid_t pid = spawn(args, out_fd, err_fd);
    if (pid < 0) return r;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    int open_fds = 2;
    char buf[65536];
    while (open_fds > 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            r.err += "\n[killed after timeout]";
            break;
        }
        if (poll(fds, 2, 100) <= 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
            } else {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) ::close(f.fd);
    int status = 0;
    waitpid(pid, &status, 0);
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

// A broker process on an ephemeral loopback port, stopped when destroyed.
class server_process {
public:
    // Starts binary with -a 127.0.0.1 -p PORT plus extra; empty error() when it listens.
    server_process(const std::string& binary, std::vector<std::string> extra) {
        for (int attempt = 0; attempt < 3 && !listening_; ++attempt) {
            port_ = free_port();
            std::vector<std::string> args{binary, "-a", "127.0.0.1", "-p", std::to_string(port_)};
            args.insert(args.end(), extra.begin(), extra.end());
            int out_fd = -1, err_fd = -1;
            pid_ = spawn(args, out_fd, err_fd);
            // Collect output in the background so a chatty server never blocks on a pipe.
            reader_ = std::thread([this, out_fd, err_fd] {
                pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
                int open_fds = 2;
                char buf[4096];
                while (open_fds > 0) {
                    if (poll(fds, 2, 200) <= 0) continue;
                    for (auto& f : fds) {
                        if (f.fd < 0 || !(f.revents & (POLLIN | POLLHUP))) continue;
                        ssize_t n = ::read(f.fd, buf, sizeof buf);
                        if (n > 0) {
                            output_.append(buf, static_cast<std::size_t>(n));
                        } else {
                            ::close(f.fd);
                            f.fd = -1;
                            --open_fds;
                        }
                    }
                }
            });
            const auto deadline = std::chrono::steady_clock::now() + 5s;
            while (std::chrono::steady_clock::now() < deadline) {
                if (port_open(port_)) {
                    listening_ = true;
                    break;
                }
                int status = 0;
                if (waitpid(pid_, &status, WNOHANG) == pid_) {
                    pid_ = -1;
                    break;
                }
                std::this_thread::sleep_for(20ms);
            }
            if (!listening_) stop();
            if (pid_ < 0 && !listening_) break; // exited: retrying will not help
        }
    }
    ~server_process() { stop(); }

    void stop() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
        if (reader_.joinable()) reader_.join();
    }
    bool listening() const { return listening_; }
    int port() const { return port_; }
    std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
    // Only meaningful after stop().
    const std::string& output() const { return output_; }

private:
    pid_t pid_ = -1;
    int port_ = 0;
    bool listening_ = false;
    std::thread reader_;
    std::string output_;
};

struct target {
    std::string name;
    std::unique_ptr<server_process> server;
};

std::string bench_bin() {
    return env_or("NATRIX_BENCH_BIN", "natrix-bench");
}
// Debian installs nats-server in /usr/sbin; NATS_SERVER_BIN overrides.
std::string nats_server_bin() {
    const std::string env = env_or("NATS_SERVER_BIN", "");
    if (!env.empty()) return env;
    for (const char* p :
         {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"})
        if (access(p, X_OK) == 0) return p;
    return "/usr/sbin/nats-server";
}

class natrix_bench_it : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        targets_ = new std::vector<target>();
        if (access(nats_server_bin().c_str(), X_OK) == 0) {
            auto s =
                std::make_unique<server_process>(nats_server_bin(), std::vector<std::string>{});
            if (s->listening()) targets_->push_back({"nats-server", std::move(s)});
        }
        const std::string natrix = env_or("NATRIX_BIN", "");
        if (!natrix.empty()) {
            auto s =
                std::make_unique<server_process>(natrix, std::vector<std::string>{"--shards", "1"});
            if (s->listening()) {
                targets_->push_back({"natrix", std::move(s)});
            } else {
                s->stop();
                ADD_FAILURE() << "natrix at " << natrix
                              << " did not listen; it said: " << s->output().substr(0, 400);
            }
        }
    }
    static void TearDownTestSuite() {
        delete targets_;
        targets_ = nullptr;
    }
    void SetUp() override {
        if (access(bench_bin().c_str(), X_OK) != 0)
            GTEST_SKIP() << "natrix-bench binary not found (set NATRIX_BENCH_BIN)";
        if (targets_->empty()) GTEST_SKIP() << "no broker to test against (nats-server missing)";
    }

    // Runs natrix-bench SCENARIO ARGS --json -q against each target; checks exit status 0 and
    // calls check with the parsed JSON.
    template <class F>
    void each_target(const std::vector<std::string>& args, F check) {
        for (auto& t : *targets_) {
            SCOPED_TRACE("server " + t.name);
            std::vector<std::string> cmd{bench_bin()};
            cmd.insert(cmd.end(), args.begin(), args.end());
            cmd.insert(cmd.end(), {"-s", t.server->url(), "--json", "-q"});
            const auto r = run(cmd);
            ASSERT_EQ(r.rc, 0) << r.out << r.err;
            simdjson::dom::parser parser;
            simdjson::dom::element doc;
            ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
            EXPECT_EQ(doc["errors"].get_array().size(), 0u) << r.out;
            check(doc);
        }
    }

    static void expect_clean(simdjson::dom::element doc, std::uint64_t expected) {
        EXPECT_TRUE(bool(doc["checks"]["ok"]));
        EXPECT_EQ(uint64_t(doc["checks"]["expected"]), expected);
        EXPECT_EQ(uint64_t(doc["checks"]["received"]), expected);
        EXPECT_EQ(uint64_t(doc["checks"]["lost"]), 0u);
        EXPECT_EQ(uint64_t(doc["checks"]["duplicated"]), 0u);
        EXPECT_EQ(uint64_t(doc["checks"]["out_of_order"]), 0u);
    }

    static std::vector<target>* targets_;
};

std::vector<target>* natrix_bench_it::targets_ = nullptr;

} // namespace

TEST(natrix_bench_cli, bad_arguments_exit_2_with_usage) {
    if (access(bench_bin().c_str(), X_OK) != 0) GTEST_SKIP() << "natrix-bench not found";
    auto r = run({bench_bin(), "warp-speed"});
    EXPECT_EQ(r.rc, 2);
    EXPECT_NE(r.err.find("unknown scenario 'warp-speed'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("usage: natrix-bench"), std::string::npos);
    r = run({bench_bin(), "pubsub", "--size", "huge"});
    EXPECT_EQ(r.rc, 2);
    r = run({bench_bin(), "--help"});
    EXPECT_EQ(r.rc, 0);
    EXPECT_NE(r.out.find("scenarios:"), std::string::npos);
}

TEST(natrix_bench_cli, unreachable_server_exits_1) {
    if (access(bench_bin().c_str(), X_OK) != 0) GTEST_SKIP() << "natrix-bench not found";
    const auto r = run({bench_bin(), "pubsub", "-n", "10", "-s",
                        "nats://127.0.0.1:" + std::to_string(free_port()), "-q"});
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
}

TEST(natrix_bench_cli, loopback_tcp_modes_need_no_server) {
    if (access(bench_bin().c_str(), X_OK) != 0) GTEST_SKIP() << "natrix-bench not found";
    auto r = run({bench_bin(), "tcp-bulk", "-d", "300ms", "--json", "-q"});
    ASSERT_EQ(r.rc, 0) << r.err;
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    ASSERT_EQ(p.parse(r.out).get(doc), simdjson::SUCCESS);
    EXPECT_GT(double(doc["figures"]["bytes_per_s"]), 1e6);
    r = run({bench_bin(), "tcp-pingpong", "-d", "300ms", "-m", "64", "--json", "-q"});
    ASSERT_EQ(r.rc, 0) << r.err;
    simdjson::dom::parser p2;
    ASSERT_EQ(p2.parse(r.out).get(doc), simdjson::SUCCESS);
    EXPECT_GT(uint64_t(doc["latency_ns"]["count"]), 10u);
    EXPECT_GT(uint64_t(doc["latency_ns"]["p50"]), 0u);
}

TEST_F(natrix_bench_it, pub) {
    each_target({"pub", "-n", "50000"}, [](simdjson::dom::element d) {
        EXPECT_EQ(uint64_t(d["publish"]["msgs"]), 50000u);
        EXPECT_GT(double(d["publish"]["msgs_per_s"]), 0);
    });
}

TEST_F(natrix_bench_it, pubsub_one_to_one) {
    each_target({"pubsub", "-n", "50000", "-m", "128"}, [](simdjson::dom::element d) {
        expect_clean(d, 50000);
        EXPECT_EQ(uint64_t(d["deliver"]["msgs"]), 50000u);
        EXPECT_EQ(uint64_t(d["deliver"]["bytes"]), 50000u * 128);
        EXPECT_EQ(uint64_t(d["latency_ns"]["count"]), 50000u);
    });
}

TEST_F(natrix_bench_it, pubsub_several_subjects_with_headers) {
    each_target(
        {"pubsub", "-p", "2", "-S", "4", "--subjects", "2", "-n", "20000", "--headers", "-m", "64"},
        [](simdjson::dom::element d) {
            // Each subject has one publisher (10000) and two subscribers.
            expect_clean(d, 40000);
        });
}

TEST_F(natrix_bench_it, pubsub_tiny_payload_checked_by_count) {
    each_target({"pubsub", "-n", "20000", "-m", "8"}, [](simdjson::dom::element d) {
        expect_clean(d, 20000);
        EXPECT_TRUE(bool(d["checks"]["by_count_only"]));
    });
}

TEST_F(natrix_bench_it, fanout) {
    each_target({"fanout", "-S", "3", "-n", "20000", "-m", "16"}, [](simdjson::dom::element d) {
        expect_clean(d, 60000);
        EXPECT_EQ(uint64_t(d["publish"]["msgs"]), 20000u);
    });
}

TEST_F(natrix_bench_it, queue_group_delivers_each_message_once) {
    each_target({"queue", "-S", "3", "-n", "30000"}, [](simdjson::dom::element d) {
        expect_clean(d, 30000);
        EXPECT_GT(double(d["figures"]["member_share_min"]), 0.0);
    });
}

TEST_F(natrix_bench_it, reqrep) {
    each_target({"reqrep", "-S", "2", "-n", "500"}, [](simdjson::dom::element d) {
        expect_clean(d, 500);
        EXPECT_EQ(uint64_t(d["latency_ns"]["count"]), 500u);
    });
}

TEST_F(natrix_bench_it, latency_open_loop) {
    each_target({"latency", "-r", "4000", "-d", "500ms"}, [](simdjson::dom::element d) {
        const auto n = uint64_t(d["checks"]["expected"]);
        EXPECT_NEAR(static_cast<double>(n), 2000, 200);
        expect_clean(d, n);
        EXPECT_EQ(uint64_t(d["latency_ns"]["count"]), n);
    });
}

TEST_F(natrix_bench_it, conns) {
    each_target({"conns", "-c", "60", "-d", "500ms", "--ping-interval", "100ms", "-r", "200"},
                [](simdjson::dom::element d) {
                    EXPECT_EQ(double(d["figures"]["connected"]), 60);
                    EXPECT_EQ(double(d["figures"]["alive_at_end"]), 60);
                    EXPECT_GT(double(d["figures"]["connect_rate_per_s"]), 0);
                    EXPECT_GT(uint64_t(d["latency_ns"]["count"]), 60u);
                });
}

TEST_F(natrix_bench_it, sub_receives_from_a_separate_publisher_process) {
    for (auto& t : *targets_) {
        SCOPED_TRACE("server " + t.name);
        int out_fd = -1, err_fd = -1;
        const pid_t sub = spawn({bench_bin(), "sub", "-n", "20000", "-S", "2", "-s",
                                 t.server->url(), "--json", "-q", "--drain-timeout", "3s"},
                                out_fd, err_fd);
        ASSERT_GT(sub, 0);
        // Wait for the subscriptions before publishing.
        std::string err;
        char buf[4096];
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (err.find("ready") == std::string::npos &&
               std::chrono::steady_clock::now() < deadline) {
            pollfd p{err_fd, POLLIN, 0};
            if (poll(&p, 1, 100) > 0) {
                ssize_t n = ::read(err_fd, buf, sizeof buf);
                if (n <= 0) break;
                err.append(buf, static_cast<std::size_t>(n));
            }
        }
        ASSERT_NE(err.find("2 subscriber(s) ready"), std::string::npos) << err;
        const auto pub = run({bench_bin(), "pub", "-n", "20000", "-s", t.server->url(), "-q"});
        EXPECT_EQ(pub.rc, 0) << pub.err;
        std::string out;
        while (true) {
            ssize_t n = ::read(out_fd, buf, sizeof buf);
            if (n <= 0) break;
            out.append(buf, static_cast<std::size_t>(n));
        }
        ::close(out_fd);
        ::close(err_fd);
        int status = 0;
        waitpid(sub, &status, 0);
        ASSERT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), 0) << out;
        simdjson::dom::parser parser;
        simdjson::dom::element doc;
        ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS) << out;
        expect_clean(doc, 40000);
    }
}

TEST(natrix_bench_failures, server_dying_mid_run_is_an_error) {
    if (access(bench_bin().c_str(), X_OK) != 0 || access(nats_server_bin().c_str(), X_OK) != 0)
        GTEST_SKIP() << "needs natrix-bench and nats-server";
    server_process server(nats_server_bin(), {});
    ASSERT_TRUE(server.listening());
    std::thread killer([&] {
        std::this_thread::sleep_for(700ms);
        server.stop();
    });
    const auto r = run({bench_bin(), "pubsub", "-d", "5s", "-s", server.url(), "--json", "-q"});
    killer.join();
    EXPECT_EQ(r.rc, 1) << r.out;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
    EXPECT_GE(doc["errors"].get_array().size(), 1u);
}

TEST(natrix_bench_failures, user_password_and_token_auth) {
    if (access(bench_bin().c_str(), X_OK) != 0 || access(nats_server_bin().c_str(), X_OK) != 0)
        GTEST_SKIP() << "needs natrix-bench and nats-server";
    {
        server_process server(nats_server_bin(), {"--user", "bench", "--pass", "s3cret"});
        ASSERT_TRUE(server.listening());
        auto r = run({bench_bin(), "pubsub", "-n", "1000", "-s", server.url(), "--user", "bench",
                      "--pass", "s3cret", "-q"});
        EXPECT_EQ(r.rc, 0) << r.out << r.err;
        r = run({bench_bin(), "pubsub", "-n", "1000", "-s",
                 "nats://bench:s3cret@127.0.0.1:" + std::to_string(server.port()), "-q"});
        EXPECT_EQ(r.rc, 0) << r.out << r.err;
        r = run({bench_bin(), "pubsub", "-n", "1000", "-s", server.url(), "--user", "bench",
                 "--pass", "wrong", "-q"});
        EXPECT_EQ(r.rc, 1);
        EXPECT_NE(r.err.find("Authorization Violation"), std::string::npos) << r.err;
    }
    server_process server(nats_server_bin(), {"--auth", "t0ken"});
    ASSERT_TRUE(server.listening());
    auto r =
        run({bench_bin(), "reqrep", "-n", "100", "-s", server.url(), "--token", "t0ken", "-q"});
    EXPECT_EQ(r.rc, 0) << r.out << r.err;
    r = run({bench_bin(), "conns", "-c", "5", "-d", "100ms", "-s",
             "nats://t0ken@127.0.0.1:" + std::to_string(server.port()), "-q"});
    EXPECT_EQ(r.rc, 0) << r.out << r.err;
}

// --nkey-seed against both brokers sharing one config with a single nkey user: the right seed
// logs in (handshake-heavy conns and a short pubsub), another key is refused, no seed is told
// what to give.
TEST(natrix_bench_auth, nkey_seed_logs_in_to_both_servers) {
    namespace nk = natrix::auth::nkey;
    if (access(bench_bin().c_str(), X_OK) != 0) GTEST_SKIP() << "natrix-bench not found";
    const nk::keypair user = nk::keypair::generate(nk::key_type::user);
    const std::string seed = user.seed();
    const std::string stranger = nk::keypair::generate(nk::key_type::user).seed();
    char conf[] = "/tmp/natrix-bench-nkey-XXXXXX";
    const int fd = mkstemp(conf);
    ASSERT_GE(fd, 0);
    const std::string text = "authorization { users: [ {nkey: " + user.public_key() + "} ] }\n";
    ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);

    std::vector<std::pair<std::string, std::vector<std::string>>> servers;
    if (access(nats_server_bin().c_str(), X_OK) == 0)
        servers.push_back({nats_server_bin(), {"-c", conf}});
    if (const std::string natrix = env_or("NATRIX_BIN", ""); !natrix.empty())
        servers.push_back({natrix, {"-c", conf, "--shards", "1"}});
    if (servers.empty()) {
        std::remove(conf);
        GTEST_SKIP() << "no broker to test against";
    }
    for (const auto& [binary, extra] : servers) {
        SCOPED_TRACE("server " + binary);
        server_process server(binary, extra);
        ASSERT_TRUE(server.listening());
        auto r = run({bench_bin(), "conns", "-c", "40", "-d", "200ms", "--ping-interval", "100ms",
                      "-s", server.url(), "--nkey-seed", seed, "--json", "-q"});
        ASSERT_EQ(r.rc, 0) << r.out << r.err;
        simdjson::dom::parser parser;
        simdjson::dom::element doc;
        ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
        EXPECT_EQ(double(doc["figures"]["connected"]), 40);
        EXPECT_EQ(double(doc["figures"]["alive_at_end"]), 40);
        EXPECT_GT(double(doc["figures"]["connect_rate_per_s"]), 0);

        r = run(
            {bench_bin(), "pubsub", "-n", "5000", "-s", server.url(), "--nkey-seed", seed, "-q"});
        EXPECT_EQ(r.rc, 0) << r.out << r.err;

        r = run({bench_bin(), "conns", "-c", "3", "-d", "100ms", "-s", server.url(), "--nkey-seed",
                 stranger, "-q"});
        EXPECT_EQ(r.rc, 1);
        EXPECT_NE(r.err.find("Authorization Violation"), std::string::npos) << r.err;

        r = run({bench_bin(), "pub", "-n", "10", "-s", server.url(), "-q"});
        EXPECT_EQ(r.rc, 1);
        EXPECT_NE(r.err.find("--nkey-seed"), std::string::npos) << r.err;
    }
    std::remove(conf);
}
