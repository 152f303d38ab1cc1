// The epoll backend: the fallback where io_uring is refused (old kernels,
// seccomp, kernel.io_uring_disabled). It keeps the io_uring backend's contract
// so the broker cannot tell them apart: reads land in one fixed buffer pool per
// shard (memory does not grow with the connection count, and a held buffer
// pushes back on the peers as io_uring's ENOBUFS does), sends are only recorded
// and made in poll() so a handler is never re-entered, and a per-fd generation
// drops what is still queued for a closed connection.
//
// Edge-triggered, so an idle connection costs no syscall per turn; a ready
// list remembers what an edge announced until the socket is drained, and caps
// the reads per connection per poll so one fast peer cannot starve the others.
//
// Lives on a shard: created, driven and destroyed by that shard's thread only,
// except wake().
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <natrix/io/backend.hh>

#include "peer.hh"

namespace natrix::io {
using namespace detail;

namespace {

constexpr unsigned k_reads_per_conn = 4; // buffers per connection per poll
constexpr unsigned k_accepts_per_poll = 64;
constexpr int k_max_events = 256;

// epoll data of the two fds that are no connection. A connection's is its
// conn_id, whose fd half is a non-negative int, so never one of these.
constexpr std::uint64_t k_wake_tag = ~std::uint64_t(0);
constexpr std::uint64_t k_listen_tag = ~std::uint64_t(0) - 1;

int fd_of(conn_id c) noexcept {
    return static_cast<int>(static_cast<std::uint32_t>(c.value));
}
std::uint32_t gen_of(conn_id c) noexcept {
    return static_cast<std::uint32_t>(c.value >> 32);
}

class epoll_backend final : public backend {
public:
    ~epoll_backend() override {
        for (std::size_t fd = 0; fd < conns_.size(); ++fd)
            if (conns_[fd].open) ::close(static_cast<int>(fd));
        if (wake_fd_ >= 0) ::close(wake_fd_);
        if (epoll_fd_ >= 0) ::close(epoll_fd_);
    }

    backend_kind kind() const noexcept override { return backend_kind::epoll; }

    bool open(const backend_settings& s, std::string* error) override {
        auto fail = [&](std::string msg) {
            if (error) *error = std::move(msg);
            return false;
        };
        if (s.buffer_count == 0 || s.buffer_size == 0)
            return fail("the epoll backend needs at least one receive buffer of at least one byte");
        epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
        if (epoll_fd_ < 0)
            return fail(std::string("epoll_create1 failed: ") + std::strerror(errno));
        wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wake_fd_ < 0) return fail(std::string("eventfd failed: ") + std::strerror(errno));
        if (!watch(wake_fd_, EPOLLIN, k_wake_tag))
            return fail(std::string("cannot watch the wake eventfd: ") + std::strerror(errno));
        buffer_size_ = s.buffer_size;
        buffers_ =
            std::make_unique_for_overwrite<char[]>(std::size_t(s.buffer_count) * s.buffer_size);
        free_.reserve(s.buffer_count);
        for (std::uint32_t i = s.buffer_count; i-- > 0;) free_.push_back(i);
        events_.resize(k_max_events);
        stash_.resize(k_max_events);
        return true;
    }

    // Level-triggered: accepts left over by the per-poll cap are reported again.
    void listen(int fd) override {
        listen_fd_ = fd;
        listening_ = watch(fd, EPOLLIN, k_listen_tag);
    }

    void stop_listening() override {
        if (listening_) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        listening_ = false;
        accept_ready_ = false;
    }

    void start_receiving(conn_id c) override {
        conn* k = find(c);
        if (!k || k->receiving) return;
        k->receiving = true;
        // The edge for bytes that came while stopped is gone: the flag kept it.
        if (k->readable) queue_read(c, *k);
    }

    void stop_receiving(conn_id c) override {
        if (conn* k = find(c)) k->receiving = false; // its ready-list entry drops out in poll
    }

    void release(buffer_ref b) override { free_.push_back(b.index); }

    void send(conn_id c, const char* data, std::size_t len) override {
        conn* k = find(c);
        if (!k) return;
        k->send_data = data;
        k->send_len = len;
        if (!k->writable) {
            k->out = send_state::waiting; // the next EPOLLOUT queues it
        } else if (k->out != send_state::queued) {
            k->out = send_state::queued;
            sends_.push_back(c);
        }
    }

    void close(conn_id c, bool abort) override {
        conn* k = find(c);
        if (!k) return;
        const int fd = fd_of(c);
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        close_socket(fd, abort);
        // Entries left on the ready and send lists, and stashed events, now fail find().
        *k = conn{.gen = k->gen};
    }

