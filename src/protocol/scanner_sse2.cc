#include <emmintrin.h>

#include "scanner_kernel.hh"

namespace natrix::protocol {

namespace {
struct sse2_block {
    static constexpr unsigned width = 16;
    static void classify(const char* p, std::uint64_t& nl, std::uint64_t& sep) noexcept {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i s = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')),
                                                    _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))),
                                       _mm_cmpeq_epi8(v, _mm_set1_epi8('\r')));
        nl = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));
        sep = static_cast<std::uint32_t>(_mm_movemask_epi8(s));
    }
};
} // namespace

void scan_line_sse2(const char* p, const char* end, line_scan& out) noexcept {
    detail::scan_blocks<sse2_block>(p, end, out);
}

} // namespace natrix::protocol
