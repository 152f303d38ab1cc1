// Parse throughput on realistic streams, per scanner kernel, on one core.
// Reports messages/s (items) and bytes/s.
#include <string>

#include <benchmark/benchmark.h>

#include <natrix/protocol/parser.hh>

using namespace natrix::protocol;

namespace {

std::string pub_stream(std::size_t payload, std::string_view subject, std::size_t target_bytes,
                       std::size_t* count) {
    std::string one = "PUB " + std::string(subject) + " " + std::to_string(payload) + "\r\n" +
                      std::string(payload, 'x') + "\r\n";
    std::string s;
    *count = 0;
    while (s.size() + one.size() <= target_bytes) {
        s += one;
        ++*count;
    }
    return s;
}

std::string sub_unsub_stream(std::size_t target_bytes, std::size_t* count) {
    std::string s;
    *count = 0;
    for (int i = 0; s.size() < target_bytes; ++i) {
        std::string sid = std::to_string(i);
        s += "SUB telemetry.region-eu-west.rack-" + std::to_string(i % 97) +
             ".host-*.cpu.>  workers " + sid + "\r\n";
        s += "UNSUB " + sid + " 100\r\n";
        *count += 2;
    }
    return s;
}

void run(benchmark::State& state, const std::string& stream, std::size_t ops_per_pass,
         scan_isa isa) {
    if (isa == scan_isa::avx2 && widest_scan_isa() != scan_isa::avx2) {
        state.SkipWithError("no AVX2 on this CPU");
        return;
    }
    parser_config cfg;
    cfg.isa = isa;
    parser p(cfg);
    parsed_op op;
    std::size_t sink = 0;
    for (auto _ : state) {
        std::string_view in(stream);
        while (p.next(in, op) == parse_status::op) sink += op.payload.size() + op.sid.size();
        benchmark::DoNotOptimize(sink);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * ops_per_pass));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
}

constexpr std::size_t k_stream_bytes = 256 * 1024; // fits L2: measures the parser, not DRAM

void BM_pub(benchmark::State& state, std::size_t payload, const char* subject, scan_isa isa) {
    std::size_t n = 0;
    static thread_local std::string stream;
    stream = pub_stream(payload, subject, k_stream_bytes, &n);
    run(state, stream, n, isa);
}

void BM_sub_unsub(benchmark::State& state, scan_isa isa) {
    std::size_t n = 0;
    std::string stream = sub_unsub_stream(k_stream_bytes, &n);
    run(state, stream, n, isa);
}

} // namespace

#define NATRIX_PUB_BENCH(name, size, subject)                                                      \
    BENCHMARK_CAPTURE(BM_pub, name##_scalar, size, subject, scan_isa::scalar);                     \
    BENCHMARK_CAPTURE(BM_pub, name##_sse2, size, subject, scan_isa::sse2);                         \
    BENCHMARK_CAPTURE(BM_pub, name##_avx2, size, subject, scan_isa::avx2);

NATRIX_PUB_BENCH(pub16, 16, "foo.bar")
NATRIX_PUB_BENCH(pub128, 128, "foo.bar")
NATRIX_PUB_BENCH(pub1k, 1024, "foo.bar")
// Control-line heavy: long subjects, tiny payloads.
NATRIX_PUB_BENCH(pub16_long_subject, 16,
                 "telemetry.region-eu-west-1.datacenter-3.rack-42.host-0193.cpu.core-17.load")

BENCHMARK_CAPTURE(BM_sub_unsub, scalar, scan_isa::scalar);
BENCHMARK_CAPTURE(BM_sub_unsub, sse2, scan_isa::sse2);
BENCHMARK_CAPTURE(BM_sub_unsub, avx2, scan_isa::avx2);

BENCHMARK_MAIN();
