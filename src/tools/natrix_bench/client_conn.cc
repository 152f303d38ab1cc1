#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <natrix/bench_client/bench_error.hh>
#include <natrix/bench_client/client_conn.hh>
#include <natrix/bench_client/clock.hh>
#include <natrix/util/json_string.hh>

namespace natrix::bench_client {

namespace {

std::string errno_text(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

} // namespace

std::string_view json_value(std::string_view json, std::string_view key) {
    std::string quoted = "\"" + std::string(key) + "\"";
    auto p = json.find(quoted);
    if (p == std::string_view::npos) return {};
    p += quoted.size();
    while (p < json.size() && (json[p] == ' ' || json[p] == ':')) ++p;
    if (p >= json.size()) return {};
    if (json[p] == '"') {
        auto end = p + 1;
        while (end < json.size() && json[end] != '"') end += json[end] == '\\' ? 2 : 1;
        return json.substr(p + 1, std::min(end, json.size()) - p - 1);
    }
    auto end = json.find_first_of(",}", p);
    auto v = json.substr(p, end == std::string_view::npos ? json.size() - p : end - p);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    return v;
}

credentials credentials_for(const credentials& cred, const server_url& url) {
    if (!cred.empty()) return cred;
    credentials c;
    c.user = url.user;
    c.pass = url.pass;
    c.token = url.token;
    return c;
}

std::string connect_line(const credentials& cred, std::string_view name, std::string_view nonce) {
    std::string s =
        "CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":false,\"name\":";
    util::append_json_string(s, name);
    s += ",\"lang\":\"cpp\",\"version\":\"natrix-bench 0.1.0\",\"protocol\":1,\"echo\":true,"
         "\"headers\":true,\"no_responders\":true";
    if (!cred.token.empty()) {
        s += ",\"auth_token\":";
        util::append_json_string(s, cred.token);
    }
    if (!cred.user.empty() || !cred.pass.empty()) {
        s += ",\"user\":";
        util::append_json_string(s, cred.user);
        s += ",\"pass\":";
        util::append_json_string(s, cred.pass);
    }
    if (cred.nkey) {
        const auto sig =
            cred.nkey->sign({reinterpret_cast<const std::uint8_t*>(nonce.data()), nonce.size()});
        s += ",\"nkey\":";
        util::append_json_string(s, cred.nkey->public_key());
        s += ",\"sig\":";
        util::append_json_string(s, auth::nkey::base64url_encode(sig));
    }
    s += "}\r\n";
    return s;
}

client_conn::client_conn(std::size_t in_capacity, std::size_t out_capacity)
    : in_(new char[in_capacity])
    , in_cap_(in_capacity)
    , out_(new char[out_capacity])
    , out_cap_(out_capacity) {}

client_conn::~client_conn() {
    close();
}

void client_conn::close() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void client_conn::connect_socket(const server_url& url, double timeout_s) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(url.port);
    if (int rc = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &res); rc != 0)
        throw bench_error("cannot resolve " + url.host + ": " + gai_strerror(rc));
    std::string last_error = "no address";
    for (auto* ai = res; ai; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          ai->ai_protocol);
        if (fd < 0) {
            last_error = errno_text("socket");
            continue;
        }
        int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            rc = ::poll(&p, 1, static_cast<int>(timeout_s * 1000));
            if (rc == 1) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                errno = err;
                rc = err == 0 ? 0 : -1;
            } else {
                errno = rc == 0 ? ETIMEDOUT : errno;
                rc = -1;
            }
        }
        if (rc != 0) {
            last_error = errno_text("connect");
            ::close(fd);
            continue;
        }
        // Back to blocking, with short timeouts so loops can notice the end of a run.
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        timeval tv{0, 100000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        fd_ = fd;
        break;
    }
    freeaddrinfo(res);
    if (fd_ < 0) throw bench_error("cannot connect to " + url.text() + ": " + last_error);
}

