// natrix where io_uring is forbidden (a seccomp filter, as under Docker's
// default profile): it starts on epoll with a warning and serves clients;
// asked for io_uring by name, it refuses with a clear error.
#include <cstdio>

#include "test_server.hh"

using namespace natrix::test;

namespace {

const std::string k_quiet = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n";

std::string no_uring_bin() {
    const char* b = std::getenv("NO_URING_BIN");
    return b ? b : "no_uring";
}

struct launcher_scope {
    explicit launcher_scope(const std::string& l) { setenv("NATRIX_LAUNCHER", l.c_str(), 1); }
    ~launcher_scope() { unsetenv("NATRIX_LAUNCHER"); }
};

} // namespace

TEST(io_fallback, starts_on_epoll_when_io_uring_is_forbidden) {
    for (const char* err : {"1", "38"}) { // EPERM (seccomp), ENOSYS (old kernel, Docker)
        SCOPED_TRACE(std::string("errno ") + err);
        setenv("NO_URING_ERRNO", err, 1);
        launcher_scope scope(no_uring_bin());
        test_server srv(2, "", {"--io", "auto"});
        ASSERT_GT(srv.port(), 0);
        const std::string log = srv.read_log();
        EXPECT_NE(log.find("[WRN] io_uring is not available"), std::string::npos) << log;
        EXPECT_NE(log.find("using the epoll backend"), std::string::npos) << log;
        EXPECT_NE(log.find("epoll I/O"), std::string::npos) << log;
        // Smoke: pub/sub on both shards, a queue group, request/reply.
        raw_client sub(srv.port()), pub(srv.port());
        sub.send(k_quiet + "SUB a.* 1\r\nSUB work g 2\r\nPING\r\n");
        ASSERT_EQ(sub.read_until("PONG\r\n"), "PONG\r\n");
        pub.send(k_quiet + "PUB a.b 5\r\nhello\r\nPUB work 2\r\nhi\r\nPING\r\n");
        EXPECT_EQ(pub.read_until("PONG\r\n"), "PONG\r\n");
        EXPECT_EQ(sub.read_until("hi\r\n"), "MSG a.b 1 5\r\nhello\r\nMSG work 2 2\r\nhi\r\n");
        EXPECT_EQ(srv.stop(), 0);
    }
    unsetenv("NO_URING_ERRNO");
}

TEST(io_fallback, explicit_io_uring_is_refused_with_a_clear_error) {
    std::string cmd = no_uring_bin() + " " + natrix_bin() + " -a 127.0.0.1 -p -1 --io uring 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    const int status = pclose(p);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << out;
    EXPECT_NE(out.find("io_uring is not available"), std::string::npos) << out;
    EXPECT_NE(out.find("io: epoll"), std::string::npos) << out;
}

TEST(io_fallback, epoll_chosen_by_config) {
    test_server srv(2, "natrix { io: epoll }\n");
    EXPECT_NE(srv.read_log().find("epoll I/O"), std::string::npos);
    raw_client c(srv.port());
    c.send(k_quiet + "SUB x 1\r\nPUB x 2\r\nok\r\nPING\r\n");
    EXPECT_EQ(c.read_until("PONG\r\n"), "MSG x 1 2\r\nok\r\nPONG\r\n");
}
