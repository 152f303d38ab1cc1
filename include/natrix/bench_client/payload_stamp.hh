#pragma once
// The 16 bytes natrix-bench writes at the start of every payload that is large enough: the
// publisher id and its per-publisher sequence number (so subscribers can check order, loss and
// duplicates per publisher) and the send time (so they can measure latency). Little-endian,
// fixed layout: [16-bit publisher | 48-bit sequence] [64-bit CLOCK_MONOTONIC ns].
#include <cstdint>
#include <cstring>
#include <string_view>

namespace natrix::bench_client {

inline constexpr std::size_t stamp_bytes = 16;
inline constexpr std::uint64_t max_seq = (1ull << 48) - 1;

struct payload_stamp {
    std::uint16_t publisher = 0;
    std::uint64_t seq = 0;
    std::uint64_t time_ns = 0;
};

inline void write_stamp(char* p, std::uint16_t publisher, std::uint64_t seq,
                        std::uint64_t time_ns) noexcept {
    const std::uint64_t id = (static_cast<std::uint64_t>(publisher) << 48) | (seq & max_seq);
    std::memcpy(p, &id, 8);
    std::memcpy(p + 8, &time_ns, 8);
}

// False when the payload is too short to carry a stamp.
inline bool read_stamp(std::string_view payload, payload_stamp& out) noexcept {
    if (payload.size() < stamp_bytes) return false;
    std::uint64_t id = 0;
    std::memcpy(&id, payload.data(), 8);
    std::memcpy(&out.time_ns, payload.data() + 8, 8);
    out.publisher = static_cast<std::uint16_t>(id >> 48);
    out.seq = id & max_seq;
    return true;
}

} // namespace natrix::bench_client
