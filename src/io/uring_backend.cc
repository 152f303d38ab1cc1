// The io_uring backend: multishot accept and recv into one provided-buffer
// ring per shard, one send SQE per connection in flight, and SQEs batched
// into one submit per loop turn (liburing's examples/proxy.c shape).
#include <cerrno>
#include <cstring>
#include <vector>

#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <natrix/io/backend.hh>
#include <natrix/io/uring.hh>

#include "peer.hh"

namespace natrix::io {
using namespace detail;

namespace {

// user_data: [op:8][generation:24][fd:32]
enum class op : std::uint8_t { accept = 1, recv, send, wake, cancel };

std::uint64_t pack(op o, int fd = 0, std::uint32_t gen = 0) noexcept {
    return (std::uint64_t(o) << 56) | (std::uint64_t(gen & 0xffffff) << 32) | std::uint32_t(fd);
}
op op_of(std::uint64_t ud) noexcept {
    return static_cast<op>(ud >> 56);
}
int fd_of(std::uint64_t ud) noexcept {
    return static_cast<int>(static_cast<std::uint32_t>(ud));
}
std::uint32_t gen_of(std::uint64_t ud) noexcept {
    return static_cast<std::uint32_t>((ud >> 32) & 0xffffff);
}

constexpr unsigned short k_buffer_group = 0;

class uring_backend final : public backend {
public:
    ~uring_backend() override {
        if (wake_fd_ >= 0) ::close(wake_fd_);
        for (std::size_t fd = 0; fd < conns_.size(); ++fd)
            if (conns_[fd].open) ::close(static_cast<int>(fd));
    }

    backend_kind kind() const noexcept override { return backend_kind::uring; }

    bool open(const backend_settings& s, std::string* error) override {
        uring_settings us;
        us.sq_entries = s.sq_entries;
        us.buffer_count = s.buffer_count;
        us.buffer_size = s.buffer_size;
        us.buffer_group = k_buffer_group;
        if (!ring_.open(us, error)) return false;
        buffer_count_ = s.buffer_count;
        wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wake_fd_ < 0) {
            if (error) *error = std::string("eventfd failed: ") + std::strerror(errno);
            return false;
        }
        arm_wake();
        return true;
    }

    void listen(int fd) override {
        listen_fd_ = fd;
        listening_ = true;
        arm_accept();
    }

    void stop_listening() override {
        listening_ = false;
        if (accept_armed_) {
            io_uring_sqe* sqe = ring_.sqe();
            io_uring_prep_cancel64(sqe, pack(op::accept), 0);
            io_uring_sqe_set_data64(sqe, pack(op::cancel));
            // The caller closes the socket next: the cancel must reach the
            // kernel first.
            io_uring_submit(ring_.get());
        }
    }

    void start_receiving(conn_id c) override {
        conn* k = find(c);
        if (!k || k->receiving) return;
        k->receiving = true;
        if (!k->recv_armed) rearm_.push_back(c);
    }

    void stop_receiving(conn_id c) override {
        conn* k = find(c);
        if (!k || !k->receiving) return;
        k->receiving = false;
        if (k->recv_armed) {
            io_uring_sqe* sqe = ring_.sqe();
            io_uring_prep_cancel64(sqe, pack(op::recv, fd_of(c.value), k->gen), 0);
            io_uring_sqe_set_data64(sqe, pack(op::cancel));
        }
    }

    void release(buffer_ref b) override { give_back(b.index); }

    void send(conn_id c, const char* data, std::size_t len) override {
        conn* k = find(c);
        if (!k) return;
        io_uring_sqe* sqe = ring_.sqe();
        io_uring_prep_send(sqe, fd_of(c.value), data, len, MSG_NOSIGNAL);
        io_uring_sqe_set_data64(sqe, pack(op::send, fd_of(c.value), k->gen));
        k->send_pending = true;
    }

    void close(conn_id c, bool abort) override {
        conn* k = find(c);
        if (!k) return;
        const int fd = fd_of(c.value);
        if (k->recv_armed || k->send_pending) {
            io_uring_sqe* sqe = ring_.sqe();
            io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
            io_uring_sqe_set_data64(sqe, pack(op::cancel));
            io_uring_submit(ring_.get()); // the cancel must reach the kernel before the close
        }
        close_socket(fd, abort);
        k->open = false; // late completions for this fd now fail find()
    }

