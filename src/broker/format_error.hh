#pragma once
// Formats a permission -ERR text through one of protocol/errors.hh's
// formatters, growing the buffer when long subjects need it. Private to
// src/broker.
#include <string>
#include <string_view>

namespace natrix::broker::detail {

template <typename Fmt, typename... Args>
std::string format_error(Fmt fmt, Args... args) {
    std::string text(256, '\0');
    std::size_t n = fmt(text.data(), text.size(), args...);
    if (n >= text.size()) {
        // Truncated: size it from the subject lengths (quoting at most 6x).
        text.assign(64 + 6 * (0 + ... + std::string_view(args).size()), '\0');
        n = fmt(text.data(), text.size(), args...);
    }
    text.resize(n);
    return text;
}

} // namespace natrix::broker::detail
