// broker/memory_trim: the heap figures, a trim giving freed memory back, and
// when a shard's tick asks for one. Threads: the trimmer's, and one per
// simulated shard (the tick keeps its state per thread).
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <natrix/broker/memory_trim.hh>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NATRIX_OWN_MALLOC 1 // the sanitizers replace malloc: glibc's figures say nothing
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NATRIX_OWN_MALLOC 1
#endif
#endif

namespace natrix::broker {
namespace {

using namespace std::chrono_literals;

TEST(memory_trim, freed_heap_goes_back_to_the_os) {
#ifdef NATRIX_OWN_MALLOC
    GTEST_SKIP() << "sanitizer build: malloc is not glibc's";
#else
    // On a thread of its own, so the chunks are in a heap of their own
    // arena, as a shard's are. Every 1000th kept: the freed space is in
    // holes, which glibc does not give back by itself.
    std::uint64_t in_use_full = 0, free_after = 0, released = 0;
    std::thread([&] {
        std::vector<void*> v;
        for (int i = 0; i < 500'000; ++i) {
            const std::size_t n = 64 + static_cast<std::size_t>(i % 7) * 64;
            void* p = std::malloc(n);
            std::memset(p, 1, n);
            v.push_back(p);
        }
        in_use_full = read_heap_usage().in_use;
        for (std::size_t i = 0; i < v.size(); ++i)
            if (i % 1000) std::free(v[i]);
        std::this_thread::sleep_for(1100ms); // a reading is reused for a second
        free_after = read_heap_usage().free;
        released = trim_heap_now();
        for (std::size_t i = 0; i < v.size(); i += 1000) std::free(v[i]);
    }).join();
    const heap_usage h = read_heap_usage();
    ASSERT_TRUE(h.known);
    EXPECT_GT(in_use_full, 100u << 20); // about 100 MiB of chunks with headers
    EXPECT_GT(free_after, 80u << 20);
    EXPECT_GT(released, 60u << 20) << "released " << (released >> 20) << " MiB";
    const heap_trim_totals t = read_heap_trim_totals();
    EXPECT_GE(t.trims, 1u);
    EXPECT_GE(t.released_bytes, released);
#endif
}

// While a shard frees a lot, /varz gets the last reading instead of a walk
// of malloc's free lists (which holds the arenas' locks).
TEST(memory_trim, heap_is_not_read_while_a_shard_frees_a_lot) {
#ifdef NATRIX_OWN_MALLOC
    GTEST_SKIP() << "sanitizer build: malloc is not glibc's";
#else
    std::this_thread::sleep_for(1100ms); // past the one-second reuse
    const heap_usage before = read_heap_usage();
    std::thread([&] {
        shard_stats s;
        const auto now = std::chrono::steady_clock::now();
        s.subscriptions.add(20'000);
        memory_trim_tick(now, s);
        s.subscriptions.sub(20'000); // 20,000 gone in one tick
        memory_trim_tick(now + 100ms, s);
    }).join();
    std::this_thread::sleep_for(1100ms);
    void* p = std::malloc(64u << 20);
    std::memset(p, 1, 64u << 20);
    EXPECT_EQ(read_heap_usage().in_use, before.in_use) << "read while freeing";
    std::free(p);
#endif
}

// A shard's ticks, on a thread of its own: asks once the count has dropped
// by trim_after_subscriptions and stopped falling, not while it falls, and
// not again within trim_interval.
TEST(memory_trim, a_shard_asks_after_a_mass_teardown_has_settled) {
    const heap_trim_totals before = read_heap_trim_totals();
    std::thread([&] {
        shard_stats s;
        auto now = std::chrono::steady_clock::now();
        const auto tick = [&](std::uint64_t subs) {
            const std::uint64_t cur = s.subscriptions.get();
            if (subs > cur)
                s.subscriptions.add(subs - cur);
            else
                s.subscriptions.sub(cur - subs);
            now += 100ms;
            memory_trim_tick(now, s);
        };
        tick(0);
        tick(150'000);
        tick(250'000);
        tick(200'000); // falling
        tick(120'000);
        tick(40'000);
        EXPECT_EQ(read_heap_trim_totals().requests, before.requests) << "asked while falling";
        tick(40'000); // settled: 210k below the peak
        EXPECT_EQ(read_heap_trim_totals().requests, before.requests + 1);
        // Up again and down again within trim_interval: not asked again.
        tick(300'000);
        tick(0);
        tick(0);
        EXPECT_EQ(read_heap_trim_totals().requests, before.requests + 1);
        // After it: asked.
        now += trim_interval;
        tick(0);
        EXPECT_EQ(read_heap_trim_totals().requests, before.requests + 2);
    }).join();
    // The trimmer thread runs the first trim at once.
    for (int i = 0; i < 100 && read_heap_trim_totals().trims == before.trims; ++i)
        std::this_thread::sleep_for(50ms);
    EXPECT_GT(read_heap_trim_totals().trims, before.trims);
}

// Small drops never ask; drops on a connection count too.
TEST(memory_trim, small_drops_do_not_ask_many_closed_connections_do) {
    const std::uint64_t requests = read_heap_trim_totals().requests;
    std::thread([&] {
        shard_stats s;
        auto now = std::chrono::steady_clock::now() + trim_interval * 10;
        s.subscriptions.add(trim_after_subscriptions - 1);
        s.connections.add(trim_after_connections - 1);
        memory_trim_tick(now, s);
        s.subscriptions.sub(trim_after_subscriptions - 1);
        s.connections.sub(trim_after_connections - 1);
        memory_trim_tick(now + 100ms, s);
        memory_trim_tick(now + 200ms, s);
        EXPECT_EQ(read_heap_trim_totals().requests, requests);
        s.connections.add(trim_after_connections);
        memory_trim_tick(now + 300ms, s);
        s.connections.sub(trim_after_connections);
        memory_trim_tick(now + 400ms, s); // falling
        EXPECT_EQ(read_heap_trim_totals().requests, requests);
        memory_trim_tick(now + 500ms, s);
        EXPECT_EQ(read_heap_trim_totals().requests, requests + 1);
    }).join();
}

} // namespace
} // namespace natrix::broker
