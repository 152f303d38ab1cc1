// Differential fuzz target: every SIMD scanner kernel must agree with the
// scalar reference on arbitrary bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <natrix/protocol/scanner.hh>

using namespace natrix::protocol;

namespace {
void check(const line_scan& ref, const line_scan& got) {
    if (ref.newline != got.newline) std::abort();
    if (ref.newline < 0) return;
    if (ref.ntokens != got.ntokens) std::abort();
    for (std::uint32_t i = 0; i < ref.ntokens && i < max_line_tokens; ++i)
        if (ref.start[i] != got.start[i] || ref.end[i] != got.end[i]) std::abort();
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Copy into an exact-size heap buffer so ASan catches any overread.
    std::unique_ptr<char[]> buf(new char[size ? size : 1]);
    if (size) std::memcpy(buf.get(), data, size);
    const char* p = buf.get();
    line_scan ref, got;
    scan_line_scalar(p, p + size, ref);
    scan_line_sse2(p, p + size, got);
    check(ref, got);
    if (widest_scan_isa() == scan_isa::avx2) {
        scan_line_avx2(p, p + size, got);
        check(ref, got);
    }
    return 0;
}
