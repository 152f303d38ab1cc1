#pragma once
// One change of a shard's subscription interest, as carried between shards on
// the SPSC rings. Plain data: built on the shard that owns the subscriptions,
// applied by every shard to its copy of the interest_map.
//
// The delta is an absolute statement, "shard S now holds `count`
// subscriptions on (subject_pattern, queue)", never "+1/-1", so applying one
// twice, or replaying an older one followed by the newer, converges on the
// same state. count == 0 removes the statement.
#include <cstddef>
#include <cstdint>
#include <string>

namespace natrix::subjects {

// Shards per server; interest masks are one std::uint64_t.
inline constexpr std::size_t max_shards = 64;

struct interest_delta {
    std::uint16_t shard = 0;
    std::string subject_pattern;
    std::string queue; // empty: plain subscriptions
    std::uint32_t count = 0;

    bool operator==(const interest_delta&) const = default;
};

} // namespace natrix::subjects
