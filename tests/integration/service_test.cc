// natrix under a service manager: the sd_notify readiness protocol against a
// fake $NOTIFY_SOCKET, as systemd's Type=notify sees it. READY=1 must come
// only once every shard listens: the test connects the moment it arrives.
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/util/notify_socket.hh"

using natrix::test::notify_socket;

namespace {

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

// Connects and reads the first bytes: natrix greets with INFO.
std::string greeting(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        pollfd p{fd, POLLIN, 0};
        char buf[512];
        if (::poll(&p, 1, 2000) == 1) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) out.assign(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return out;
}

} // namespace

TEST(service, ready_after_every_shard_listens_then_reloading_and_stopping) {
    const char* bin = std::getenv("NATRIX_BIN");
    if (!bin) GTEST_SKIP() << "NATRIX_BIN not set";
    notify_socket sock("@natrix-it-notify-" + std::to_string(::getpid()));
    ASSERT_TRUE(sock.ok());
    const int port = free_port();
    std::vector<std::string> args = {bin,        "-a", "127.0.0.1", "-p", std::to_string(port),
                                     "--shards", "2"};
    if (const char* io = std::getenv("NATRIX_TEST_IO"); io && *io) {
        args.push_back("--io");
        args.push_back(io);
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setenv("NOTIFY_SOCKET", sock.name().c_str(), 1);
        const int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, 1);
        ::dup2(null, 2);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ASSERT_GT(pid, 0);

    const std::string ready = sock.receive(20000);
    ASSERT_EQ(ready.rfind("READY=1\n", 0), 0u) << "got: '" << ready << "'";
    EXPECT_NE(ready.find("MAINPID=" + std::to_string(pid)), std::string::npos) << ready;
    // Connect at once: the port must already accept (and twice, so that
    // both shards' listeners are likely to be hit).
    EXPECT_EQ(greeting(port).rfind("INFO ", 0), 0u);
    EXPECT_EQ(greeting(port).rfind("INFO ", 0), 0u);

    ::kill(pid, SIGHUP);
    EXPECT_EQ(sock.receive(10000), "RELOADING=1");
    EXPECT_EQ(sock.receive(10000), "READY=1");

    ::kill(pid, SIGTERM);
    EXPECT_EQ(sock.receive(10000), "STOPPING=1");
    int status = 0;
    for (int i = 0; i < 1000 && ::waitpid(pid, &status, WNOHANG) != pid; ++i) ::usleep(10000);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}
