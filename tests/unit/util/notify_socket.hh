#pragma once
// The receiving end of systemd's notify protocol, for tests: an AF_UNIX
// datagram socket bound to an abstract name ("@natrix-test-<pid>-<n>"), or
// to a path, as systemd binds the one it passes in $NOTIFY_SOCKET.
#include <cstddef>
#include <cstring>
#include <string>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace natrix::test {

class notify_socket {
public:
    // `name` starting with '@' is abstract; otherwise a filesystem path.
    explicit notify_socket(std::string name)
        : name_(std::move(name)) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path, name_.data(), name_.size());
        if (name_[0] == '@') a.sun_path[0] = '\0';
        const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~notify_socket() {
        if (fd_ >= 0) ::close(fd_);
        if (!name_.empty() && name_[0] == '/') ::unlink(name_.c_str());
    }
    notify_socket(const notify_socket&) = delete;
    notify_socket& operator=(const notify_socket&) = delete;

    bool ok() const { return fd_ >= 0; }
    const std::string& name() const { return name_; }
    // The next datagram, or "" after timeout_ms.
    std::string receive(int timeout_ms) const {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) != 1) return "";
        char buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
    }

private:
    std::string name_;
    int fd_ = -1;
};

} // namespace natrix::test