    std::size_t poll(event_handler& h) override {
        for (int i = 0; i < stashed_; ++i) on_event(stash_[static_cast<std::size_t>(i)]);
        stashed_ = 0;
        const int got = epoll_wait(epoll_fd_, events_.data(), k_max_events, 0);
        for (int i = 0; i < got; ++i) on_event(events_[static_cast<std::size_t>(i)]);
        std::size_t n = 0;
        if (accept_ready_) n += accept_some(h);
        n += read_ready(h);
        // Last, so that replies made by this poll's handlers go out in it.
        n += send_queued(h);
        return n;
    }

    void wait(std::chrono::nanoseconds timeout) override {
        // Work the last poll left (its caps, a send from outside poll) is ready now.
        if (stashed_ > 0 || has_work()) return;
        int ms = 0;
        if (timeout.count() > 0) {
            const auto up = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
            ms = up > INT_MAX ? INT_MAX : static_cast<int>(up);
        }
        const int got = epoll_wait(epoll_fd_, stash_.data(), k_max_events, ms);
        stashed_ = got > 0 ? got : 0;
    }

    void wake() noexcept override {
        const std::uint64_t one = 1;
        ssize_t r = ::write(wake_fd_, &one, sizeof one);
        (void)r;
    }

private:
    enum class send_state : std::uint8_t {
        idle,
        queued,  // on sends_, made by the next poll
        waiting, // the socket was full: made after EPOLLOUT
    };

    struct conn {
        std::uint32_t gen = 0;
        std::uint64_t token = 0;
        const char* send_data = nullptr;
        std::size_t send_len = 0;
        send_state out = send_state::idle;
        bool open = false;
        bool receiving = false;
        bool readable = false; // an edge said so and no read has drained it since
        bool writable = false;
        bool hangup = false; // RDHUP/HUP/ERR seen: read on to the eof or the error
        bool in_ready = false;
    };

    conn* find(conn_id c) noexcept {
        const int fd = fd_of(c);
        if (fd < 0 || static_cast<std::size_t>(fd) >= conns_.size()) return nullptr;
        conn& k = conns_[static_cast<std::size_t>(fd)];
        if (!k.open || k.gen != gen_of(c)) return nullptr;
        return &k;
    }

    bool watch(int fd, std::uint32_t events, std::uint64_t data) noexcept {
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = data;
        return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
    }

    char* buffer(std::uint32_t index) noexcept {
        return buffers_.get() + std::size_t(index) * buffer_size_;
    }

    void queue_read(conn_id c, conn& k) {
        if (k.in_ready) return;
        k.in_ready = true;
        ready_.push_back(c);
    }

    bool has_work() const noexcept {
        return !sends_.empty() || (!ready_.empty() && !free_.empty()) ||
               (accept_ready_ && accept_backoff_.ready(accept_backoff::clock::now()));
    }

    // Events only set flags and fill the lists; poll() then does the work, so
    // events stashed by wait() and fresh ones may come in any order.
    void on_event(const epoll_event& e) {
        if (e.data.u64 == k_wake_tag) {
            std::uint64_t v;
            ssize_t r = ::read(wake_fd_, &v, sizeof v);
            (void)r;
            return;
        }
        if (e.data.u64 == k_listen_tag) {
            accept_ready_ = listening_;
            return;
        }
        const conn_id c{e.data.u64};
        conn* k = find(c);
        if (!k) return;
        if (e.events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) k->hangup = true;
        if (e.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            k->readable = true;
            if (k->receiving) queue_read(c, *k);
        }
        if (e.events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
            k->writable = true;
            if (k->out == send_state::waiting) {
                k->out = send_state::queued;
                sends_.push_back(c);
            }
        }
    }

    conn_id adopt(int fd, std::uint64_t token) override {
        const int fl = fcntl(fd, F_GETFL);
        if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        configure_socket(fd);
        if (conns_.size() <= static_cast<std::size_t>(fd))
            conns_.resize(static_cast<std::size_t>(fd) + 1);
        conn& k = conns_[static_cast<std::size_t>(fd)];
        std::uint32_t gen = k.gen + 1;
        if (gen == 0) gen = 1;
        const conn_id id{(std::uint64_t(gen) << 32) | std::uint32_t(fd)};
        if (!watch(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, id.value)) {
            ::close(fd);
            return conn_id{};
        }
        k = conn{.gen = gen, .open = true, .readable = true, .writable = true};
        k.token = token;
        return id;
    }

