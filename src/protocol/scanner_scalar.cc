#include <natrix/protocol/scanner.hh>

namespace natrix::protocol {

void scan_line_scalar(const char* p, const char* end, line_scan& out) noexcept {
    out.newline = -1;
    out.ntokens = 0;
    bool in_token = false;
    const auto n = static_cast<std::uint32_t>(end - p);
    std::uint32_t k = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
        const char c = p[i];
        const bool sep = c == ' ' || c == '\t' || c == '\r' || c == '\n';
        if (!sep && !in_token) {
            if (k < max_line_tokens) out.start[k] = i;
            in_token = true;
        } else if (sep && in_token) {
            if (k < max_line_tokens) out.end[k] = i;
            ++k;
            in_token = false;
        }
        if (c == '\n') {
            out.newline = i;
            out.ntokens = k;
            return;
        }
    }
}

} // namespace natrix::protocol
