#include <atomic>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <natrix/monitor/http_server.hh>

namespace natrix::monitor {
namespace {

using namespace std::chrono_literals;

int connect_to(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Reads until EOF or timeout.
std::string read_all(int fd, std::chrono::milliseconds timeout = 3s) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

std::string exchange(int port, const std::string& request) {
    const int fd = connect_to(port);
    if (fd < 0) return "connect failed";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string r = read_all(fd);
    ::close(fd);
    return r;
}

class http_server_test : public ::testing::Test {
protected:
    void SetUp() override {
        http_server::settings s;
        s.host = "127.0.0.1";
        s.port = 0;
        s.max_request_bytes = 1024;
        s.io_timeout = 300ms;
        s.max_clients = 4;
        server_ = std::make_unique<http_server>(s, [this](const http_request& r) {
            ++calls_;
            if (r.path == "/hello") return http_response::json("{\"q\":\"" + r.query + "\"}");
            return http_response::text(404, "404 page not found\n");
        });
        std::string err;
        ASSERT_TRUE(server_->listen(&err)) << err;
        ASSERT_GT(server_->port(), 0);
        server_->start();
    }
    std::unique_ptr<http_server> server_;
    std::atomic<int> calls_{0};
};

TEST_F(http_server_test, get_is_answered_and_closed) {
    const std::string r = exchange(server_->port(), "GET /hello?x=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
    EXPECT_NE(r.find("Content-Type: application/json\r\n"), std::string::npos);
    EXPECT_NE(r.find("Content-Length: 11\r\n"), std::string::npos);
    EXPECT_EQ(r.substr(r.size() - 11), "{\"q\":\"x=1\"}");
    EXPECT_EQ(calls_.load(), 1);
}

TEST_F(http_server_test, request_split_over_many_writes) {
    const int fd = connect_to(server_->port());
    ASSERT_GE(fd, 0);
    for (char c : std::string("GET /hello HTTP/1.1\r\n\r\n")) {
        ::send(fd, &c, 1, MSG_NOSIGNAL);
        std::this_thread::sleep_for(1ms);
    }
    const std::string r = read_all(fd);
    ::close(fd);
    EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
}

TEST_F(http_server_test, head_has_no_body) {
    const std::string r = exchange(server_->port(), "HEAD /hello HTTP/1.1\r\n\r\n");
    EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
    EXPECT_NE(r.find("Content-Length: 8\r\n"), std::string::npos);
    EXPECT_EQ(r.substr(r.size() - 4), "\r\n\r\n");
}

TEST_F(http_server_test, other_methods_get_405_without_reaching_the_handler) {
    const std::string r =
        exchange(server_->port(), "POST /hello HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");
    EXPECT_EQ(r.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u) << r;
    EXPECT_NE(r.find("Allow: GET, HEAD\r\n"), std::string::npos);
    EXPECT_EQ(calls_.load(), 0);
}

TEST_F(http_server_test, garbage_gets_400) {
    const std::string r = exchange(server_->port(), "HELLO THERE\r\n\r\n");
    EXPECT_EQ(r.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << r;
    EXPECT_EQ(calls_.load(), 0);
}

TEST_F(http_server_test, oversized_head_gets_431) {
    const std::string r = exchange(
        server_->port(), "GET /hello HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n");
    EXPECT_EQ(r.rfind("HTTP/1.1 431 ", 0), 0u) << r.substr(0, 100);
    EXPECT_EQ(calls_.load(), 0);
}

TEST_F(http_server_test, unknown_path_is_the_handlers_404) {
    const std::string r = exchange(server_->port(), "GET /nope HTTP/1.1\r\n\r\n");
    EXPECT_EQ(r.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << r;
}

TEST_F(http_server_test, silent_clients_are_dropped_and_do_not_block_others) {
    // Fill every client slot with connections that never send anything.
    std::vector<int> idle;
    for (int i = 0; i < 4; ++i) idle.push_back(connect_to(server_->port()));
    // The idle ones are closed after io_timeout (300 ms); then a real
    // request gets through.
    const auto t0 = std::chrono::steady_clock::now();
    const std::string r = exchange(server_->port(), "GET /hello HTTP/1.1\r\n\r\n");
    EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    for (int fd : idle) {
        EXPECT_EQ(read_all(fd, 2s), ""); // EOF without an answer
        ::close(fd);
    }
}

TEST_F(http_server_test, stop_is_prompt_and_idempotent) {
    const int fd = connect_to(server_->port());
    const auto t0 = std::chrono::steady_clock::now();
    server_->stop();
    server_->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
    ::close(fd);
}

TEST(http_server, listen_reports_a_busy_port) {
    http_server::settings s;
    s.host = "127.0.0.1";
    http_server a(s, [](const http_request&) { return http_response::json("{}"); });
    std::string err;
    ASSERT_TRUE(a.listen(&err)) << err;
    s.port = a.port();
    http_server b(s, [](const http_request&) { return http_response::json("{}"); });
    EXPECT_FALSE(b.listen(&err));
    EXPECT_NE(err.find("cannot listen"), std::string::npos) << err;
}

} // namespace
} // namespace natrix::monitor
