#pragma once
// The INFO line a server sends on accept and asynchronously later.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace natrix::protocol {

struct server_info {
    std::string server_id;
    std::string server_name;
    std::string version;
    int proto = 1;
    std::string go; // nats-server reports its Go version; we report our compiler
    std::string host;
    int port = 0;
    bool headers = true;
    std::int64_t max_payload = 1 << 20;
    std::uint64_t client_id = 0; // 0: omitted
    std::string client_ip;       // empty: omitted
    bool auth_required = false;
    bool tls_required = false;
    bool tls_verify = false;
    bool tls_available = false;
    std::string nonce; // empty: omitted
    std::vector<std::string> connect_urls;
    bool ldm = false; // lame duck mode: only set in async INFO
};

// "INFO {json} \r\n" (with the space nats-server puts before CRLF).
// Returns the bytes needed; writes at most cap. Does not allocate.
std::size_t write_info(char* out, std::size_t cap, const server_info& info) noexcept;

} // namespace natrix::protocol