    std::size_t poll(event_handler& h) override {
        io_uring* ring = ring_.get();
        // Submit last turn's SQEs and, with DEFER_TASKRUN, run the deferred
        // completions now: without GETEVENTS they would only show up once we
        // sleep, adding the whole spin time to every receive.
        io_uring_submit_and_get_events(ring);
        io_uring_cqe* cqe;
        unsigned head, n = 0;
        io_uring_for_each_cqe(ring, head, cqe) {
            ++n;
            const std::uint64_t ud = io_uring_cqe_get_data64(cqe);
            switch (op_of(ud)) {
            case op::accept:
                on_accept(h, cqe->res, cqe->flags);
                break;
            case op::recv:
                on_recv(h, fd_of(ud), gen_of(ud), cqe->res, cqe->flags);
                break;
            case op::send:
                on_send(h, fd_of(ud), gen_of(ud), cqe->res);
                break;
            case op::wake:
                arm_wake();
                break;
            case op::cancel:
                break;
            }
        }
        if (n) io_uring_cq_advance(ring, n);
        arm_pending();
        return n;
    }

    // Multishot receives that ended (the kernel stopped them, or a buffer
    // came back for a starved one) or were asked for since, and the accept.
    void arm_pending() {
        if (!rearm_.empty()) {
            std::vector<conn_id> again;
            again.swap(rearm_);
            for (conn_id c : again)
                if (conn* k = find(c); k && k->receiving && !k->recv_armed) arm_recv(c, *k);
        }
        if (listening_ && !accept_armed_ && accept_backoff_.ready(accept_backoff::clock::now()))
            arm_accept();
    }

    void wait(std::chrono::nanoseconds timeout) override {
        // start_receiving() or a released buffer since the last poll: their
        // receives go to the kernel with this submit, not after the sleep.
        arm_pending();
        if (timeout.count() < 0) timeout = std::chrono::nanoseconds(0);
        __kernel_timespec ts{};
        ts.tv_sec = static_cast<long long>(timeout.count() / 1000000000);
        ts.tv_nsec = static_cast<long long>(timeout.count() % 1000000000);
        io_uring_cqe* first = nullptr;
        io_uring_submit_and_wait_timeout(ring_.get(), &first, 1, &ts, nullptr);
    }

    void wake() noexcept override {
        const std::uint64_t one = 1;
        ssize_t r = ::write(wake_fd_, &one, sizeof one);
        (void)r;
    }

private:
    struct conn {
        std::uint32_t gen = 0;
        std::uint64_t token = 0;
        bool open = false;
        bool receiving = false;
        bool recv_armed = false;
        bool send_pending = false;
    };

    conn* find(conn_id c) noexcept {
        const int fd = fd_of(c.value);
        if (fd < 0 || static_cast<std::size_t>(fd) >= conns_.size()) return nullptr;
        conn& k = conns_[static_cast<std::size_t>(fd)];
        if (!k.open || (k.gen & 0xffffff) != gen_of(c.value)) return nullptr;
        return &k;
    }

    void give_back(unsigned index) {
        ring_.return_buffer(index);
        --lent_;
        if (!starved_.empty()) {
            rearm_.insert(rearm_.end(), starved_.begin(), starved_.end());
            starved_.clear();
        }
    }

    void arm_accept() {
        io_uring_sqe* sqe = ring_.sqe();
        io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        io_uring_sqe_set_data64(sqe, pack(op::accept));
        accept_armed_ = true;
    }

    void arm_wake() {
        io_uring_sqe* sqe = ring_.sqe();
        io_uring_prep_read(sqe, wake_fd_, &wake_value_, sizeof wake_value_, 0);
        io_uring_sqe_set_data64(sqe, pack(op::wake));
    }

