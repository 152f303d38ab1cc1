#pragma once
// One published message as it travels through a shard: views into the
// publisher's input or a ring record, valid for the call that carries them.
// The sizes as the publisher spelled them ride along, since MSG echoes them.
#include <chrono>
#include <cstdint>
#include <string_view>

namespace natrix::broker {

using clock = std::chrono::steady_clock;

struct message {
    std::string_view subject, reply, payload;
    std::uint32_t header_size = 0; // bytes of `payload` that are headers (HPUB)
    std::string_view size_text, header_size_text;
    clock::time_point sampled_at{}; // set for 1 in latency_histogram::sample_every
    // The publishing session (its token on `origin_shard`; 0: none, e.g. a
    // service reply the server maps back), so that a subscriber falling
    // behind can slow exactly the publishers that feed it (flow_control.hh).
    std::uint64_t origin = 0;
    std::uint16_t origin_shard = 0;
};

} // namespace natrix::broker
