#include <cstdint>

#include <natrix/util/json_string.hh>
#include <natrix/util/utf8.hh>

namespace natrix::util {

namespace {

constexpr char hex[] = "0123456789abcdef";

void append_u_escape(std::string& out, std::uint32_t cp) {
    out += "\\u";
    out += hex[(cp >> 12) & 15];
    out += hex[(cp >> 8) & 15];
    out += hex[(cp >> 4) & 15];
    out += hex[cp & 15];
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    std::size_t i = 0;
    while (i < s.size()) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '<':
            case '>':
            case '&':
                append_u_escape(out, c);
                break; // Go's HTML-safe escaping
            default:
                if (c < 0x20)
                    append_u_escape(out, c);
                else
                    out += static_cast<char>(c);
            }
            ++i;
            continue;
        }
        std::uint32_t cp = 0;
        const std::size_t n = utf8_decode(s, i, &cp);
        if (n == 0) {
            out += "\\ufffd";
            ++i;
            continue;
        }
        if (cp == 0x2028 || cp == 0x2029)
            append_u_escape(out, cp);
        else
            out.append(s.substr(i, n));
        i += n;
    }
    out += '"';
}

} // namespace natrix::util
