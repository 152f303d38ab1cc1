#include <bit>

#include <natrix/rings/spsc_ring.hh>

namespace natrix::rings {

spsc_ring::spsc_ring(std::size_t capacity) {
    capacity_ = std::bit_ceil(capacity < 4096 ? std::size_t{4096} : capacity);
    mask_ = capacity_ - 1;
    // One spare cache line on each side keeps neighbours off our lines.
    storage_.reset(new char[capacity_ + 2 * cache_line]);
    buf_ = storage_.get() + cache_line;
    (void)pad_;
}

char* spsc_ring::try_reserve(std::uint32_t type, std::size_t size) noexcept {
    const std::size_t need = align8(header_size + size);
    if (need > capacity_ / 2) return nullptr; // could never fit with padding
    const std::size_t offset = prod_tail_ & mask_;
    const std::size_t to_end = capacity_ - offset;
    // A record never wraps: pad to the end first when it would.
    const std::size_t total = need <= to_end ? need : to_end + need;
    if (prod_tail_ + total - prod_head_cache_ > capacity_) {
        prod_head_cache_ = head_.load(std::memory_order_acquire);
        if (prod_tail_ + total - prod_head_cache_ > capacity_) return nullptr;
    }
    if (need > to_end) {
        char* pad = buf_ + offset;
        const auto pad_len = static_cast<std::uint32_t>(to_end - header_size);
        std::memcpy(pad, &pad_len, 4);
        std::memcpy(pad + 4, &padding_type, 4);
        prod_tail_ += to_end;
    }
    char* p = buf_ + (prod_tail_ & mask_);
    const auto len = static_cast<std::uint32_t>(size);
    std::memcpy(p, &len, 4);
    std::memcpy(p + 4, &type, 4);
    prod_tail_ += need;
    return p + header_size;
}

} // namespace natrix::rings
