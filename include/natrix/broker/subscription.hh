#pragma once
// One subscription. The subject trie of the owner's shard holds pointers to
// these; the owning session holds the object.
//
// Lives on one shard, touched only by its thread. Other shards never see it:
// they reach it by sending a message record to this shard.
#include <cstdint>
#include <string>

namespace natrix::broker {

struct session;

struct subscription {
    session* owner = nullptr; // null: the router's own (service-import replies)
    std::string subject;
    std::string queue;
    std::string sid;
    std::uint64_t delivered = 0;
    std::int64_t max = 0; // auto-unsubscribe after this many (0: none)
};

} // namespace natrix::broker
