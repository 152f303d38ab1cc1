#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <thread>

#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <natrix/broker/memory_trim.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

namespace {

using ns = std::chrono::nanoseconds;

std::uint64_t resident_bytes() noexcept {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long long size = 0, resident = 0;
    const int n = std::fscanf(f, "%llu %llu", &size, &resident);
    std::fclose(f);
    return n == 2 ? resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

std::atomic<std::uint64_t> g_trims{0}, g_released{0};
std::atomic<std::int64_t> g_last_duration_ns{0};
// Steady-clock time of the last request (rate limit), and a count of
// requests: a shard that sees it move knows a trim since covers what it freed.
constexpr std::int64_t never = std::numeric_limits<std::int64_t>::min();
std::atomic<std::int64_t> g_last_request_ns{never};
std::atomic<std::uint64_t> g_requests{0};

// After a request: the first trim, then follow-ups (about a minute in all).
constexpr std::chrono::seconds trim_delays[] = {std::chrono::seconds(2), std::chrono::seconds(4),
                                                std::chrono::seconds(8), std::chrono::seconds(16),
                                                std::chrono::seconds(32)};

// One thread, started on the first request, that runs the trims. Never
// destroyed: a shard may still ask while the process exits.
class trimmer {
public:
    static trimmer& get() {
        static trimmer* t = new trimmer;
        return *t;
    }
    void request() {
        std::lock_guard lock(mu_);
        pending_ = true;
        if (!started_) {
            std::thread(&trimmer::run, this).detach();
            started_ = true;
        }
        cv_.notify_one();
    }

private:
    void run() {
        pthread_setname_np(pthread_self(), "natrix-trim");
        // It was started by a shard pinned to its core: take the process's
        // (the main thread's) CPUs instead, so it does not share the shard's.
        cpu_set_t set;
        if (sched_getaffinity(getpid(), sizeof set, &set) == 0)
            sched_setaffinity(0, sizeof set, &set);
        std::unique_lock lock(mu_);
        for (;;) {
            cv_.wait(lock, [this] { return pending_; });
            pending_ = false;
            lock.unlock();
            // The shard that asked has settled, but the others may still be
            // dropping their copies of its interest (1 M removals take them
            // seconds), and a trim while a shard frees makes it wait for its
            // arena's lock. So the first trim comes after trim_delays[0], and
            // follow-ups after each further delay, until two in a row find
            // less than a MiB to give back.
            int idle = 0;
            for (const auto delay : trim_delays) {
                std::this_thread::sleep_for(delay);
                idle = trim_heap_now() < (1u << 20) ? idle + 1 : 0;
                if (idle == 2) break;
            }
            lock.lock();
        }
    }

    std::mutex mu_;
    std::condition_variable cv_;
    bool pending_ = false;
    bool started_ = false;
};

// A shard freeing a lot (this much gone in one tick) makes /varz show its
// last heap reading for freeing_hold: mallinfo2 walks the free lists under
// the arena's lock, and in the middle of a 1 M teardown that walk held the
// shard for 0.1 s at each /varz.
constexpr std::uint64_t freeing_subscriptions = 5'000;
constexpr std::uint64_t freeing_connections = 500;
constexpr std::chrono::seconds freeing_hold{5};
std::atomic<std::int64_t> g_freeing_until_ns{never};

// The last reading, reused for a second (a burst of /varz) and while freeing.
std::mutex g_heap_mu;
heap_usage g_heap;
std::int64_t g_heap_at_ns = never;

std::int64_t steady_ns(std::chrono::steady_clock::time_point t) noexcept {
    return std::chrono::duration_cast<ns>(t.time_since_epoch()).count();
}

// One per shard thread.
struct tick_state {
    std::uint64_t sub_peak = 0, conn_peak = 0;
    std::uint64_t prev_subs = 0, prev_conns = 0;
    std::uint64_t seen_requests = 0;
    std::uint64_t released_bytes = 0; // output buffers given back since the last trim
};
thread_local tick_state t_state;

} // namespace

void note_released_buffers(std::uint64_t bytes) noexcept {
    t_state.released_bytes += bytes;
}

void memory_trim_tick(std::chrono::steady_clock::time_point now,
                      const shard_stats& stats) noexcept {
    tick_state& st = t_state;
    const std::uint64_t subs = stats.subscriptions.get();
    const std::uint64_t conns = stats.connections.get();
    if (const auto r = g_requests.load(std::memory_order_relaxed); r != st.seen_requests) {
        // A trim was asked for since the last tick: it covers what this
        // shard had freed by then.
        st.seen_requests = r;
        st.sub_peak = st.prev_subs;
        st.conn_peak = st.prev_conns;
        st.released_bytes = 0;
    }
    st.sub_peak = std::max(st.sub_peak, subs);
    st.conn_peak = std::max(st.conn_peak, conns);
    // Still falling (a teardown in slices): wait until it has finished.
    const bool settled = subs >= st.prev_subs && conns >= st.prev_conns;
    const std::int64_t t = steady_ns(now);
    if (st.prev_subs >= subs + freeing_subscriptions ||
        st.prev_conns >= conns + freeing_connections)
        g_freeing_until_ns.store(t + std::chrono::duration_cast<ns>(freeing_hold).count(),
                                 std::memory_order_relaxed);
    st.prev_subs = subs;
    st.prev_conns = conns;
    if (!settled) return;
    if (st.sub_peak - subs < trim_after_subscriptions &&
        st.conn_peak - conns < trim_after_connections &&
        st.released_bytes < trim_after_buffer_bytes)
        return;
    std::int64_t last = g_last_request_ns.load(std::memory_order_relaxed);
    if (last != never && t - last < std::chrono::duration_cast<ns>(trim_interval).count())
        return; // asked again at a later tick: the peaks are kept
    if (!g_last_request_ns.compare_exchange_strong(last, t, std::memory_order_relaxed)) return;
    st.seen_requests = g_requests.fetch_add(1, std::memory_order_relaxed) + 1;
    st.sub_peak = subs;
    st.conn_peak = conns;
    st.released_bytes = 0;
    try {
        trimmer::get().request();
    } catch (...) {
        // No thread (resource limits): the memory stays cached, as before.
    }
}

heap_usage read_heap_usage() noexcept {
    const std::int64_t t = steady_ns(std::chrono::steady_clock::now());
    std::lock_guard lock(g_heap_mu);
    if (g_heap_at_ns != never &&
        (t - g_heap_at_ns < std::chrono::duration_cast<ns>(std::chrono::seconds(1)).count() ||
         t < g_freeing_until_ns.load(std::memory_order_relaxed)))
        return g_heap;
    heap_usage h;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    const struct mallinfo2 mi = mallinfo2();
    h.known = true;
    h.in_use = mi.uordblks + mi.hblkhd;
    h.free = mi.fordblks;
    h.mmapped = mi.hblkhd;
#endif
    g_heap = h;
    g_heap_at_ns = t;
    return h;
}

heap_trim_totals read_heap_trim_totals() noexcept {
    return {g_requests.load(std::memory_order_relaxed), g_trims.load(std::memory_order_relaxed),
            g_released.load(std::memory_order_relaxed),
            g_last_duration_ns.load(std::memory_order_relaxed)};
}

std::uint64_t trim_heap_now() noexcept {
    const std::uint64_t before = resident_bytes();
    const auto t0 = std::chrono::steady_clock::now();
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
    const auto took = std::chrono::steady_clock::now() - t0;
    const std::uint64_t after = resident_bytes();
    const std::uint64_t released = before > after ? before - after : 0;
    g_trims.fetch_add(1, std::memory_order_relaxed);
    g_released.fetch_add(released, std::memory_order_relaxed);
    g_last_duration_ns.store(std::chrono::duration_cast<ns>(took).count(),
                             std::memory_order_relaxed);
    LOG_DBG("Returned %llu KiB of freed heap to the OS in %lld ms",
            static_cast<unsigned long long>(released >> 10),
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
    return released;
}

void merge_freed_chunks() noexcept {
    void* p = std::malloc(4096);
    asm volatile("" : : "r"(p) : "memory"); // keep the pair
    std::free(p);
}

} // namespace natrix::broker
