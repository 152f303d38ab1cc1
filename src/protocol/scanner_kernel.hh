#pragma once
// Shared body of the SIMD scanner kernels. Each ISA supplies a block type
// that classifies W bytes into a newline mask and a separator mask; the
// token bookkeeping is the same for every width. Private to src/protocol.
#include <cstdint>

#include <natrix/protocol/scanner.hh>

namespace natrix::protocol::detail {

struct scan_state {
    std::uint32_t starts = 0;
    std::uint32_t ends = 0;
    bool in_token = false;
};

inline void emit(std::uint32_t* slots, std::uint32_t& count, std::uint64_t mask,
                 std::uint32_t base) noexcept {
    while (mask) {
        const auto bit = static_cast<std::uint32_t>(__builtin_ctzll(mask));
        if (count < max_line_tokens) slots[count] = base + bit;
        ++count;
        mask &= mask - 1;
    }
}

// Finishes [i, n) one byte at a time, continuing the vector loop's state.
inline void scan_tail(const char* p, std::uint32_t i, std::uint32_t n, scan_state& st,
                      line_scan& out) noexcept {
    for (; i < n; ++i) {
        const char c = p[i];
        const bool sep = c == ' ' || c == '\t' || c == '\r' || c == '\n';
        if (!sep && !st.in_token) {
            if (st.starts < max_line_tokens) out.start[st.starts] = i;
            ++st.starts;
            st.in_token = true;
        } else if (sep && st.in_token) {
            if (st.ends < max_line_tokens) out.end[st.ends] = i;
            ++st.ends;
            st.in_token = false;
        }
        if (c == '\n') {
            out.newline = i;
            out.ntokens = st.ends;
            return;
        }
    }
}

// Block: static constexpr unsigned width; static void classify(const char*,
// std::uint64_t& newline_mask, std::uint64_t& separator_mask).
template <typename Block>
inline void scan_blocks(const char* p, const char* end, line_scan& out) noexcept {
    constexpr unsigned w = Block::width;
    constexpr std::uint64_t all = w == 64 ? ~0ull : ((1ull << w) - 1);
    out.newline = -1;
    out.ntokens = 0;
    scan_state st;
    const auto n = static_cast<std::uint32_t>(end - p);
    std::uint32_t i = 0;
    for (; i + w <= n; i += w) {
        std::uint64_t nl, sep;
        Block::classify(p + i, nl, sep);
        std::uint64_t valid = all;
        if (nl) {
            const unsigned at = static_cast<unsigned>(__builtin_ctzll(nl));
            valid = at + 1 >= 64 ? ~0ull : ((1ull << (at + 1)) - 1);
        }
        const std::uint64_t word = ~(sep | nl) & valid;
        const std::uint64_t prev = ((word << 1) | (st.in_token ? 1u : 0u)) & valid;
        emit(out.start, st.starts, word & ~prev, i);
        emit(out.end, st.ends, ~word & prev, i);
        if (nl) {
            out.newline = i + static_cast<std::uint32_t>(__builtin_ctzll(nl));
            out.ntokens = st.ends;
            return;
        }
        st.in_token = (word >> (w - 1)) & 1;
    }
    scan_tail(p, i, n, st, out);
}

} // namespace natrix::protocol::detail
