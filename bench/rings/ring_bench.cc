// Cross-shard message transfer: copy the message into the SPSC ring record
// (what the engine does) against passing a pointer to a refcounted shared
// buffer (the alternative), producer and consumer on two threads. The
// consumer reads every payload byte in both cases, as delivery would.
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include <natrix/rings/spsc_ring.hh>

using natrix::rings::spsc_ring;

namespace {

constexpr std::size_t k_messages = 1 << 20;

std::uint64_t consume(std::string_view body) {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < body.size(); i += 64) sum += static_cast<unsigned char>(body[i]);
    return sum;
}

void BM_copy_record(benchmark::State& state) {
    const std::size_t size = static_cast<std::size_t>(state.range(0));
    std::vector<char> payload(size, 'x');
    for (auto _ : state) {
        spsc_ring ring(4 << 20);
        std::atomic<bool> done{false};
        std::uint64_t sink = 0;
        std::thread consumer([&] {
            std::size_t got = 0;
            while (got < k_messages)
                got += ring.drain([&](spsc_ring::record r) { sink += consume(r.body); });
            done = true;
        });
        for (std::size_t i = 0; i < k_messages;) {
            char* p = ring.try_reserve(1, size);
            if (!p) {
                ring.publish();
                continue;
            }
            std::memcpy(p, payload.data(), size);
            if (++i % 32 == 0) ring.publish();
        }
        ring.publish();
        consumer.join();
        benchmark::DoNotOptimize(sink);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * k_messages));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * k_messages * size));
}

// The alternative: the publisher's buffer is shared; the ring carries a
// pointer; the consumer drops its reference with an atomic decrement, and
// the owning (producer) shard reclaims buffers whose count reached zero.
struct shared_buf {
    std::atomic<int> refs{1};
    std::vector<char> data;
};

void BM_refcounted_pointer(benchmark::State& state) {
    const std::size_t size = static_cast<std::size_t>(state.range(0));
    constexpr std::size_t pool_size = 8192;
    for (auto _ : state) {
        std::vector<shared_buf> pool(pool_size);
        for (auto& b : pool) b.data.assign(size, 'x');
        std::vector<shared_buf*> free_list;
        for (auto& b : pool) free_list.push_back(&b);
        spsc_ring to_consumer(1 << 20);
        std::uint64_t sink = 0;
        std::thread consumer([&] {
            std::size_t got = 0;
            while (got < k_messages) {
                got += to_consumer.drain([&](spsc_ring::record r) {
                    shared_buf* b;
                    std::memcpy(&b, r.body.data(), sizeof b);
                    sink += consume({b->data.data(), b->data.size()});
                    b->refs.fetch_sub(1, std::memory_order_acq_rel);
                });
            }
        });
        for (std::size_t i = 0; i < k_messages;) {
            if (free_list.empty()) {
                // Reclaim: buffers whose count reached zero are free again.
                for (auto& b : pool)
                    if (b.refs.load(std::memory_order_acquire) == 0) {
                        b.refs.store(1, std::memory_order_relaxed);
                        free_list.push_back(&b);
                    }
                if (free_list.empty()) continue;
            }
            shared_buf* b = free_list.back();
            char* p = to_consumer.try_reserve(1, sizeof b);
            if (!p) {
                to_consumer.publish();
                continue;
            }
            free_list.pop_back();
            std::memcpy(p, &b, sizeof b);
            if (++i % 32 == 0) to_consumer.publish();
        }
        to_consumer.publish();
        consumer.join();
        benchmark::DoNotOptimize(sink);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * k_messages));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * k_messages * size));
}

} // namespace

BENCHMARK(BM_copy_record)
    ->Arg(16)
    ->Arg(128)
    ->Arg(1024)
    ->Arg(16384)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_refcounted_pointer)
    ->Arg(16)
    ->Arg(128)
    ->Arg(1024)
    ->Arg(16384)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
