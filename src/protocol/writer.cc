#include <cstring>

#include <natrix/protocol/server_info.hh>
#include <natrix/protocol/writer.hh>

namespace natrix::protocol {

std::size_t write_u64(char* out, std::uint64_t v) noexcept {
    char tmp[20];
    std::size_t n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    for (std::size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
    return n;
}

namespace {
inline char* put(char* p, std::string_view s) noexcept {
    std::memcpy(p, s.data(), s.size());
    return p + s.size();
}
} // namespace

std::size_t write_msg_header(char* out, std::string_view subject, std::string_view sid,
                             std::string_view reply, std::size_t size) noexcept {
    char* p = put(out, "MSG ");
    p = put(p, subject);
    *p++ = ' ';
    p = put(p, sid);
    *p++ = ' ';
    if (!reply.empty()) {
        p = put(p, reply);
        *p++ = ' ';
    }
    p += write_u64(p, size);
    p = put(p, crlf);
    return static_cast<std::size_t>(p - out);
}

std::size_t write_hmsg_header(char* out, std::string_view subject, std::string_view sid,
                              std::string_view reply, std::size_t header_size,
                              std::size_t total_size) noexcept {
    char* p = put(out, "HMSG ");
    p = put(p, subject);
    *p++ = ' ';
    p = put(p, sid);
    *p++ = ' ';
    if (!reply.empty()) {
        p = put(p, reply);
        *p++ = ' ';
    }
    p += write_u64(p, header_size);
    *p++ = ' ';
    p += write_u64(p, total_size);
    p = put(p, crlf);
    return static_cast<std::size_t>(p - out);
}

delivery write_delivery(char* out, bool client_headers, std::string_view subject,
                        std::string_view sid, std::string_view reply, std::string_view payload,
                        std::uint32_t header_size, std::string_view size_text,
                        std::string_view header_size_text) noexcept {
    delivery d;
    char* p = out;
    auto field = [&](std::string_view v) {
        std::memcpy(p, v.data(), v.size());
        p += v.size();
        *p++ = ' ';
    };
    auto number = [&](std::string_view text, std::size_t value) {
        if (!text.empty()) {
            std::memcpy(p, text.data(), text.size());
            p += text.size();
        } else {
            p += write_u64(p, value);
        }
    };
    if (header_size > 0 && client_headers) {
        p = put(p, "HMSG ");
        field(subject);
        field(sid);
        if (!reply.empty()) field(reply);
        number(header_size_text, header_size);
        *p++ = ' ';
        number(size_text, payload.size());
        d.body = payload;
    } else {
        const bool stripped = header_size > 0;
        d.body = payload.substr(header_size <= payload.size() ? header_size : payload.size());
        p = put(p, "MSG ");
        field(subject);
        field(sid);
        if (!reply.empty()) field(reply);
        number(stripped ? std::string_view{} : size_text, d.body.size());
    }
    p = put(p, crlf);
    d.header_len = static_cast<std::size_t>(p - out);
    return d;
}

std::size_t write_err(char* out, std::size_t cap, std::string_view text) noexcept {
    const std::size_t need = 6 + text.size() + 3;
    if (need <= cap) {
        char* p = put(out, "-ERR '");
        p = put(p, text);
        put(p, "'\r\n");
    }
    return need;
}

namespace {

// Appends into a bounded buffer and counts what would have been written, so
// callers learn the size they need without any allocation.
struct json_out {
    char* buf;
    std::size_t cap;
    std::size_t n = 0;
    bool first = true;

    void raw(std::string_view s) noexcept {
        for (char c : s) {
            if (n < cap) buf[n] = c;
            ++n;
        }
    }
    void str(std::string_view s) noexcept {
        raw("\"");
        for (unsigned char c : s) {
            switch (c) {
            case '"':
                raw("\\\"");
                break;
            case '\\':
                raw("\\\\");
                break;
            case '\n':
                raw("\\n");
                break;
            case '\r':
                raw("\\r");
                break;
            case '\t':
                raw("\\t");
                break;
            default:
                if (c < 0x20) {
                    static constexpr char hex[] = "0123456789abcdef";
                    char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                    raw({e, 6});
                } else {
                    char ch = static_cast<char>(c);
                    raw({&ch, 1});
                }
            }
        }
        raw("\"");
    }
    void key(std::string_view k) noexcept {
        if (!first) raw(",");
        first = false;
        str(k);
        raw(":");
    }
    void num(std::int64_t v) noexcept {
        char tmp[24];
        std::size_t len = 0;
        if (v < 0) {
            tmp[len++] = '-';
            len += write_u64(tmp + len, static_cast<std::uint64_t>(-v));
        } else {
            len = write_u64(tmp, static_cast<std::uint64_t>(v));
        }
        raw({tmp, len});
    }
    void boolean(bool b) noexcept { raw(b ? "true" : "false"); }
};

} // namespace

std::size_t write_info(char* out, std::size_t cap, const server_info& info) noexcept {
    // Field order follows nats-server's Info struct, so transcripts read alike.
    json_out j{out, cap};
    j.raw("INFO {");
    j.key("server_id"), j.str(info.server_id);
    j.key("server_name"), j.str(info.server_name);
    j.key("version"), j.str(info.version);
    j.key("proto"), j.num(info.proto);
    if (!info.go.empty()) j.key("go"), j.str(info.go);
    j.key("host"), j.str(info.host);
    j.key("port"), j.num(info.port);
    j.key("headers"), j.boolean(info.headers);
    if (info.auth_required) j.key("auth_required"), j.boolean(true);
    if (info.tls_required) j.key("tls_required"), j.boolean(true);
    if (info.tls_verify) j.key("tls_verify"), j.boolean(true);
    if (info.tls_available) j.key("tls_available"), j.boolean(true);
    j.key("max_payload"), j.num(info.max_payload);
    if (!info.connect_urls.empty()) {
        j.key("connect_urls");
        j.raw("[");
        for (std::size_t i = 0; i < info.connect_urls.size(); ++i) {
            if (i) j.raw(",");
            j.str(info.connect_urls[i]);
        }
        j.raw("]");
    }
    if (info.client_id) j.key("client_id"), j.num(static_cast<std::int64_t>(info.client_id));
    if (!info.client_ip.empty()) j.key("client_ip"), j.str(info.client_ip);
    if (!info.nonce.empty()) j.key("nonce"), j.str(info.nonce);
    if (info.ldm) j.key("ldm"), j.boolean(true);
    j.raw("} \r\n");
    return j.n;
}

} // namespace natrix::protocol
