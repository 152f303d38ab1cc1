#pragma once
// What the multi-server suites share (cluster_test.cc, supercluster_test.cc):
// server processes (natrix or nats-server, each from its own config file),
// nats.c clients, collectors, probes that wait for interest to propagate,
// responders, and HTTP monitoring reads.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include <nats/nats.h>
#include <simdjson.h>

#include "test_server.hh"

namespace natrix::test {

using clock_type = std::chrono::steady_clock;

enum class node_kind { natrix, nats };

inline const char* kind_name(node_kind k) {
    return k == node_kind::natrix ? "natrix" : "nats";
}

inline std::string nats_server_bin() {
    if (const char* b = std::getenv("NATS_SERVER_BIN"); b && *b) return b;
    return "/usr/sbin/nats-server";
}

// Distinct free loopback ports: all bound at once, then released.
inline std::vector<int> free_ports(std::size_t n) {
    std::vector<int> fds, ports;
    for (std::size_t i = 0; i < n; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        socklen_t len = sizeof a;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            ADD_FAILURE() << "bind 127.0.0.1:0: " << std::strerror(errno);
            ::close(fd);
            continue;
        }
        fds.push_back(fd);
        ports.push_back(ntohs(a.sin_port));
    }
    for (int fd : fds) ::close(fd);
    return ports;
}

