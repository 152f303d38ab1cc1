#pragma once
// The records shards send each other through the SPSC rings: a message for
// this shard's subscribers, or a change of a shard's interest. One encoder and
// one decoder per record type, so that both sides agree by construction.
//
// Layout (host byte order: both ends are one process): a fixed header, then
// the variable fields back to back. Lengths are 32-bit: max_control_line may
// allow subjects past 64 KiB. Decoders check every length against the body,
// so a malformed record is refused, never read past its end.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/broker/message.hh>

namespace natrix::broker::ring_record {

enum type : std::uint32_t { message_type = 1, interest_type = 2, flow_type = 3, link_type = 4 };

// A message for the receiving shard's subscribers in `account`: plain
// subscribers when `plain`, and one member of each group in `queues`.
struct message_record {
    std::uint16_t account = 0;
    bool plain = false;
    std::uint8_t hops = 0;   // times a queue message was re-routed for want of a member
    std::uint16_t route = 0; // non-zero: not for subscribers, for this route (its RMSG)
    broker::message msg;     // sampled_at is not carried
    std::vector<std::string_view> queues;
};

// Shard `shard` now has `count` subscriptions on (pattern, queue) in `account`.
// Absolute counts: every copy of the interest map converges whatever the
// interleaving of different shards' records.
struct interest_record {
    std::uint16_t account = 0;
    std::uint16_t shard = 0;
    std::uint32_t count = 0;
    std::string_view pattern, queue;
};

// A subscriber on the sending shard fell behind (pause) or caught up
// (resume): the receiving shard's publisher `token` is read again only once
// every subscriber that paused it resumed it.
struct flow_record {
    std::uint64_t token = 0;
    bool pause = false;
};

// Interest id `id` (a route or an outbound gateway) is reached by `hash`, the
// 6-character hash of its server id (route) or cluster name (gateway), or no
// longer (empty hash): where _GR_. replies go (brief §2.6).
struct link_record {
    std::uint16_t id = 0;
    bool gateway = false;
    std::string_view hash;
};

// Appends the encoded body to `out` (cleared first).
void encode(std::string& out, const message_record& r);
void encode(std::string& out, const interest_record& r);
void encode(std::string& out, const flow_record& r);
void encode(std::string& out, const link_record& r);

// Views into `body`; false when the body is not a well-formed record.
// `r.queues` is reused (cleared), so a caller can keep one vector per shard.
bool decode(std::string_view body, message_record& r);
bool decode(std::string_view body, interest_record& r);
bool decode(std::string_view body, flow_record& r);
bool decode(std::string_view body, link_record& r);

} // namespace natrix::broker::ring_record
