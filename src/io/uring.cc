#include <cerrno>
#include <cstring>

#include <liburing.h>
#include <sys/mman.h>

#include <natrix/io/uring.hh>

namespace natrix::io {

uring::uring() = default;

uring::~uring() {
    if (open_) io_uring_queue_exit(ring_.get());
    if (buf_ring_) munmap(buf_ring_, settings_.buffer_count * sizeof(io_uring_buf));
}

bool uring::open(const uring_settings& s, std::string* error) {
    settings_ = s;
    auto fail = [&](std::string msg) {
        if (error) *error = std::move(msg);
        return false;
    };
    ring_ = std::make_unique<io_uring>();
    io_uring_params p{};
    p.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER |
              IORING_SETUP_DEFER_TASKRUN;
    p.cq_entries = s.sq_entries * 4;
    int r = io_uring_queue_init_params(s.sq_entries, ring_.get(), &p);
    if (r == -EINVAL) {
        // Kernels before 6.1: no SINGLE_ISSUER/DEFER_TASKRUN; cooperative task
        // running is the next best thing.
        p = io_uring_params{};
        p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN;
        p.cq_entries = s.sq_entries * 4;
        r = io_uring_queue_init_params(s.sq_entries, ring_.get(), &p);
    }
    if (r < 0) {
        return fail(std::string("io_uring is not available (") + std::strerror(-r) +
                    "): natrix needs Linux >= 5.19 with io_uring enabled "
                    "(check /proc/sys/kernel/io_uring_disabled and seccomp policies)");
    }
    open_ = true;
    if (!(p.features & IORING_FEAT_FAST_POLL))
        return fail("io_uring lacks IORING_FEAT_FAST_POLL: kernel too old");
    std::unique_ptr<io_uring_probe, void (*)(io_uring_probe*)> probe(
        io_uring_get_probe_ring(ring_.get()), io_uring_free_probe);
    if (!probe || !io_uring_opcode_supported(probe.get(), IORING_OP_SEND) ||
        !io_uring_opcode_supported(probe.get(), IORING_OP_ACCEPT))
        return fail("io_uring lacks SEND/ACCEPT opcodes: kernel too old");

    const unsigned count = s.buffer_count;
    void* mem = mmap(nullptr, count * sizeof(io_uring_buf), PROT_READ | PROT_WRITE,
                     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) return fail("cannot map the recv buffer ring");
    buf_ring_ = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(mem);
    reg.ring_entries = count;
    reg.bgid = s.buffer_group;
    r = io_uring_register_buf_ring(ring_.get(), &reg, 0);
    if (r < 0) {
        return fail(std::string("io_uring provided buffer rings unsupported (") +
                    std::strerror(-r) + "): natrix needs Linux >= 5.19");
    }
    io_uring_buf_ring_init(buf_ring_);
    buffers_.reset(new char[std::size_t(count) * s.buffer_size]);
    buf_mask_ = io_uring_buf_ring_mask(count);
    for (unsigned i = 0; i < count; ++i)
        io_uring_buf_ring_add(buf_ring_, buffers_.get() + std::size_t(i) * s.buffer_size,
                              s.buffer_size, static_cast<unsigned short>(i), buf_mask_,
                              static_cast<int>(i));
    io_uring_buf_ring_advance(buf_ring_, static_cast<int>(count));
    return true;
}

io_uring_sqe* uring::sqe() noexcept {
    io_uring_sqe* e = io_uring_get_sqe(ring_.get());
    if (!e) {
        io_uring_submit(ring_.get());
        e = io_uring_get_sqe(ring_.get());
    }
    return e;
}

void uring::return_buffer(unsigned bid) noexcept {
    io_uring_buf_ring_add(buf_ring_, buffers_.get() + std::size_t(bid) * settings_.buffer_size,
                          settings_.buffer_size, static_cast<unsigned short>(bid), buf_mask_, 0);
    io_uring_buf_ring_advance(buf_ring_, 1);
}

} // namespace natrix::io
