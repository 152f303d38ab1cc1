#pragma once
// One shard's io_uring and its provided-buffer ring for multishot recv.
//
// Lives on a shard: created, used and destroyed by that shard's thread only
// (the ring is set up SINGLE_ISSUER where the kernel allows it). Set-up
// probes what the kernel offers and fails with a sentence an operator can act
// on. One buffer ring per shard serves all of its connections, so memory does
// not grow with the connection count.
#include <cstdint>
#include <memory>
#include <string>

struct io_uring;
struct io_uring_sqe;
struct io_uring_buf_ring;

namespace natrix::io {

struct uring_settings {
    unsigned sq_entries = 4096;
    unsigned buffer_count = 256; // power of two, <= 32768
    std::uint32_t buffer_size = 65536;
    unsigned short buffer_group = 0;
};

class uring {
public:
    uring();
    ~uring();
    uring(const uring&) = delete;
    uring& operator=(const uring&) = delete;

    // SINGLE_ISSUER|DEFER_TASKRUN|SUBMIT_ALL, or COOP_TASKRUN before Linux
    // 6.1; requires FAST_POLL, SEND/ACCEPT and provided buffer rings (5.19).
    bool open(const uring_settings& s, std::string* error);

    io_uring* get() noexcept { return ring_.get(); }
    // A free SQE, submitting first if the submission queue is full.
    io_uring_sqe* sqe() noexcept;

    unsigned short buffer_group() const noexcept { return settings_.buffer_group; }
    std::uint32_t buffer_size() const noexcept { return settings_.buffer_size; }
    const char* buffer(unsigned bid) const noexcept {
        return buffers_.get() + std::size_t(bid) * settings_.buffer_size;
    }
    // Hands a recv buffer back to the kernel once its bytes are processed.
    void return_buffer(unsigned bid) noexcept;

private:
    uring_settings settings_;
    std::unique_ptr<io_uring> ring_;
    bool open_ = false;
    io_uring_buf_ring* buf_ring_ = nullptr;
    std::unique_ptr<char[]> buffers_;
    unsigned buf_mask_ = 0;
};

} // namespace natrix::io
