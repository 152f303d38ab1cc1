#include <algorithm>
#include <bit>

#include <natrix/bench_client/seq_bitmap.hh>

namespace natrix::bench_client {

group_delivery merge_group(std::span<const seq_bitmap* const> members, std::uint64_t expected) {
    group_delivery r;
    std::size_t words = static_cast<std::size_t>((expected + 63) / 64);
    for (const auto* m : members) words = std::max(words, m->words().size());
    for (std::size_t w = 0; w < words; ++w) {
        std::uint64_t any = 0;
        std::uint64_t total = 0;
        for (const auto* m : members) {
            const std::uint64_t bits = w < m->words().size() ? m->words()[w] : 0;
            any |= bits;
            total += static_cast<std::uint64_t>(std::popcount(bits));
        }
        r.duplicated += total - static_cast<std::uint64_t>(std::popcount(any));
        // Split the word into the part below expected and the part at or above it.
        const std::uint64_t base = static_cast<std::uint64_t>(w) * 64;
        std::uint64_t below_mask = ~0ull;
        if (base >= expected)
            below_mask = 0;
        else if (expected - base < 64)
            below_mask = (1ull << (expected - base)) - 1;
        r.delivered += static_cast<std::uint64_t>(std::popcount(any & below_mask));
        r.unexpected += static_cast<std::uint64_t>(std::popcount(any & ~below_mask));
    }
    r.lost = expected - r.delivered;
    return r;
}

} // namespace natrix::bench_client