inline bool tcp_accepts(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

// ---------------------------------------------------------------- HTTP ----

struct http_answer {
    int status = 0;
    std::string body;
};

inline http_answer http_get(int port, const std::string& target) {
    http_answer a;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return a;
    }
    const std::string req =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    std::string all;
    const auto deadline = clock_type::now() + 3s;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        pollfd p{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
        char buf[65536];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        all.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    const auto end = all.find("\r\n\r\n");
    if (all.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return a;
    a.status = std::atoi(all.c_str() + 9);
    std::string head = all.substr(0, end);
    std::transform(head.begin(), head.end(), head.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string body = all.substr(end + 4);
    if (head.find("transfer-encoding: chunked") != std::string::npos) {
        std::string out;
        std::size_t at = 0;
        while (at < body.size()) {
            const auto eol = body.find("\r\n", at);
            if (eol == std::string::npos) break;
            const std::size_t len = std::strtoul(body.c_str() + at, nullptr, 16);
            if (len == 0) break;
            out += body.substr(eol + 2, len);
            at = eol + 2 + len + 2;
        }
        body.swap(out);
    }
    a.body = std::move(body);
    return a;
}

// /routez as far as these cases need it. `supported` is false when the
// server has no usable /routez (then the mesh is checked by pub/sub).
struct routez_view {
    bool supported = false;
    std::string server_id;
    std::int64_t num_routes = -1;
    std::vector<std::string> remote_ids;
    std::string body;
};

inline routez_view get_routez(int http_port) {
    routez_view v;
    const http_answer a = http_get(http_port, "/routez");
    v.body = a.body;
    if (a.status != 200) return v;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(a.body).get(root) != simdjson::SUCCESS) return v;
    std::int64_t n = 0;
    if (root["num_routes"].get(n) != simdjson::SUCCESS) return v;
    v.num_routes = n;
    std::string_view sid;
    if (root["server_id"].get(sid) == simdjson::SUCCESS) v.server_id = std::string(sid);
    simdjson::dom::array routes;
    if (root["routes"].get(routes) == simdjson::SUCCESS) {
        for (simdjson::dom::element r : routes) {
            std::string_view rid;
            if (r["remote_id"].get(rid) == simdjson::SUCCESS) v.remote_ids.emplace_back(rid);
        }
    }
    v.supported = true;
    return v;
}

inline std::string varz_server_id(int http_port) {
    const http_answer a = http_get(http_port, "/varz");
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    std::string_view sid;
    if (a.status != 200 || parser.parse(a.body).get(root) != simdjson::SUCCESS ||
        root["server_id"].get(sid) != simdjson::SUCCESS)
        return "";
    return std::string(sid);
}

// ---------------------------------------------------------------- nodes ----

inline std::string tail(const std::string& text, std::size_t lines) {
    std::size_t at = text.size();
    if (at > 0 && text[at - 1] == '\n') --at;
    for (std::size_t n = 0; n < lines; ++n) {
        const auto nl = text.rfind('\n', at == 0 ? 0 : at - 1);
        if (nl == std::string::npos || at == 0) return text;
        at = nl;
    }
    return text.substr(at + 1);
}

// One server process (natrix or nats-server) with its own config file.
class node_process {
public:
    node_process(node_kind kind, std::string name, std::string dir, int port, int cluster_port,
                 int http_port)
        : kind_(kind)
        , name_(std::move(name))
        , dir_(std::move(dir))
        , port_(port)
        , cluster_port_(cluster_port)
        , http_port_(http_port) {}
    ~node_process() { stop(); }
    node_process(const node_process&) = delete;

    // Writes the config and starts the process; true once it takes clients.
    bool start(const std::string& config) {
        conf_ = dir_ + "/" + name_ + ".conf";
        log_ = dir_ + "/" + name_ + ".log";
        std::ofstream(conf_) << config;
        std::vector<std::string> args;
        if (kind_ == node_kind::natrix) {
            args = {natrix_bin(), "-c", conf_};
            if (const char* io = std::getenv("NATRIX_TEST_IO"); io && *io)
                args.insert(args.end(), {"--io", io});
            if (const char* sh = std::getenv("NATRIX_CLUSTER_SHARDS"); sh && *sh)
                args.insert(args.end(), {"--shards", sh});
        } else {
            args = {nats_server_bin(), "-c", conf_};
        }
        pid_ = fork();
        if (pid_ == 0) {
            const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 1);
            dup2(fd, 2);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            std::fprintf(stderr, "exec %s: %s\n", argv[0], std::strerror(errno));
            _exit(127);
        }
        // Ready: the client and monitoring ports accept connections. Then a
        // short wait for the route listener's log line (nats-server opens it
        // just after "Server is ready"), so the other nodes' first dial finds
        // it rather than retrying a second later.
        const auto deadline = clock_type::now() + 15s;
        while (clock_type::now() < deadline) {
            if (!running()) {
                ADD_FAILURE() << what() << " exited during start-up:\n" << read_log();
                return false;
            }
            if (tcp_accepts(port_) && tcp_accepts(http_port_)) {
                const auto soft = clock_type::now() + 300ms;
                while (clock_type::now() < soft &&
                       read_log().find("Listening for route connections") == std::string::npos)
                    std::this_thread::sleep_for(5ms);
                return true;
            }
            std::this_thread::sleep_for(5ms);
        }
        ADD_FAILURE() << what() << " did not start listening on 127.0.0.1:" << port_ << ":\n"
                      << read_log();
        return false;
    }

    bool running() {
        if (pid_ <= 0) return false;
        int st = 0;
        if (waitpid(pid_, &st, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        return true;
    }
    void kill_hard() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        int st = 0;
        waitpid(pid_, &st, 0);
        pid_ = -1;
    }
    void signal_stop() {
        if (pid_ > 0) ::kill(pid_, SIGTERM);
    }
    void stop() {
        if (pid_ <= 0) return;
        signal_stop();
        int st = 0;
        for (int i = 0; i < 500; ++i) {
            if (waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(10ms);
        }
        ADD_FAILURE() << what() << " did not stop on SIGTERM within 5 s";
        kill_hard();
    }

    std::string read_log() const {
        std::ifstream in(log_);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    std::string what() const { return name_ + " (" + kind_name(kind_) + ")"; }
    std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
    node_kind kind() const { return kind_; }
    const std::string& name() const { return name_; }
    int port() const { return port_; }
    int cluster_port() const { return cluster_port_; }
    int http_port() const { return http_port_; }

private:
    node_kind kind_;
    std::string name_, dir_, conf_, log_;
    int port_, cluster_port_, http_port_;
    pid_t pid_ = -1;
};

// ------------------------------------------------------------- clients ----

// A nats.c connection pinned to one node (no reconnect, so a case never
// passes through another node than the one it names), unless `opts` says
// otherwise.
class client {
public:
    explicit client(const std::string& url, const std::string& user = "",
                    const std::string& password = "") {
        natsOptions* o = nullptr;
        natsOptions_Create(&o);
        natsOptions_SetURL(o, url.c_str());
        natsOptions_SetAllowReconnect(o, false);
        if (!user.empty()) natsOptions_SetUserInfo(o, user.c_str(), password.c_str());
        connect(o);
    }
    // Takes ownership of `o`.
    explicit client(natsOptions* o) { connect(o); }
    ~client() { natsConnection_Destroy(nc_); }
    client(const client&) = delete;
    operator natsConnection*() const { return nc_; }
    bool ok() const { return nc_ != nullptr; }
    int async_errors() const { return async_errors_.load(); }

private:
    void connect(natsOptions* o) {
        natsOptions_SetErrorHandler(
            o,
            [](natsConnection*, natsSubscription*, natsStatus err, void* self) {
                static_cast<client*>(self)->async_errors_++;
                std::fprintf(stderr, "nats.c async error: %s\n", natsStatus_GetText(err));
            },
            this);
        const natsStatus s = natsConnection_Connect(&nc_, o);
        natsOptions_Destroy(o);
        EXPECT_EQ(s, NATS_OK) << natsStatus_GetText(s) << " " << nats_GetLastError(nullptr);
        if (s != NATS_OK) nc_ = nullptr;
    }
    natsConnection* nc_ = nullptr;
    std::atomic<int> async_errors_{0};
};

// Payload of the messages await_interest sends; every collector keeps them
// apart from the data.
inline constexpr std::string_view probe_prefix = "__probe:";

struct received {
    std::string subject, data, reply;
    std::map<std::string, std::vector<std::string>> headers;
};

// An asynchronous subscription that records what it receives.
class collector {
public:
    collector(natsConnection* nc, const std::string& subject, const char* queue = nullptr) {
        natsStatus s =
            queue ? natsConnection_QueueSubscribe(&sub_, nc, subject.c_str(), queue, on_msg, this)
                  : natsConnection_Subscribe(&sub_, nc, subject.c_str(), on_msg, this);
        EXPECT_EQ(s, NATS_OK) << "subscribe " << subject << ": " << natsStatus_GetText(s);
        if (s != NATS_OK) {
            sub_ = nullptr;
            return;
        }
        natsSubscription_SetPendingLimits(sub_, -1, -1);
        natsSubscription_SetOnCompleteCB(sub_, on_complete, this);
        EXPECT_EQ(natsConnection_Flush(nc), NATS_OK);
    }
    ~collector() {
        if (sub_ == nullptr) return;
        // Wait until the handler can no longer run before this goes away.
        if (natsSubscription_Unsubscribe(sub_) == NATS_OK) {
            std::unique_lock lock(mu_);
            cv_.wait_for(lock, 3s, [&] { return complete_; });
        }
        natsSubscription_Destroy(sub_);
    }
    collector(const collector&) = delete;

    std::size_t size() const {
        std::lock_guard lock(mu_);
        return msgs_.size();
    }
    bool wait_count(std::size_t n, std::chrono::milliseconds timeout) const {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout, [&] { return msgs_.size() >= n; });
    }
    // Waits for a data message whose payload is `data`.
    bool wait_data(const std::string& data, std::chrono::milliseconds timeout) const {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout, [&] {
            return std::any_of(msgs_.begin(), msgs_.end(),
                               [&](const received& r) { return r.data == data; });
        });
    }
    std::vector<received> messages() const {
        std::lock_guard lock(mu_);
        return msgs_;
    }
    std::vector<std::string> data() const {
        std::lock_guard lock(mu_);
        std::vector<std::string> out;
        out.reserve(msgs_.size());
        for (auto& m : msgs_) out.push_back(m.data);
        return out;
    }
    bool saw_probe(const std::string& tag) const {
        std::lock_guard lock(mu_);
        return probes_.count(tag) > 0;
    }
    natsSubscription* sub() const { return sub_; }

private:
    static void on_msg(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
        auto* self = static_cast<collector*>(closure);
        std::string data(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
        {
            std::lock_guard lock(self->mu_);
            if (data.starts_with(probe_prefix)) {
                self->probes_.insert(data.substr(probe_prefix.size()));
            } else {
                received r;
                r.subject = natsMsg_GetSubject(m);
                r.data = std::move(data);
                if (const char* reply = natsMsg_GetReply(m)) r.reply = reply;
                const char** keys = nullptr;
                int nkeys = 0;
                if (natsMsgHeader_Keys(m, &keys, &nkeys) == NATS_OK) {
                    for (int i = 0; i < nkeys; ++i) {
                        const char** values = nullptr;
                        int nvalues = 0;
                        if (natsMsgHeader_Values(m, keys[i], &values, &nvalues) == NATS_OK) {
                            for (int j = 0; j < nvalues; ++j)
                                r.headers[keys[i]].emplace_back(values[j]);
                            std::free(static_cast<void*>(values));
                        }
                    }
                    std::free(static_cast<void*>(keys));
                }
                self->msgs_.push_back(std::move(r));
            }
        }
        self->cv_.notify_all();
        natsMsg_Destroy(m);
    }
    static void on_complete(void* closure) {
        auto* self = static_cast<collector*>(closure);
        {
            std::lock_guard lock(self->mu_);
            self->complete_ = true;
        }
        self->cv_.notify_all();
    }

    natsSubscription* sub_ = nullptr;
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    std::vector<received> msgs_;
    std::set<std::string> probes_;
    bool complete_ = false;
};

// Publishes probes on `subject` through `pub` until every collector has
// received one: the routes have carried each subscriber's interest to the
// publisher's node, so data sent after this is not dropped for want of
// interest. (For a queue group, each member must have got a probe.)
::testing::AssertionResult await_interest(natsConnection* pub, const std::string& subject,
                                          std::vector<const collector*> subs,
                                          std::chrono::milliseconds timeout = 5s) {
    static std::atomic<int> seq{0};
    const std::string tag = std::to_string(++seq);
    const std::string payload = std::string(probe_prefix) + tag;
    const auto deadline = clock_type::now() + timeout;
    while (clock_type::now() < deadline) {
        natsConnection_PublishString(pub, subject.c_str(), payload.c_str());
        natsConnection_FlushTimeout(pub, 1000);
        std::this_thread::sleep_for(10ms);
        if (std::all_of(subs.begin(), subs.end(),
                        [&](const collector* c) { return c->saw_probe(tag); }))
            return ::testing::AssertionSuccess();
    }
    std::string missing;
    for (std::size_t i = 0; i < subs.size(); ++i)
        if (!subs[i]->saw_probe(tag)) missing += " #" + std::to_string(i);
    return ::testing::AssertionFailure()
           << "interest in '" << subject << "' did not reach the publisher's node within "
           << timeout.count() << " ms (subscribers without a probe:" << missing << ")";
}

// Counts a subscription's data messages (payloads "%010zu..." in sequence)
// without keeping them; probes are noted apart.
class burst_counter {
public:
    burst_counter(natsConnection* nc, const char* subject) {
        EXPECT_EQ(natsConnection_Subscribe(&sub_, nc, subject, on_msg, this), NATS_OK);
        natsSubscription_SetPendingLimits(sub_, -1, -1);
        natsSubscription_SetOnCompleteCB(sub_, on_complete, this);
        EXPECT_EQ(natsConnection_Flush(nc), NATS_OK);
    }
    ~burst_counter() {
        if (natsSubscription_Unsubscribe(sub_) == NATS_OK) {
            std::unique_lock lock(mu_);
            cv_.wait_for(lock, 3s, [&] { return complete_; });
        }
        natsSubscription_Destroy(sub_);
    }
    burst_counter(const burst_counter&) = delete;

    std::atomic<std::size_t> count{0}, out_of_order{0};
    std::atomic<bool> probe_seen{false};

private:
    static void on_msg(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
        auto* self = static_cast<burst_counter*>(closure);
        const std::string_view d(natsMsg_GetData(m),
                                 static_cast<std::size_t>(natsMsg_GetDataLength(m)));
        if (d.starts_with(probe_prefix)) {
            self->probe_seen = true;
        } else {
            const std::size_t seq = std::strtoull(d.data(), nullptr, 10);
            if (seq != self->count.load()) self->out_of_order++;
            self->count++;
        }
        natsMsg_Destroy(m);
    }
    static void on_complete(void* closure) {
        auto* self = static_cast<burst_counter*>(closure);
        {
            std::lock_guard lock(self->mu_);
            self->complete_ = true;
        }
        self->cv_.notify_all();
    }
    natsSubscription* sub_ = nullptr;
    std::mutex mu_;
    std::condition_variable cv_;
    bool complete_ = false;
};

// A responder: answers each request with "re:" + the request's payload.
class responder {
public:
    responder(natsConnection* nc, const std::string& subject) {
        EXPECT_EQ(natsConnection_Subscribe(
                      &sub_, nc, subject.c_str(),
                      [](natsConnection* c, natsSubscription*, natsMsg* m, void*) {
                          if (const char* reply = natsMsg_GetReply(m)) {
                              const std::string body =
                                  "re:" +
                                  std::string(natsMsg_GetData(m),
                                              static_cast<std::size_t>(natsMsg_GetDataLength(m)));
                              natsConnection_PublishString(c, reply, body.c_str());
                          }
                          natsMsg_Destroy(m);
                      },
                      nullptr),
                  NATS_OK);
        EXPECT_EQ(natsConnection_Flush(nc), NATS_OK);
    }
    ~responder() {
        natsSubscription_Unsubscribe(sub_);
        natsSubscription_Destroy(sub_);
    }
    responder(const responder&) = delete;

private:
    natsSubscription* sub_ = nullptr;
};

// One request; the reply's payload, or "!" + the status text.
std::string request(natsConnection* nc, const std::string& subject, const std::string& body,
                    int64_t timeout_ms = 2000) {
    natsMsg* reply = nullptr;
    const natsStatus s =
        natsConnection_RequestString(&reply, nc, subject.c_str(), body.c_str(), timeout_ms);
    if (s != NATS_OK) return std::string("!") + natsStatus_GetText(s);
    std::string out(natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
    natsMsg_Destroy(reply);
    return out;
}

// Requests until one is answered (the responder's interest has crossed the
// routes), or the timeout.
::testing::AssertionResult await_responder(natsConnection* nc, const std::string& subject,
                                           std::chrono::milliseconds timeout = 5s) {
    const auto deadline = clock_type::now() + timeout;
    std::string last;
    while (clock_type::now() < deadline) {
        last = request(nc, subject, "hello", 500);
        if (last == "re:hello") return ::testing::AssertionSuccess();
        std::this_thread::sleep_for(20ms);
    }
    return ::testing::AssertionFailure() << "no answer on '" << subject << "' within "
                                         << timeout.count() << " ms (last: " << last << ")";
}

inline std::vector<std::string> server_list(natsConnection* nc, bool discovered_only) {
    char** servers = nullptr;
    int count = 0;
    const natsStatus s = discovered_only ? natsConnection_GetDiscoveredServers(nc, &servers, &count)
                                         : natsConnection_GetServers(nc, &servers, &count);
    std::vector<std::string> out;
    if (s != NATS_OK) return out;
    for (int i = 0; i < count; ++i) {
        out.emplace_back(servers[i]);
        std::free(servers[i]);
    }
    std::free(static_cast<void*>(servers));
    return out;
}

inline bool lists_port(const std::vector<std::string>& urls, int port) {
    const std::string needle = "127.0.0.1:" + std::to_string(port);
    return std::any_of(urls.begin(), urls.end(), [&](const std::string& u) {
        return u.size() >= needle.size() &&
               u.compare(u.size() - needle.size(), needle.size(), needle) == 0;
    });
}

inline std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return "[" + out + "]";
}

// Stops every node (all signalled at once, then waited for). After a failure
// each node's last log lines are printed and `dir` (configs, full logs) is
// kept; otherwise it is removed.
inline void stop_nodes(std::vector<std::unique_ptr<node_process>>& nodes, const std::string& dir,
                       bool failed) {
    for (auto& n : nodes) n->signal_stop();
    for (auto& n : nodes) n->stop();
    if (failed) {
        for (auto& n : nodes) {
            const std::string log = n->read_log();
            if (log.empty()) continue; // never started
            std::fprintf(stderr, "---- %s log (last lines) ----\n%s", n->what().c_str(),
                         tail(log, 30).c_str());
        }
        std::fprintf(stderr, "configs and full logs kept in %s\n", dir.c_str());
    } else if (!dir.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
}

} // namespace natrix::test
