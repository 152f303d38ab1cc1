#pragma once
// Fast non-cryptographic hash for subjects and tokens (short strings).
// Used by the trie's child tables and by the match caches; the seed is fixed,
// so it is not meant to resist hash flooding (the caches are bounded and the
// child tables use linear probing with a load factor of at most 3/4).
#include <cstdint>
#include <cstring>
#include <string_view>

namespace natrix::subjects {

namespace detail {
inline std::uint64_t fold_multiply(std::uint64_t a, std::uint64_t b) noexcept {
    const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
    return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}
inline std::uint64_t load64(const char* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
inline std::uint32_t load32(const char* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
} // namespace detail

inline std::uint64_t hash_subject(std::string_view s) noexcept {
    constexpr std::uint64_t k0 = 0x9e3779b97f4a7c15ull;
    constexpr std::uint64_t k1 = 0xbf58476d1ce4e5b9ull;
    constexpr std::uint64_t k2 = 0x94d049bb133111ebull;
    const char* p = s.data();
    std::size_t n = s.size();
    std::uint64_t h = k0 ^ (n * k2);
    while (n > 8) {
        h = detail::fold_multiply(h ^ detail::load64(p), k1);
        p += 8;
        n -= 8;
    }
    // 0..8 bytes left; two overlapping 4-byte reads cover 4..8, and the
    // length mixed in above keeps the overlap unambiguous.
    std::uint64_t tail = 0;
    if (n >= 4) {
        tail = (static_cast<std::uint64_t>(detail::load32(p)) << 32) | detail::load32(p + n - 4);
    } else if (n > 0) {
        tail = (static_cast<std::uint64_t>(static_cast<unsigned char>(p[0])) << 16) |
               (static_cast<std::uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8) |
               static_cast<unsigned char>(p[n - 1]);
    }
    return detail::fold_multiply(h ^ tail ^ k1, k2 ^ static_cast<std::uint64_t>(s.size()));
}

} // namespace natrix::subjects
