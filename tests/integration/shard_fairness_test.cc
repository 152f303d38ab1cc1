// Issue #20: one client cannot hold a shard. A client subscribes a million
// times in bursts of 10,000, then closes; another client on the same shard
// PINGs every 10 ms throughout and its worst round trip is measured. Before
// the input budget, incremental teardown and gradual maps, natrix answered
// it after 1.5 s while subscribing and 5-8 s while closing. The bound below
// has wide margin for a loaded CI machine and sanitizer builds; the exact
// figures, beside nats-server's, are in bench/results (bench/sub_storm.py).
#include <algorithm>
#include <atomic>
#include <thread>

#include "test_server.hh"

using namespace natrix::test;
using namespace std::chrono_literals;

namespace {

const std::string k_quiet = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n";
constexpr int k_subscriptions = 1'000'000;
constexpr int k_batch = 10'000;
constexpr auto k_bound = 250ms; // the target is 50 ms; see the comment above

// PINGs every 10 ms; keeps the worst round trip of each phase.
class pinger {
public:
    explicit pinger(int port)
        : c_(port) {
        c_.send(k_quiet + "PING\r\n");
        ok_ = c_.read_until("PONG\r\n").ends_with("PONG\r\n");
        thread_ = std::thread([this] { run(); });
    }
    ~pinger() { stop(); }
    bool connected() const { return ok_; }
    void next_phase() { phase_.fetch_add(1); }
    void stop() {
        if (!thread_.joinable()) return;
        done_ = true;
        thread_.join();
    }
    std::chrono::milliseconds worst(int phase) const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(worst_[phase].load());
    }
    int samples(int phase) const { return samples_[phase].load(); }
    bool failed() const { return failed_; }

private:
    void run() {
        while (!done_) {
            const int phase = std::min(phase_.load(), 1);
            const auto t0 = std::chrono::steady_clock::now();
            c_.send("PING\r\n");
            if (c_.read_until("PONG\r\n", 60s).empty()) {
                failed_ = true;
                return;
            }
            const auto rtt = std::chrono::steady_clock::now() - t0;
            if (rtt > worst_[phase].load()) worst_[phase] = rtt;
            samples_[phase].fetch_add(1);
            std::this_thread::sleep_for(10ms);
        }
    }

    raw_client c_;
    bool ok_ = false;
    std::atomic<bool> done_{false};
    std::atomic<bool> failed_{false};
    std::atomic<int> phase_{0};
    std::atomic<std::chrono::steady_clock::duration> worst_[2]{};
    std::atomic<int> samples_[2]{};
    std::thread thread_;
};

TEST(shard_fairness, a_million_subscriptions_do_not_stall_another_client) {
    test_server srv(1);
    pinger p(srv.port());
    ASSERT_TRUE(p.connected());

    const auto t0 = std::chrono::steady_clock::now();
    {
        raw_client storm(srv.port());
        storm.send(k_quiet);
        std::string batch;
        for (int sid = 1; sid <= k_subscriptions;) {
            batch.clear();
            for (int k = 0; k < k_batch; ++k, ++sid)
                batch += "SUB u." + std::to_string(sid / 1000) + "." + std::to_string(sid % 1000) +
                         ".zzzzzzzz " + std::to_string(sid) + "\r\n";
            storm.send(batch);
        }
        storm.send("PING\r\n");
        // (A server PING may come first.)
        ASSERT_TRUE(storm.read_until("PONG\r\n", 300s).ends_with("PONG\r\n")) << srv.read_log();
        p.next_phase();
    } // closes: the server tears a million subscriptions down
    const auto subscribing = std::chrono::steady_clock::now() - t0;
    // Teardown costs about what subscribing did: watch that long again.
    std::this_thread::sleep_for(std::max<std::chrono::steady_clock::duration>(subscribing, 2s));
    p.stop();
    ASSERT_FALSE(p.failed()) << "the pinger got no PONG within 60 s";

    std::printf("subscribing %lld ms: worst PING round trip %lld ms over %d pings; "
                "closing: worst %lld ms over %d pings\n",
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(subscribing).count()),
                static_cast<long long>(p.worst(0).count()), p.samples(0),
                static_cast<long long>(p.worst(1).count()), p.samples(1));
    EXPECT_GT(p.samples(0), 10);
    EXPECT_GT(p.samples(1), 10);
    EXPECT_LT(p.worst(0), k_bound) << "while subscribing";
    EXPECT_LT(p.worst(1), k_bound) << "while closing";
}

} // namespace
