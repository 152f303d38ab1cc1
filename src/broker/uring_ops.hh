#pragma once
// io_uring user_data layout for a shard: [op:8][generation:24][slot:32].
// Private to src/broker.
#include <cstdint>

namespace natrix::broker::detail {

enum class uop : std::uint8_t { accept = 1, recv, send, wake, cancel };

inline std::uint64_t pack(uop op, std::uint32_t slot = 0, std::uint32_t gen = 0) noexcept {
    return (std::uint64_t(op) << 56) | (std::uint64_t(gen & 0xffffff) << 32) | slot;
}
inline uop op_of(std::uint64_t ud) noexcept { return static_cast<uop>(ud >> 56); }
inline std::uint32_t slot_of(std::uint64_t ud) noexcept { return static_cast<std::uint32_t>(ud); }
inline std::uint32_t gen_of(std::uint64_t ud) noexcept {
    return static_cast<std::uint32_t>((ud >> 32) & 0xffffff);
}

constexpr unsigned buffer_group = 0;

} // namespace natrix::broker::detail
