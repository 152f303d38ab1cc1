// Clustering: routes between separate server processes, each started from a
// config file in nats-server's syntax (`cluster { name, listen, routes }`).
// Every node is either natrix (NATRIX_BIN) or nats-server (NATS_SERVER_BIN,
// default /usr/sbin/nats-server), so the same cases run on an all-nats-server
// cluster (which proves the cases themselves), an all-natrix cluster and
// mixed ones. Clients are nats.c.
//
// Parametrisations (the 4th node only joins in the cases that need four):
//   all_nats            nats-server x4
//   all_natrix          natrix x4
//   mixed_natrix_seed   natrix, nats-server, natrix, nats-server
//   mixed_nats_seed     nats-server, natrix, nats-server, natrix
// NATRIX_CLUSTER_NODES=natrix,nats,natrix[,nats] replaces them with one
// (named env_...); a 3-entry list repeats its pattern for the 4th node.
// NATRIX_CLUSTER_SKIP_NATRIX=1 skips every parametrisation with a natrix node.
// NATRIX_TEST_IO and NATRIX_CLUSTER_SHARDS pass --io and --shards to natrix.
// One parametrisation: cluster_test --gtest_filter='*/all_nats'. A failing
// case prints each node's last log lines and keeps configs and logs in
// /tmp/natrix-cluster-*.
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
namespace {

using clock_type = std::chrono::steady_clock;

// ----------------------------------------------------------- parameters ----

enum class node_kind { natrix, nats };

const char* kind_name(node_kind k) {
    return k == node_kind::natrix ? "natrix" : "nats";
}

struct cluster_param {
    std::string name;
    std::vector<node_kind> kinds; // n1 (the seed), n2, n3, n4 (the joiner)
    std::string error;            // a bad NATRIX_CLUSTER_NODES
};

// gtest names the parameter in failure messages.
void PrintTo(const cluster_param& p, std::ostream* os) {
    *os << p.name;
}

std::vector<cluster_param> cluster_params() {
    using enum node_kind;
    if (const char* env = std::getenv("NATRIX_CLUSTER_NODES"); env && *env) {
        cluster_param p{"env", {}, ""};
        std::stringstream in(env);
        for (std::string word; std::getline(in, word, ',');) {
            if (word == "natrix")
                p.kinds.push_back(natrix);
            else if (word == "nats" || word == "nats-server")
                p.kinds.push_back(nats);
            else
                p.error = "NATRIX_CLUSTER_NODES: unknown node kind '" + word + "' (natrix or nats)";
            p.name += std::string("_") + (word == "natrix" ? "natrix" : "nats");
        }
        if (p.kinds.size() < 3 || p.kinds.size() > 4)
            p.error = "NATRIX_CLUSTER_NODES: 3 or 4 comma-separated kinds, e.g. natrix,nats,natrix";
        for (std::size_t i = p.kinds.size(); i < 4 && !p.kinds.empty(); ++i)
            p.kinds.push_back(p.kinds[i % p.kinds.size()]);
        return {p};
    }
    return {
        {"all_nats", {nats, nats, nats, nats}, ""},
        {"all_natrix", {natrix, natrix, natrix, natrix}, ""},
        {"mixed_natrix_seed", {natrix, nats, natrix, nats}, ""},
        {"mixed_nats_seed", {nats, natrix, nats, natrix}, ""},
    };
}

std::string nats_server_bin() {
    if (const char* b = std::getenv("NATS_SERVER_BIN"); b && *b) return b;
    return "/usr/sbin/nats-server";
}

// Distinct free loopback ports: all bound at once, then released.
std::vector<int> free_ports(std::size_t n) {
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

bool tcp_accepts(int port) {
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

http_answer http_get(int port, const std::string& target) {
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

routez_view get_routez(int http_port) {
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

std::string varz_server_id(int http_port) {
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

std::string tail(const std::string& text, std::size_t lines) {
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
constexpr std::string_view probe_prefix = "__probe:";

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

std::vector<std::string> server_list(natsConnection* nc, bool discovered_only) {
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

bool lists_port(const std::vector<std::string>& urls, int port) {
    const std::string needle = "127.0.0.1:" + std::to_string(port);
    return std::any_of(urls.begin(), urls.end(), [&](const std::string& u) {
        return u.size() >= needle.size() &&
               u.compare(u.size() - needle.size(), needle.size(), needle) == 0;
    });
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return "[" + out + "]";
}

// ------------------------------------------------------------- fixture ----

constexpr const char* accounts_config = R"(
accounts {
  A {
    users [{user: a, password: a}]
    exports [{stream: "prices.>"}, {service: "svc.>"}]
  }
  B {
    users [{user: b, password: b}]
    imports [
      {stream {account: A, subject: "prices.>"}}
      {service {account: A, subject: "svc.>"}}
    ]
  }
}
)";

class cluster : public ::testing::TestWithParam<cluster_param> {
protected:
    static constexpr std::size_t max_nodes = 4;

    void SetUp() override {
        const cluster_param& p = GetParam();
        ASSERT_TRUE(p.error.empty()) << p.error;
        const bool has_natrix =
            std::find(p.kinds.begin(), p.kinds.end(), node_kind::natrix) != p.kinds.end();
        const bool has_nats =
            std::find(p.kinds.begin(), p.kinds.end(), node_kind::nats) != p.kinds.end();
        if (has_natrix) {
            if (const char* s = std::getenv("NATRIX_CLUSTER_SKIP_NATRIX");
                s && std::string(s) == "1")
                GTEST_SKIP() << "NATRIX_CLUSTER_SKIP_NATRIX=1: parametrisation with natrix nodes";
            ASSERT_EQ(::access(natrix_bin().c_str(), X_OK), 0)
                << "natrix binary '" << natrix_bin() << "' not executable (set NATRIX_BIN)";
        }
        if (has_nats && ::access(nats_server_bin().c_str(), X_OK) != 0)
            GTEST_SKIP() << nats_server_bin() << " not installed (set NATS_SERVER_BIN)";
        char dir[] = "/tmp/natrix-cluster-XXXXXX";
        ASSERT_NE(mkdtemp(dir), nullptr);
        dir_ = dir;
        const std::vector<int> ports = free_ports(3 * max_nodes);
        ASSERT_EQ(ports.size(), 3 * max_nodes);
        for (std::size_t i = 0; i < max_nodes; ++i)
            nodes_.push_back(std::make_unique<node_process>(p.kinds[i], "n" + std::to_string(i + 1),
                                                            dir_, ports[3 * i], ports[3 * i + 1],
                                                            ports[3 * i + 2]));
    }

    void TearDown() override {
        for (auto& n : nodes_) n->signal_stop(); // all at once, then wait for each
        for (auto& n : nodes_) n->stop();
        if (HasFailure()) {
            for (auto& n : nodes_) {
                const std::string log = n->read_log();
                if (log.empty()) continue; // never started
                std::fprintf(stderr, "---- %s log (last lines) ----\n%s", n->what().c_str(),
                             tail(log, 30).c_str());
            }
            std::fprintf(stderr, "configs and full logs kept in %s\n", dir_.c_str());
        } else if (!dir_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
        }
    }

    node_process& node(std::size_t i) { return *nodes_.at(i); }

    // Node i's config: n1 is the seed and lists no routes; every other node
    // lists only n1.
    std::string config(std::size_t i, const std::string& extra) {
        const node_process& n = *nodes_[i];
        std::string c = "server_name: " + n.name() + "\n";
        c += "listen: 127.0.0.1:" + std::to_string(n.port()) + "\n";
        c += "http: 127.0.0.1:" + std::to_string(n.http_port()) + "\n";
        c +=
            "cluster {\n  name: c1\n  listen: 127.0.0.1:" + std::to_string(n.cluster_port()) + "\n";
        if (i > 0)
            c += "  routes: [nats-route://127.0.0.1:" + std::to_string(nodes_[0]->cluster_port()) +
                 "]\n";
        c += "}\n" + extra;
        return c;
    }

    ::testing::AssertionResult start_node(std::size_t i, const std::string& extra = "") {
        if (!nodes_[i]->start(config(i, extra)))
            return ::testing::AssertionFailure() << nodes_[i]->what() << " did not start";
        return ::testing::AssertionSuccess();
    }

    // Starts n1..n<count> (the seed first) and waits for the full mesh.
    // `user`/`password`: the clients of the pub/sub fallback, for configs
    // with accounts.
    ::testing::AssertionResult start_cluster(std::size_t count, const std::string& extra = "",
                                             const std::string& user = "",
                                             const std::string& password = "") {
        for (std::size_t i = 0; i < count; ++i)
            if (auto r = start_node(i, extra); !r) return r;
        return wait_full_mesh(count, 10s, user, password);
    }

    // Every one of the first `count` nodes routes to every other one: /routez
    // num_routes == count-1 and its remote_ids are exactly the others' server
    // ids. Where a node has no usable /routez, pub/sub across every ordered
    // pair stands in for it.
    ::testing::AssertionResult wait_full_mesh(std::size_t count, std::chrono::milliseconds timeout,
                                              const std::string& user = "",
                                              const std::string& password = "") {
        const auto deadline = clock_type::now() + timeout;
        std::string why;
        while (clock_type::now() < deadline) {
            std::vector<routez_view> views;
            for (std::size_t i = 0; i < count; ++i) {
                if (!nodes_[i]->running())
                    return ::testing::AssertionFailure() << nodes_[i]->what() << " has exited";
                views.push_back(get_routez(nodes_[i]->http_port()));
                if (!views.back().supported) {
                    std::printf("%s has no usable /routez (%s); checking the mesh by pub/sub\n",
                                nodes_[i]->what().c_str(),
                                views.back().body.substr(0, views.back().body.find('\n')).c_str());
                    return wait_pairwise_pubsub(count, deadline, user, password);
                }
                if (views.back().server_id.empty())
                    views.back().server_id = varz_server_id(nodes_[i]->http_port());
            }
            why.clear();
            for (std::size_t i = 0; i < count; ++i) {
                std::set<std::string> want,
                    got(views[i].remote_ids.begin(), views[i].remote_ids.end());
                for (std::size_t j = 0; j < count; ++j)
                    if (j != i) want.insert(views[j].server_id);
                if (views[i].num_routes != static_cast<std::int64_t>(count - 1) || got != want)
                    why += "\n  " + nodes_[i]->what() +
                           ": num_routes=" + std::to_string(views[i].num_routes) +
                           " remote_ids=" + join(views[i].remote_ids) +
                           " (want the other nodes' ids)";
            }
            if (why.empty()) return ::testing::AssertionSuccess();
            std::this_thread::sleep_for(20ms);
        }
        return ::testing::AssertionFailure() << "no full mesh of " << count << " nodes within "
                                             << timeout.count() << " ms:" << why;
    }

    ::testing::AssertionResult wait_pairwise_pubsub(std::size_t count,
                                                    clock_type::time_point deadline,
                                                    const std::string& user,
                                                    const std::string& password) {
        std::vector<std::unique_ptr<client>> clients;
        std::vector<std::unique_ptr<collector>> subs;
        for (std::size_t i = 0; i < count; ++i) {
            clients.push_back(std::make_unique<client>(nodes_[i]->url(), user, password));
            if (!clients.back()->ok())
                return ::testing::AssertionFailure() << "cannot connect to " << nodes_[i]->what();
        }
        for (std::size_t j = 0; j < count; ++j)
            subs.push_back(
                std::make_unique<collector>(*clients[j], "mesh.check." + std::to_string(j)));
        for (std::size_t i = 0; i < count; ++i)
            for (std::size_t j = 0; j < count; ++j) {
                if (i == j) continue;
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - clock_type::now());
                if (auto r = await_interest(*clients[i], "mesh.check." + std::to_string(j),
                                            {subs[j].get()}, std::max(left, 1ms));
                    !r)
                    return r << " (" << nodes_[i]->what() << " -> " << nodes_[j]->what() << ")";
            }
        return ::testing::AssertionSuccess();
    }

    std::string dir_;
    std::vector<std::unique_ptr<node_process>> nodes_;
};

// ---------------------------------------------------------------- cases ----

// 1. n2 and n3 know only the seed; gossip completes the mesh.
TEST_P(cluster, full_mesh_from_one_seed) {
    for (std::size_t i = 0; i < 3; ++i) ASSERT_TRUE(start_node(i));
    const auto t0 = clock_type::now();
    ASSERT_TRUE(wait_full_mesh(3, 5s));
    std::printf(
        "mesh of 3 formed %lld ms after the last node was up\n",
        static_cast<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count()));
}

// 2. A 4th node that knows only the seed is routed to by all, and a client on
// n1 learns its client URL from INFO's connect_urls.
TEST_P(cluster, joining_node_is_discovered_by_all_and_by_clients) {
    ASSERT_TRUE(start_cluster(3));
    std::atomic<int> discovered_cb{0};
    natsOptions* o = nullptr;
    natsOptions_Create(&o);
    natsOptions_SetURL(o, node(0).url().c_str());
    natsOptions_SetDiscoveredServersCB(
        o, [](natsConnection*, void* n) { static_cast<std::atomic<int>*>(n)->fetch_add(1); },
        &discovered_cb);
    client c(o);
    ASSERT_TRUE(c.ok());
    // The mesh is up, so n1's INFO already lists n2 and n3.
    auto deadline = clock_type::now() + 3s;
    while (clock_type::now() < deadline && !(lists_port(server_list(c, true), node(1).port()) &&
                                             lists_port(server_list(c, true), node(2).port())))
        std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(lists_port(server_list(c, true), node(1).port()) &&
                lists_port(server_list(c, true), node(2).port()))
        << "discovered: " << join(server_list(c, true));
    EXPECT_FALSE(lists_port(server_list(c, false), node(3).port()));
    const int cb_before = discovered_cb.load();

    ASSERT_TRUE(start_node(3));
    ASSERT_TRUE(wait_full_mesh(4, 5s));

    deadline = clock_type::now() + 5s;
    while (clock_type::now() < deadline &&
           !(discovered_cb.load() > cb_before && lists_port(server_list(c, true), node(3).port())))
        std::this_thread::sleep_for(10ms);
    EXPECT_GT(discovered_cb.load(), cb_before) << "the discovered-servers callback never fired";
    EXPECT_TRUE(lists_port(server_list(c, false), node(3).port()))
        << "n4's URL not in GetServers: " << join(server_list(c, false));
    EXPECT_TRUE(lists_port(server_list(c, true), node(3).port()))
        << "n4's URL not in GetDiscoveredServers: " << join(server_list(c, true));

    // And n4 carries traffic both ways.
    client on4(node(3).url()), on2(node(1).url());
    collector sub4(on4, "join.to4"), sub2(on2, "join.to2");
    EXPECT_TRUE(await_interest(on2, "join.to4", {&sub4}));
    EXPECT_TRUE(await_interest(on4, "join.to2", {&sub2}));
}

// 3a. 1000 messages from n1 reach subscribers on n2 and n3, all and in order.
TEST_P(cluster, pub_sub_across_nodes_in_order) {
    ASSERT_TRUE(start_cluster(3));
    client pub(node(0).url()), c2(node(1).url()), c3(node(2).url());
    collector s2(c2, "ps.data"), s3(c3, "ps.data");
    ASSERT_TRUE(await_interest(pub, "ps.data", {&s2, &s3}));
    constexpr int n = 1000;
    for (int i = 0; i < n; ++i)
        ASSERT_EQ(natsConnection_PublishString(pub, "ps.data", std::to_string(i).c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_FlushTimeout(pub, 5000), NATS_OK);
    for (const collector* s : {&s2, &s3}) {
        EXPECT_TRUE(s->wait_count(n, 10s)) << "got " << s->size() << " of " << n;
        std::this_thread::sleep_for(100ms); // time for duplicates to show
        const auto got = s->data();
        ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) ASSERT_EQ(got[static_cast<std::size_t>(i)], std::to_string(i));
    }
}

// 3b. Wildcard interest crosses routes and matches as it does locally.
TEST_P(cluster, wildcards_across_nodes) {
    ASSERT_TRUE(start_cluster(3));
    client pub(node(0).url()), c2(node(1).url()), c3(node(2).url());
    collector star(c2, "wc.*.x"), gt(c3, "wc.>");
    ASSERT_TRUE(await_interest(pub, "wc.probe.x", {&star, &gt}));
    for (const char* s :
         {"wc.a.x", "wc.b.y", "wc.a.b.c", "wc.x", "wc", "other.a.x", "wc.a.x.y", "wc.end.x"})
        ASSERT_EQ(natsConnection_PublishString(pub, s, s), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(pub), NATS_OK);
    // wc.end.x, sent last, matches both: once it is in, everything is.
    ASSERT_TRUE(star.wait_data("wc.end.x", 5s));
    ASSERT_TRUE(gt.wait_data("wc.end.x", 5s));
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(star.data(), (std::vector<std::string>{"wc.a.x", "wc.end.x"}));
    EXPECT_EQ(gt.data(), (std::vector<std::string>{"wc.a.x", "wc.b.y", "wc.a.b.c", "wc.x",
                                                   "wc.a.x.y", "wc.end.x"}));
    for (auto& m : gt.messages()) EXPECT_EQ(m.subject, m.data);
}

// 3c. Headers cross routes intact (HMSG over the route).
TEST_P(cluster, headers_across_nodes) {
    ASSERT_TRUE(start_cluster(3));
    client pub(node(0).url()), c2(node(1).url()), c3(node(2).url());
    collector s2(c2, "hdr.x"), s3(c3, "hdr.x");
    ASSERT_TRUE(await_interest(pub, "hdr.x", {&s2, &s3}));
    natsMsg* m = nullptr;
    ASSERT_EQ(natsMsg_Create(&m, "hdr.x", "reply.here", "body", 4), NATS_OK);
    ASSERT_EQ(natsMsgHeader_Set(m, "Trace-Id", "abc123"), NATS_OK);
    ASSERT_EQ(natsMsgHeader_Add(m, "Multi", "one"), NATS_OK);
    ASSERT_EQ(natsMsgHeader_Add(m, "Multi", "two"), NATS_OK);
    ASSERT_EQ(natsConnection_PublishMsg(pub, m), NATS_OK);
    natsMsg_Destroy(m);
    ASSERT_EQ(natsConnection_PublishString(pub, "hdr.x", "plain"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(pub), NATS_OK);
    for (const collector* s : {&s2, &s3}) {
        ASSERT_TRUE(s->wait_count(2, 5s));
        const auto got = s->messages();
        ASSERT_EQ(got.size(), 2u);
        EXPECT_EQ(got[0].data, "body");
        EXPECT_EQ(got[0].reply, "reply.here");
        EXPECT_EQ(got[0].headers.at("Trace-Id"), std::vector<std::string>{"abc123"});
        EXPECT_EQ(got[0].headers.at("Multi"), (std::vector<std::string>{"one", "two"}));
        EXPECT_EQ(got[1].data, "plain");
        EXPECT_TRUE(got[1].headers.empty());
    }
}

// 3d. Request on n1, responder on n3: the reply crosses back.
TEST_P(cluster, request_reply_across_nodes) {
    ASSERT_TRUE(start_cluster(3));
    client req(node(0).url()), rsp(node(2).url());
    responder r(rsp, "svc.echo");
    ASSERT_TRUE(await_responder(req, "svc.echo"));
    for (int i = 0; i < 50; ++i) {
        const std::string body = "q" + std::to_string(i);
        ASSERT_EQ(request(req, "svc.echo", body), "re:" + body);
    }
    // Nobody anywhere in the cluster: no-responders, not a timeout.
    EXPECT_EQ(request(req, "svc.nobody", "x", 2000),
              std::string("!") + natsStatus_GetText(NATS_NO_RESPONDERS));
}

// 3e. One queue group with a member on each of n1..n3, fed from n1 (which has
// a member) and from n4 (which has none). nats-server 2.9.10 picks uniformly
// over all members it knows, local and remote alike (a remote member weighs
// as many as the route says it has): measured about 1000/1000/1000 of 3000
// from n1 and from n4 alike, no preference for n1's local member. The bounds
// below allow ~10 sigma of noise.
TEST_P(cluster, queue_group_across_nodes) {
    ASSERT_TRUE(start_cluster(4));
    client c1(node(0).url()), c2(node(1).url()), c3(node(2).url()), c4(node(3).url());
    collector m1(c1, "q.work", "workers"), m2(c2, "q.work", "workers"), m3(c3, "q.work", "workers");
    const std::vector<const collector*> members{&m1, &m2, &m3};
    constexpr int n = 3000;
    std::vector<std::size_t> before(3, 0);
    for (auto [pub, tag] : {std::pair{&c1, "n1"}, std::pair{&c4, "n4"}}) {
        ASSERT_TRUE(await_interest(*pub, "q.work", members)) << "publisher on " << tag;
        for (int i = 0; i < n; ++i)
            ASSERT_EQ(natsConnection_PublishString(
                          *pub, "q.work", (std::string(tag) + "-" + std::to_string(i)).c_str()),
                      NATS_OK);
        ASSERT_EQ(natsConnection_FlushTimeout(*pub, 5000), NATS_OK);
        const auto deadline = clock_type::now() + 10s;
        auto total = [&] {
            std::size_t t = 0;
            for (std::size_t k = 0; k < 3; ++k) t += members[k]->size() - before[k];
            return t;
        };
        while (clock_type::now() < deadline && total() < static_cast<std::size_t>(n))
            std::this_thread::sleep_for(5ms);
        std::this_thread::sleep_for(200ms); // time for duplicates to show
        std::map<std::string, int> seen;
        std::vector<std::size_t> share(3, 0);
        for (std::size_t k = 0; k < 3; ++k) {
            const auto got = members[k]->data();
            for (std::size_t j = before[k]; j < got.size(); ++j) {
                ++seen[got[j]];
                ++share[k];
            }
            before[k] = got.size();
        }
        std::printf("queue group, publisher on %s: n1 member %zu, n2 member %zu, n3 member %zu "
                    "of %d\n",
                    tag, share[0], share[1], share[2], n);
        EXPECT_EQ(seen.size(), static_cast<std::size_t>(n)) << "publisher on " << tag;
        for (int i = 0; i < n; ++i) {
            const std::string key = std::string(tag) + "-" + std::to_string(i);
            const auto it = seen.find(key);
            EXPECT_TRUE(it != seen.end() && it->second == 1)
                << key << " delivered " << (it == seen.end() ? 0 : it->second) << " times";
            if (HasFailure()) break;
        }
        for (std::size_t k = 0; k < 3; ++k) {
            EXPECT_GE(share[k], static_cast<std::size_t>(n * 20 / 100))
                << "member on n" << k + 1 << ", publisher on " << tag;
            EXPECT_LE(share[k], static_cast<std::size_t>(n * 46 / 100))
                << "member on n" << k + 1 << ", publisher on " << tag;
        }
    }
}

// 4a. Stream export/import across nodes: a publishes on n1, b subscribes on n2.
TEST_P(cluster, account_stream_import_across_nodes) {
    ASSERT_TRUE(start_cluster(3, accounts_config, "a", "a"));
    client a(node(0).url(), "a", "a"), b(node(1).url(), "b", "b");
    collector prices(b, "prices.x"), other(b, "other.x");
    ASSERT_TRUE(await_interest(a, "prices.x", {&prices}));
    ASSERT_EQ(natsConnection_PublishString(a, "other.x", "not exported"), NATS_OK);
    for (int i = 0; i < 100; ++i)
        ASSERT_EQ(natsConnection_PublishString(a, "prices.x", std::to_string(i).c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(a), NATS_OK);
    ASSERT_TRUE(prices.wait_count(100, 5s)) << "got " << prices.size();
    std::this_thread::sleep_for(100ms);
    const auto got = prices.messages();
    ASSERT_EQ(got.size(), 100u);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(got[static_cast<std::size_t>(i)].data, std::to_string(i));
        EXPECT_EQ(got[static_cast<std::size_t>(i)].subject, "prices.x");
    }
    EXPECT_EQ(other.size(), 0u) << "account B got A's unexported other.x";
}

// 4b. Service export/import across nodes: a answers on n2, b asks on n1.
TEST_P(cluster, account_service_import_across_nodes) {
    ASSERT_TRUE(start_cluster(3, accounts_config, "a", "a"));
    client a(node(1).url(), "a", "a"), b(node(0).url(), "b", "b");
    responder r(a, "svc.x");
    ASSERT_TRUE(await_responder(b, "svc.x"));
    for (int i = 0; i < 20; ++i) {
        const std::string body = "q" + std::to_string(i);
        ASSERT_EQ(request(b, "svc.x", body), "re:" + body);
    }
}

// 5. A client given only n1's URL learns n2 and n3 from INFO; when n1 is
// killed mid-stream it reconnects to one of them within 2 s, its
// subscription is restored, and its messages flow again.
TEST_P(cluster, client_fails_over_to_discovered_node) {
    ASSERT_TRUE(start_cluster(3));
    struct events {
        std::mutex mu;
        std::condition_variable cv;
        bool reconnected = false;
        clock_type::time_point reconnected_at;
    } ev;
    natsOptions* o = nullptr;
    natsOptions_Create(&o);
    natsOptions_SetURL(o, node(0).url().c_str());
    natsOptions_SetReconnectWait(o, 100);
    natsOptions_SetReconnectJitter(o, 0, 0);
    natsOptions_SetMaxReconnect(o, 100);
    natsOptions_SetReconnectedCB(
        o,
        [](natsConnection*, void* e) {
            auto* p = static_cast<events*>(e);
            {
                std::lock_guard lock(p->mu);
                p->reconnected = true;
                p->reconnected_at = clock_type::now();
            }
            p->cv.notify_all();
        },
        &ev);
    client f(o);
    ASSERT_TRUE(f.ok());
    auto deadline = clock_type::now() + 3s;
    while (clock_type::now() < deadline && !(lists_port(server_list(f, true), node(1).port()) &&
                                             lists_port(server_list(f, true), node(2).port())))
        std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(lists_port(server_list(f, true), node(1).port()) &&
                lists_port(server_list(f, true), node(2).port()))
        << "discovered: " << join(server_list(f, true));

    client c2(node(1).url());
    collector ticks(c2, "fo.tick"), back(f, "fo.back");
    ASSERT_TRUE(await_interest(f, "fo.tick", {&ticks}));

    std::atomic<bool> stop{false};
    std::thread publisher([&] {
        for (int i = 0; !stop.load(); ++i) {
            natsConnection_PublishString(f, "fo.tick", std::to_string(i).c_str());
            std::this_thread::sleep_for(1ms);
        }
    });
    struct joiner {
        std::atomic<bool>& stop;
        std::thread& t;
        ~joiner() {
            stop = true;
            if (t.joinable()) t.join();
        }
    } join_publisher{stop, publisher};

    ASSERT_TRUE(ticks.wait_count(50, 5s)) << "ticks before the kill: " << ticks.size();
    const auto killed_at = clock_type::now();
    node(0).kill_hard();
    {
        std::unique_lock lock(ev.mu);
        ASSERT_TRUE(ev.cv.wait_for(lock, 10s, [&] { return ev.reconnected; }))
            << "no reconnect within 10 s of SIGKILL of n1";
    }
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(ev.reconnected_at - killed_at);
    char connected[256] = {};
    natsConnection_GetConnectedUrl(f, connected, sizeof connected);
    std::printf("reconnected to %s %lld ms after SIGKILL of n1\n", connected,
                static_cast<long long>(took.count()));
    EXPECT_LT(took, 2000ms);
    const std::string now_on = connected;
    const bool on_n2 = now_on.find(":" + std::to_string(node(1).port())) != std::string::npos;
    const bool on_n3 = now_on.find(":" + std::to_string(node(2).port())) != std::string::npos;
    ASSERT_TRUE(on_n2 || on_n3) << "reconnected to " << now_on;

    // Ticks flow again (to n2's subscriber, through a route when f is on n3).
    const std::size_t at_reconnect = ticks.size();
    EXPECT_TRUE(ticks.wait_count(at_reconnect + 50, 5s))
        << "ticks after reconnect: " << ticks.size() - at_reconnect;
    // f's subscription was replayed to its new node and crossed the route.
    client other(on_n2 ? node(2).url() : node(1).url());
    EXPECT_TRUE(await_interest(other, "fo.back", {&back}));
}

// 6. 100k 128-byte messages as fast as nats.c sends them, n1 to n2: the
// route loses none, and they arrive in order.
TEST_P(cluster, burst_across_route_loses_nothing) {
    ASSERT_TRUE(start_cluster(3));
    client pub(node(0).url()), c2(node(1).url());
    burst_counter sub(c2, "burst");
    const auto deadline = clock_type::now() + 5s;
    while (!sub.probe_seen && clock_type::now() < deadline) {
        natsConnection_PublishString(pub, "burst", std::string(probe_prefix).c_str());
        natsConnection_Flush(pub);
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(sub.probe_seen) << "n2's interest in 'burst' did not reach n1";
    std::this_thread::sleep_for(100ms); // let the last probes land before counting
    constexpr std::size_t n = 100000;
    char payload[128];
    std::memset(payload, 'x', sizeof payload);
    const auto t0 = clock_type::now();
    for (std::size_t i = 0; i < n; ++i) {
        std::snprintf(payload, sizeof payload, "%010zu", i);
        payload[10] = 'x';
        ASSERT_EQ(natsConnection_Publish(pub, "burst", payload, sizeof payload), NATS_OK);
    }
    ASSERT_EQ(natsConnection_FlushTimeout(pub, 20000), NATS_OK);
    const auto wait_until = clock_type::now() + 30s;
    while (sub.count.load() < n && clock_type::now() < wait_until) std::this_thread::sleep_for(5ms);
    const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    std::this_thread::sleep_for(200ms); // time for duplicates to show
    std::printf("burst: %zu of %zu received in %.2f s (%.0f msg/s)\n", sub.count.load(), n, secs,
                static_cast<double>(sub.count.load()) / secs);
    EXPECT_EQ(sub.count.load(), n);
    EXPECT_EQ(sub.out_of_order.load(), 0u);
    EXPECT_EQ(c2.async_errors(), 0);
}

INSTANTIATE_TEST_SUITE_P(nodes, cluster, ::testing::ValuesIn(cluster_params()),
                         [](const auto& i) { return i.param.name; });

} // namespace
} // namespace natrix::test

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    const int rc = RUN_ALL_TESTS();
    nats_Close(); // frees the library's global state so LeakSanitizer stays quiet
    return rc;
}
