#pragma once
// The I/O backend of one shard, at the level of events: a connection was
// accepted, bytes arrived for it, a send completed, it closed. The broker never
// sees an SQE or an epoll_event; io_uring (the default), epoll (the fallback
// where io_uring is unavailable) and a later kernel-bypass backend all sit
// behind this interface (docs/decisions/0008-io-backend.md).
//
// Lives on a shard: created, driven and destroyed by that shard's thread only,
// except wake(), which any thread may call.
//
// Connections are named twice, each side in its own terms: the backend hands
// out a conn_id (its socket and a generation, so that a late event for a closed
// connection is recognised), and the handler answers on_accepted with a token
// of its own that every later event for that connection carries.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace natrix::io {

// The backend's name for a connection; only the backend looks inside.
struct conn_id {
    std::uint64_t value = 0;
    explicit operator bool() const noexcept { return value != 0; }
};

// A receive buffer the handler kept (on_received returned recv_action::hold);
// given back with backend::release.
struct buffer_ref {
    std::uint32_t index = 0;
};

enum class recv_action {
    done, // the bytes were consumed; the backend may reuse the buffer
    hold, // the handler keeps the buffer (and its bytes) until release()
};

enum class backend_kind { uring, epoll };
const char* to_string(backend_kind k) noexcept;

struct peer_address {
    std::string ip;
    int port = 0;
};

// What the backend reports. Called only from inside backend::poll, on the
// shard's thread; a handler may call back into the backend (send, close, ...).
class event_handler {
public:
    virtual ~event_handler() = default;
    // A new connection. Returns the token later events carry; the connection
    // receives nothing until start_receiving(id).
    virtual std::uint64_t on_accepted(conn_id id, const peer_address& peer) = 0;
    // Bytes from the peer. `data` lives in buffer `buf` until the call returns,
    // or until release(buf) when the handler answers hold.
    virtual recv_action on_received(std::uint64_t token, std::string_view data, buffer_ref buf) = 0;
    // The send started by backend::send finished: `sent` bytes went out (fewer
    // than asked is a short write; send the rest again), or it failed.
    virtual void on_sent(std::uint64_t token, std::size_t sent, bool failed) = 0;
    // The peer closed (eof) or the socket failed; `error` is null for eof.
    // The connection is not closed yet: the handler calls backend::close.
    virtual void on_peer_closed(std::uint64_t token, const char* error) = 0;
};

struct backend_settings {
    unsigned sq_entries = 4096;  // io_uring submission queue
    unsigned buffer_count = 256; // receive buffers per shard (power of two)
    std::uint32_t buffer_size = 64 * 1024;
};

class backend {
public:
    virtual ~backend() = default;
    virtual backend_kind kind() const noexcept = 0;

    // Sets the backend up; false with a sentence an operator can act on.
    virtual bool open(const backend_settings& s, std::string* error) = 0;
    // Accept connections on a listening socket (the backend does not own it).
    virtual void listen(int listen_fd) = 0;
    // Stop accepting (lame duck, shutdown); connections already accepted stay.
    virtual void stop_listening() = 0;

    // Takes over a connected socket made elsewhere (a route the cluster
    // manager dialled or accepted and greeted). Later events carry `token`;
    // nothing is received until start_receiving. The backend owns the fd.
    virtual conn_id adopt(int fd, std::uint64_t token) = 0;

    // Reading from a connection: on after accept; off while the broker wants
    // its peer to wait (TCP then pushes back). Bytes already on their way may
    // still be reported after stop_receiving.
    virtual void start_receiving(conn_id c) = 0;
    virtual void stop_receiving(conn_id c) = 0;
    virtual void release(buffer_ref b) = 0;

    // Sends [data, data+len), which must stay valid and unchanged until
    // on_sent. At most one send per connection is in flight.
    virtual void send(conn_id c, const char* data, std::size_t len) = 0;
    // Closes the socket; no event for `c` follows. `abort` discards what the
    // kernel still holds for the peer (RST) instead of a graceful FIN.
    virtual void close(conn_id c, bool abort) = 0;

    // Hands the new work to the kernel and reports what completed, without
    // blocking. Returns the number of events reported.
    virtual std::size_t poll(event_handler& h) = 0;
    // Blocks until an event is ready, wake() is called, or `timeout` passes.
    // Events are reported by the next poll().
    virtual void wait(std::chrono::nanoseconds timeout) = 0;
    // Any thread: makes a wait() in progress (or the next one) return.
    virtual void wake() noexcept = 0;
};

// io_uring: multishot accept and recv, one provided-buffer ring per shard.
std::unique_ptr<backend> make_uring_backend();
// epoll, edge-triggered reads into a per-shard buffer pool.
std::unique_ptr<backend> make_epoll_backend();

// True when this process may create an io_uring with what natrix needs
// (seccomp, kernel.io_uring_disabled and old kernels say no); `why` tells.
bool uring_available(std::string* why);

} // namespace natrix::io
