#pragma once
// Integration-test helpers: start the real natrix binary (NATRIX_BIN) on an
// ephemeral loopback port, and a raw protocol client for exact wire checks.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace natrix::test {

using namespace std::chrono_literals;

inline std::string natrix_bin() {
    const char* b = std::getenv("NATRIX_BIN");
    return b ? b : "natrix";
}

class test_server {
public:
    // Starts natrix with --shards `shards` and the config text (may be empty).
    explicit test_server(unsigned shards, const std::string& config = "",
                         std::vector<std::string> extra = {}) {
        char dir[] = "/tmp/natrix-it-XXXXXX";
        dir_ = mkdtemp(dir);
        log_ = dir_ + "/natrix.log";
        std::vector<std::string> args;
        // NATRIX_LAUNCHER runs natrix through a wrapper (tests/integration/no_uring).
        if (const char* l = std::getenv("NATRIX_LAUNCHER"); l && *l) args.push_back(l);
        for (std::string a :
             {natrix_bin(), std::string("-a"), std::string("127.0.0.1"), std::string("-p"),
              std::string("-1"), std::string("--shards"), std::to_string(shards)})
            args.push_back(a);
        // NATRIX_TEST_IO picks the I/O backend (CI runs the suites once with epoll).
        if (const char* io = std::getenv("NATRIX_TEST_IO"); io && *io) {
            args.push_back("--io");
            args.push_back(io);
        }
        if (!config.empty()) {
            std::ofstream(dir_ + "/natrix.conf") << config;
            args.push_back("-c");
            args.push_back(dir_ + "/natrix.conf");
        }
        for (auto& e : extra) args.push_back(e);
        pid_ = fork();
        if (pid_ == 0) {
            int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 1);
            dup2(fd, 2);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        while (std::chrono::steady_clock::now() < deadline) {
            std::string log = read_log();
            auto at = log.find("Listening for client connections on 127.0.0.1:");
            if (at != std::string::npos) {
                port_ = std::atoi(log.c_str() + at +
                                  std::strlen("Listening for client connections on 127.0.0.1:"));
                if (port_ > 0 && log.find("Server is ready") != std::string::npos) {
                    const char* http = "Starting http monitor on 127.0.0.1:";
                    if (auto h = log.find(http); h != std::string::npos)
                        http_port_ = std::atoi(log.c_str() + h + std::strlen(http));
                    return;
                }
            }
            int status;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                ADD_FAILURE() << "natrix exited during start-up:\n" << log;
                return;
            }
            std::this_thread::sleep_for(10ms);
        }
        ADD_FAILURE() << "natrix did not become ready:\n" << read_log();
    }
    ~test_server() { stop(); }

    // SIGTERM, then wait; returns the exit status (or -1).
    int stop() {
        if (pid_ <= 0) return exit_status_;
        kill(pid_, SIGTERM);
        int status = 0;
        for (int i = 0; i < 500; ++i) {
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                return exit_status_;
            }
            std::this_thread::sleep_for(10ms);
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        ADD_FAILURE() << "natrix did not stop on SIGTERM";
        return exit_status_ = -1;
    }

    int port() const { return port_; }
    // The monitoring port from the log (0 when monitoring is off).
    int http_port() const { return http_port_; }
    pid_t pid() const { return pid_; }
    std::string config_path() const { return dir_ + "/natrix.conf"; }
    void signal(int sig) const {
        if (pid_ > 0) kill(pid_, sig);
    }
    // Waits for the process to exit by itself; its exit status (128+signal
    // when killed), or -1 if it is still running after `timeout`.
    int wait_exit(std::chrono::milliseconds timeout) {
        if (pid_ <= 0) return exit_status_;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        int status = 0;
        while (std::chrono::steady_clock::now() < deadline) {
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                return exit_status_;
            }
            std::this_thread::sleep_for(10ms);
        }
        return -1;
    }
    // Waits until the log contains `needle` (true) or the timeout passes.
    bool wait_log(const std::string& needle, std::chrono::milliseconds timeout = 5s) const {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (read_log().find(needle) != std::string::npos) return true;
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }
    unsigned shards() const { return 0; }
    std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
    std::string read_log() const {
        std::ifstream in(log_);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

private:
    std::string dir_, log_;
    pid_t pid_ = -1;
    int port_ = 0;
    int http_port_ = 0;
    int exit_status_ = -1;
};

// A raw NATS connection: bytes in, bytes out, no client library in between.
class raw_client {
public:
    explicit raw_client(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ADD_FAILURE() << "connect: " << std::strerror(errno);
            return;
        }
        int one = 1;
        setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        info_ = read_line(5s);
        auto at = info_.find("\"client_id\":");
        if (at != std::string::npos) cid_ = std::strtoull(info_.c_str() + at + 12, nullptr, 10);
    }
    ~raw_client() {
        if (fd_ >= 0) ::close(fd_);
    }
    raw_client(const raw_client&) = delete;

    const std::string& info() const { return info_; }
    std::uint64_t cid() const { return cid_; }
    // Which shard the server put us on (client ids encode it).
    unsigned shard(unsigned shards) const { return static_cast<unsigned>((cid_ - 1) % shards); }

    void send(const std::string& s) {
        std::size_t off = 0;
        while (off < s.size()) {
            ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n <= 0) {
                ADD_FAILURE() << "send failed: " << std::strerror(errno);
                return;
            }
            off += static_cast<std::size_t>(n);
        }
    }
    // Reads until `needle` is in the buffer (returns everything up to and
    // including it) or the timeout passes (returns "" and keeps the bytes).
    std::string read_until(const std::string& needle, std::chrono::milliseconds timeout = 5s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            auto at = buf_.find(needle);
            if (at != std::string::npos) {
                std::string r = buf_.substr(0, at + needle.size());
                buf_.erase(0, at + needle.size());
                return r;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !fill(left)) return "";
        }
    }
    std::string read_line(std::chrono::milliseconds timeout = 5s) {
        return read_until("\r\n", timeout);
    }
    // Exactly n bytes, or "" if they do not all come within timeout.
    std::string read_exact(std::size_t n, std::chrono::milliseconds timeout = 5s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (buf_.size() < n) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !fill(left)) return "";
        }
        std::string r = buf_.substr(0, n);
        buf_.erase(0, n);
        return r;
    }
    // Everything that arrives within `window`.
    std::string drain(std::chrono::milliseconds window = 200ms) {
        const auto deadline = std::chrono::steady_clock::now() + window;
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !fill(left)) break;
        }
        std::string r;
        r.swap(buf_);
        return r;
    }
    // Half-close: no more bytes from us; the server may still answer.
    void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
    // True once the server has closed the connection (EOF) within timeout.
    bool closed_by_server(std::chrono::milliseconds timeout = 5s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (eof_) return true;
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            fill(left);
        }
        return eof_;
    }
    int fd() const { return fd_; }

private:
    bool fill(std::chrono::milliseconds timeout) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
        char tmp[65536];
        ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
        if (n <= 0) {
            eof_ = true;
            return false;
        }
        buf_.append(tmp, static_cast<std::size_t>(n));
        return true;
    }

    int fd_ = -1;
    std::string buf_;
    std::string info_;
    std::uint64_t cid_ = 0;
    bool eof_ = false;
};

} // namespace natrix::test
