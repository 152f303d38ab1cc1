#pragma once
// UTF-8 decoding with Go's rules (unicode/utf8): overlong forms, surrogates
// and code points past U+10FFFF are invalid. Pure functions, any thread.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace natrix::util {

// Length of the valid UTF-8 sequence at s[i] (1 for ASCII) with its code
// point in *cp, or 0 when s[i] does not start one.
std::size_t utf8_decode(std::string_view s, std::size_t i, std::uint32_t* cp) noexcept;

} // namespace natrix::util
