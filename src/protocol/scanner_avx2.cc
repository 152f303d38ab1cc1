// Compiled with -mavx2 (see meson.build); only called after a CPUID check.
#include <immintrin.h>

#include "scanner_kernel.hh"

namespace natrix::protocol {

namespace {
struct avx2_block {
    static constexpr unsigned width = 32;
    static void classify(const char* p, std::uint64_t& nl, std::uint64_t& sep) noexcept {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        const __m256i s =
            _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(' ')),
                                            _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\t'))),
                            _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\r')));
        nl = static_cast<std::uint32_t>(
            _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\n'))));
        sep = static_cast<std::uint32_t>(_mm256_movemask_epi8(s));
    }
};
} // namespace

void scan_line_avx2(const char* p, const char* end, line_scan& out) noexcept {
    detail::scan_blocks<avx2_block>(p, end, out);
}

} // namespace natrix::protocol