    void arm_recv(conn_id c, conn& k) {
        io_uring_sqe* sqe = ring_.sqe();
        io_uring_prep_recv_multishot(sqe, fd_of(c.value), nullptr, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = k_buffer_group;
        io_uring_sqe_set_data64(sqe, pack(op::recv, fd_of(c.value), k.gen));
        k.recv_armed = true;
    }

    conn_id adopt(int fd, std::uint64_t token) override {
        configure_socket(fd);
        if (conns_.size() <= static_cast<std::size_t>(fd))
            conns_.resize(static_cast<std::size_t>(fd) + 1);
        conn& k = conns_[static_cast<std::size_t>(fd)];
        std::uint32_t gen = (k.gen + 1) & 0xffffff;
        if (gen == 0) gen = 1;
        k = conn{};
        k.gen = gen;
        k.open = true;
        k.token = token;
        return conn_id{(std::uint64_t(gen & 0xffffff) << 32) | std::uint32_t(fd)};
    }

    void on_accept(event_handler& h, int res, unsigned flags) {
        if (!(flags & IORING_CQE_F_MORE)) accept_armed_ = false;
        if (res < 0) {
            // -ECANCELED on stop_listening; EMFILE and the like re-arm after a pause.
            if (res != -ECANCELED) accept_backoff_.failed(accept_backoff::clock::now());
            return;
        }
        accept_backoff_.succeeded();
        const int fd = res;
        if (!listening_) {
            ::close(fd);
            return;
        }
        configure_socket(fd);
        if (conns_.size() <= static_cast<std::size_t>(fd))
            conns_.resize(static_cast<std::size_t>(fd) + 1);
        conn& k = conns_[static_cast<std::size_t>(fd)];
        std::uint32_t gen = (k.gen + 1) & 0xffffff;
        if (gen == 0) gen = 1; // a conn_id is never 0
        k = conn{};
        k.gen = gen;
        k.open = true;
        const conn_id id{(std::uint64_t(gen & 0xffffff) << 32) | std::uint32_t(fd)};
        k.token = h.on_accepted(id, peer_of(fd));
    }

    void on_recv(event_handler& h, int fd, std::uint32_t gen, int res, unsigned flags) {
        const bool has_buf = flags & IORING_CQE_F_BUFFER;
        if (has_buf) ++lent_;
        const buffer_ref buf{flags >> IORING_CQE_BUFFER_SHIFT};
        const conn_id id{(std::uint64_t(gen) << 32) | std::uint32_t(fd)};
        conn* k = find(id);
        if (k && !(flags & IORING_CQE_F_MORE)) {
            k->recv_armed = false;
            // Out of buffers: re-armed once one comes back (re-arming while
            // every buffer is lent out would fail again at once, and the
            // shard would never sleep). Earlier completions of this batch
            // may have given some back already: then re-arm now.
            if (k->receiving && res == -ENOBUFS && lent_ >= buffer_count_)
                starved_.push_back(id);
            else if (k->receiving && res != 0)
                rearm_.push_back(id);
        }
        if (!k) {
            if (has_buf) give_back(buf.index);
            return;
        }
        if (res > 0 && has_buf) {
            const char* data = ring_.buffer(buf.index);
            if (h.on_received(k->token, std::string_view(data, static_cast<std::size_t>(res)),
                              buf) == recv_action::done)
                give_back(buf.index);
            return;
        }
        if (has_buf) give_back(buf.index);
        if (res == 0) {
            k->receiving = false;
            h.on_peer_closed(k->token, nullptr);
        } else if (res < 0 && res != -ENOBUFS && res != -ECANCELED) {
            k->receiving = false;
            h.on_peer_closed(k->token, std::strerror(-res));
        }
    }

    void on_send(event_handler& h, int fd, std::uint32_t gen, int res) {
        conn* k = find(conn_id{(std::uint64_t(gen) << 32) | std::uint32_t(fd)});
        if (!k) return;
        k->send_pending = false;
        h.on_sent(k->token, res > 0 ? static_cast<std::size_t>(res) : 0, res < 0);
    }

    uring ring_;
    int listen_fd_ = -1;
    bool listening_ = false;
    bool accept_armed_ = false;
    int wake_fd_ = -1;
    std::uint64_t wake_value_ = 0;
    std::vector<conn> conns_; // by fd
    std::vector<conn_id> rearm_;
    std::vector<conn_id> starved_; // recv ended for want of a buffer
    unsigned buffer_count_ = 0;
    unsigned lent_ = 0; // buffers the handler has not given back yet
    accept_backoff accept_backoff_;
};

} // namespace

std::unique_ptr<backend> make_uring_backend() {
    return std::make_unique<uring_backend>();
}

bool uring_available(std::string* why) {
    uring_backend probe;
    backend_settings s;
    s.sq_entries = 8;
    s.buffer_count = 2;
    s.buffer_size = 4096;
    return probe.open(s, why);
}

} // namespace natrix::io