void client_conn::open(const server_url& url, const credentials& cred, std::string_view name,
                       double timeout_s, const std::atomic<bool>* abort) {
    abort_ = abort;
    rd_ = wr_ = out_len_ = 0;
    connect_socket(url, timeout_s);
    const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(timeout_s * 1e9);
    server_op op;
    while (true) {
        if (next_op(op)) {
            if (op.kind == op_kind::info) break;
            if (op.kind == op_kind::err)
                throw bench_error(url.text() + " refused the connection: " + std::string(op.text));
            throw bench_error(url.text() + " sent something other than INFO first");
        }
        if (now_ns() > deadline) throw bench_error("no INFO from " + url.text());
        read_some(true);
    }
    const auto mp = json_value(op.text, "max_payload");
    if (!mp.empty()) info_.max_payload = std::strtoull(std::string(mp).c_str(), nullptr, 10);
    info_.headers = json_value(op.text, "headers") == "true";
    info_.auth_required = json_value(op.text, "auth_required") == "true";
    info_.server_name = json_value(op.text, "server_name");
    info_.version = json_value(op.text, "version");
    const credentials c = credentials_for(cred, url);
    const std::string_view nonce = json_value(op.text, "nonce");
    if (!nonce.empty() && c.empty() && info_.auth_required)
        throw bench_error(url.text() + " asks for nkey/JWT authentication: give --nkey-seed or "
                                       "--nkey-seed-file (JWT is not supported)");
    append(connect_line(c, name, nonce));
    append("PING\r\n");
    flush();
    wait_pong(timeout_s);
}

char* client_conn::out_reserve(std::size_t n) {
    if (out_len_ + n > out_cap_) {
        std::size_t cap = std::max(out_cap_ * 2, out_len_ + n);
        std::unique_ptr<char[]> bigger(new char[cap]);
        std::memcpy(bigger.get(), out_.get(), out_len_);
        out_ = std::move(bigger);
        out_cap_ = cap;
    }
    return out_.get() + out_len_;
}

void client_conn::append(std::string_view s) {
    std::memcpy(out_reserve(s.size()), s.data(), s.size());
    out_len_ += s.size();
}

void client_conn::flush() {
    std::size_t off = 0;
    while (off < out_len_) {
        ssize_t n = ::send(fd_, out_.get() + off, out_len_ - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (abort_ && abort_->load(std::memory_order_relaxed))
                throw bench_error("aborted while the server was not reading");
            continue;
        }
        throw bench_error(errno_text("send"));
    }
    out_len_ = 0;
}

bool client_conn::read_some(bool wait) {
    if (rd_ == wr_) {
        rd_ = wr_ = 0;
    } else if (in_cap_ - wr_ < min_read && rd_ > 0) {
        std::memmove(in_.get(), in_.get() + rd_, wr_ - rd_);
        wr_ -= rd_;
        rd_ = 0;
    }
    if (in_cap_ - wr_ < min_read) { // one op bigger than the buffer: grow it
        std::size_t cap = in_cap_ * 2;
        std::unique_ptr<char[]> bigger(new char[cap]);
        std::memcpy(bigger.get(), in_.get() + rd_, wr_ - rd_);
        wr_ -= rd_;
        rd_ = 0;
        in_ = std::move(bigger);
        in_cap_ = cap;
    }
    while (true) {
        ssize_t n = ::recv(fd_, in_.get() + wr_, in_cap_ - wr_, wait ? 0 : MSG_DONTWAIT);
        if (n > 0) {
            wr_ += static_cast<std::size_t>(n);
            bytes_in_ += static_cast<std::uint64_t>(n);
            return true;
        }
        if (n == 0) throw bench_error("server closed the connection");
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
        throw bench_error(errno_text("recv"));
    }
}

bool client_conn::next_op(server_op& op) {
    const std::size_t n = parse_server_op(in_.get() + rd_, wr_ - rd_, op);
    if (n == 0) return false;
    if (op.kind == op_kind::bad)
        throw bench_error("unparsable data from server: '" + std::string(op.text.substr(0, 80)) +
                          "'");
    rd_ += n;
    last_op_bytes_ = n;
    return true;
}

void client_conn::wait_pong(double timeout_s) {
    const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(timeout_s * 1e9);
    server_op op;
    while (true) {
        while (next_op(op)) {
            switch (op.kind) {
            case op_kind::pong:
                return;
            case op_kind::ping:
                append("PONG\r\n");
                flush();
                break;
            case op_kind::err:
                throw bench_error("server error: " + std::string(op.text));
            default:
                break;
            }
        }
        if (now_ns() > deadline) throw bench_error("no PONG from the server");
        if (abort_ && abort_->load(std::memory_order_relaxed)) throw bench_error("aborted");
        read_some(true);
    }
}

} // namespace natrix::bench_client
