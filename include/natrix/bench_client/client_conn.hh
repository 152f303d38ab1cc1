#pragma once
// natrix-bench's own NATS client connection: one blocking TCP socket with a large input buffer
// parsed in place and an output buffer that callers fill with many ops and send at once. Owned
// and used by exactly one thread (one client = one thread). No allocation per message: buffers
// grow only when a single op is larger than they are.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <natrix/auth/nkey.hh>
#include <natrix/bench_client/options.hh>
#include <natrix/bench_client/server_op.hh>

namespace natrix::bench_client {

struct credentials {
    std::string user, pass, token;
    // An nkey user's key pair, shared by every connection of a run (signing is const and
    // thread-safe); null without --nkey-seed.
    std::shared_ptr<const auth::nkey::keypair> nkey;
    bool empty() const noexcept { return user.empty() && pass.empty() && token.empty() && !nkey; }
};

// The credentials a connection to `url` uses: the command line's, else the URL's.
credentials credentials_for(const credentials& cred, const server_url& url);

struct server_info {
    std::uint64_t max_payload = 1 << 20;
    bool headers = false;
    bool auth_required = false;
    std::string server_name;
    std::string version;
};

// Extracts the raw JSON value of "key" from a flat JSON object (strings without quotes).
std::string_view json_value(std::string_view json, std::string_view key);
// The CONNECT line natrix-bench sends (verbose and pedantic off, headers on). With an nkey it
// carries the public key and the signature of `nonce` (INFO's; signed even when empty, as
// nats.go does, so a server without nkey users still accepts it).
std::string connect_line(const credentials& cred, std::string_view name,
                         std::string_view nonce = {});

class client_conn {
public:
    static constexpr std::size_t min_read = 64 * 1024;

    explicit client_conn(std::size_t in_capacity = 1 << 20, std::size_t out_capacity = 256 << 10);
    ~client_conn();
    client_conn(const client_conn&) = delete;
    client_conn& operator=(const client_conn&) = delete;

    // Connects, reads INFO, sends CONNECT and PING and waits for PONG. Throws bench_error.
    // abort (may be null) stops blocking waits early once it becomes true.
    void open(const server_url& url, const credentials& cred, std::string_view name,
              double timeout_s, const std::atomic<bool>* abort);
    void close() noexcept;
    int fd() const noexcept { return fd_; }
    const server_info& info() const noexcept { return info_; }

    // Output: reserve n bytes at the tail, write them, then commit.
    char* out_reserve(std::size_t n);
    void out_commit(std::size_t n) noexcept { out_len_ += n; }
    void append(std::string_view s);
    std::size_t out_size() const noexcept { return out_len_; }
    // Sends the whole output buffer, blocking as needed. Throws bench_error.
    void flush();

    // Reads what the socket has into the input buffer. With wait, blocks up to the receive
    // timeout (100 ms); returns false if nothing arrived. Throws bench_error on close or error.
    bool read_some(bool wait);
    // Takes the next complete op off the input buffer; false if none. Views stay valid until
    // the next read_some. Throws bench_error on unparsable input.
    bool next_op(server_op& op);
    std::size_t last_op_bytes() const noexcept { return last_op_bytes_; }
    // Reads and handles ops until a PONG arrives (answering PINGs); throws on -ERR or timeout.
    void wait_pong(double timeout_s);

    std::uint64_t bytes_in() const noexcept { return bytes_in_; }

private:
    void connect_socket(const server_url& url, double timeout_s);

    int fd_ = -1;
    server_info info_;
    const std::atomic<bool>* abort_ = nullptr;
    std::unique_ptr<char[]> in_;
    std::size_t in_cap_;
    std::size_t rd_ = 0, wr_ = 0;
    std::size_t last_op_bytes_ = 0;
    std::unique_ptr<char[]> out_;
    std::size_t out_cap_;
    std::size_t out_len_ = 0;
    std::uint64_t bytes_in_ = 0;
};

} // namespace natrix::bench_client
