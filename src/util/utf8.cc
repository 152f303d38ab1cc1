#include <natrix/util/utf8.hh>

namespace natrix::util {

std::size_t utf8_decode(std::string_view s, std::size_t i, std::uint32_t* cp) noexcept {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned c0 = b(0);
    std::size_t n;
    std::uint32_t v, min;
    if (c0 < 0x80) {
        *cp = c0;
        return 1;
    } else if (c0 >= 0xc2 && c0 <= 0xdf) {
        n = 2, v = c0 & 0x1f, min = 0x80;
    } else if (c0 >= 0xe0 && c0 <= 0xef) {
        n = 3, v = c0 & 0x0f, min = 0x800;
    } else if (c0 >= 0xf0 && c0 <= 0xf4) {
        n = 4, v = c0 & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(k) & 0xc0) != 0x80) return 0;
        v = (v << 6) | (b(k) & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return n;
}

} // namespace natrix::util