    std::size_t accept_some(event_handler& h) {
        std::size_t n = 0;
        if (!accept_backoff_.ready(accept_backoff::clock::now())) return 0;
        for (unsigned i = 0; i < k_accepts_per_poll && listening_; ++i) {
            const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED) continue;
                // EMFILE and friends leave the socket readable: retry after a pause.
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    accept_ready_ = false;
                else
                    accept_backoff_.failed(accept_backoff::clock::now());
                return n;
            }
            accept_backoff_.succeeded();
            configure_socket(fd);
            if (conns_.size() <= static_cast<std::size_t>(fd))
                conns_.resize(static_cast<std::size_t>(fd) + 1);
            conn& k = conns_[static_cast<std::size_t>(fd)];
            std::uint32_t gen = k.gen + 1;
            if (gen == 0) gen = 1; // a conn_id is never 0
            const conn_id id{(std::uint64_t(gen) << 32) | std::uint32_t(fd)};
            if (!watch(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, id.value)) {
                ::close(fd);
                continue;
            }
            // Readable and writable until a syscall says otherwise: a spare
            // EAGAIN is cheaper than a lost edge.
            k = conn{.gen = gen, .open = true, .readable = true, .writable = true};
            ++n;
            const std::uint64_t token = h.on_accepted(id, peer_of(fd));
            if (conn* p = find(id)) p->token = token;
        }
        return n;
    }

    // Up to k_reads_per_conn buffers for each connection on the ready list,
    // in list order; one with more to read goes to the back. When the pool is
    // empty the rest waits, in order, for release().
    std::size_t read_ready(event_handler& h) {
        std::size_t n = 0;
        for (std::size_t turns = ready_.size(); turns > 0 && !free_.empty(); --turns) {
            const conn_id c = ready_.front();
            ready_.pop_front();
            conn* k = find(c);
            if (!k) continue;
            if (!k->receiving || !k->readable) {
                k->in_ready = false;
                continue;
            }
            for (unsigned reads = 0;; ++reads) {
                if (reads == k_reads_per_conn || free_.empty()) {
                    ready_.push_back(c); // in_ready stays set
                    break;
                }
                const std::uint32_t b = free_.back();
                free_.pop_back();
                char* data = buffer(b);
                const ssize_t r = ::recv(fd_of(c), data, buffer_size_, 0);
                if (r > 0) {
                    // A short read emptied the socket: whatever comes later
                    // raises a new edge. Not so for the eof, whose edge may
                    // already be spent: after RDHUP, read on until recv says 0.
                    const bool drained = static_cast<std::size_t>(r) < buffer_size_ && !k->hangup;
                    ++n;
                    if (h.on_received(k->token, std::string_view(data, static_cast<std::size_t>(r)),
                                      buffer_ref{b}) == recv_action::done)
                        free_.push_back(b);
                    k = find(c);
                    if (!k) break; // the handler closed it
                    if (drained) k->readable = false;
                    if (!k->receiving || !k->readable) {
                        k->in_ready = false;
                        break;
                    }
                    continue;
                }
                const int err = r < 0 ? errno : 0;
                free_.push_back(b);
                if (err == EINTR) continue;
                k->readable = false;
                k->in_ready = false;
                if (err == EAGAIN || err == EWOULDBLOCK) break;
                k->receiving = false;
                ++n;
                h.on_peer_closed(k->token, err ? std::strerror(err) : nullptr);
                break;
            }
        }
        return n;
    }

    std::size_t send_queued(event_handler& h) {
        std::size_t n = 0;
        for (std::size_t turns = sends_.size(); turns > 0; --turns) {
            const conn_id c = sends_.front();
            sends_.pop_front();
            conn* k = find(c);
            if (!k || k->out != send_state::queued) continue;
            ssize_t r;
            do {
                r = ::send(fd_of(c), k->send_data, k->send_len, MSG_NOSIGNAL | MSG_DONTWAIT);
            } while (r < 0 && errno == EINTR);
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                k->writable = false;
                k->out = send_state::waiting;
                continue;
            }
            k->out = send_state::idle;
            ++n;
            h.on_sent(k->token, r > 0 ? static_cast<std::size_t>(r) : 0, r < 0);
        }
        return n;
    }

    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    int listen_fd_ = -1;
    bool listening_ = false;
    bool accept_ready_ = false;
    accept_backoff accept_backoff_;
    std::uint32_t buffer_size_ = 0;
    std::unique_ptr<char[]> buffers_;
    std::vector<std::uint32_t> free_; // the pool: indexes of buffers not lent out
    std::vector<conn> conns_;         // by fd
    std::deque<conn_id> ready_;       // may be read; stale entries fail find()
    std::deque<conn_id> sends_;       // queued sends; stale entries fail find()
    std::vector<epoll_event> events_; // poll()'s own epoll_wait
    std::vector<epoll_event> stash_;  // what wait() saw, for the next poll()
    int stashed_ = 0;
};

} // namespace

std::unique_ptr<backend> make_epoll_backend() {
    return std::make_unique<epoll_backend>();
}

} // namespace natrix::io
