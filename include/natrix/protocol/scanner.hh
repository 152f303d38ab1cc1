#pragma once
// Control-line scanner: finds the end of a control line and the boundaries
// of its whitespace-separated fields in one pass.
//
// Three kernels (AVX2, SSE2, scalar) compute the same function; the scalar
// one is the reference, and tests/fuzz/fuzz_scanner.cc checks that they
// agree byte for byte. The kernel is chosen once from CPUID. Stateless and
// thread-safe.
#include <cstddef>
#include <cstdint>

namespace natrix::protocol {

// Tokens of one control line that are kept; a line with more is not a
// valid op for the parser (nats-server's ops have at most 5 arguments).
inline constexpr std::uint32_t max_line_tokens = 16;

struct line_scan {
    // Offset of the first '\n' from the scan start, or -1 when [p, end)
    // holds none (the line is split across reads).
    std::int64_t newline = -1;
    // Fields are maximal runs of bytes other than ' ', '\t', '\r' and '\n'
    // before the newline. Only filled when a newline was found.
    std::uint32_t ntokens = 0; // may exceed max_line_tokens; extra ones are not stored
    std::uint32_t start[max_line_tokens];
    std::uint32_t end[max_line_tokens]; // exclusive
};

using scan_fn = void (*)(const char* p, const char* end, line_scan& out) noexcept;

void scan_line_scalar(const char* p, const char* end, line_scan& out) noexcept;
void scan_line_sse2(const char* p, const char* end, line_scan& out) noexcept;
void scan_line_avx2(const char* p, const char* end, line_scan& out) noexcept;

enum class scan_isa : unsigned char { scalar, sse2, avx2 };

// The widest kernel this CPU can run (tests, fuzzing and benchmarks run each).
scan_isa widest_scan_isa() noexcept;
// The kernel the parser uses: SSE2 wherever the CPU has it, AVX2 included.
// Measured on two machines (AMD EPYC and Intel Xeon), 16-byte blocks beat
// 32-byte ones on the short control lines NATS traffic is made of; AVX2 wins
// only on long subjects (docs/decisions/0002-protocol-codec.md).
scan_isa best_scan_isa() noexcept;
scan_fn scan_kernel(scan_isa isa) noexcept;
const char* scan_isa_name(scan_isa isa) noexcept;

} // namespace natrix::protocol
