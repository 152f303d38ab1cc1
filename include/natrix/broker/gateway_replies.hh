#pragma once
// The replies a client owes to requests that came through a gateway with a
// mapped reply ("_GR_.<cluster hash>.<server hash>.<reply>", brief §2.6).
// The client sees the bare <reply>; for 2 s, a publish to it goes back to
// the requester's cluster by the prefix, as nats-server's gwReplyMapping.
//
// Lives in its session, on that session's shard; only that thread touches it.
#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>

#include <natrix/broker/message.hh>

namespace natrix::broker {

class gateway_replies {
public:
    static constexpr std::size_t prefix_len = 19; // "_GR_." + 6 + "." + 6 + "."
    static constexpr auto ttl = std::chrono::seconds(2);

    // Does `reply` carry the prefix (and something after it)?
    static bool is_routed(std::string_view reply) noexcept {
        return reply.size() > prefix_len && reply.substr(0, 5) == "_GR_.";
    }
    void track(std::string_view routed, clock::time_point now) {
        if (map_.size() >= 1024) sweep(now);
        auto& e = map_[std::string(routed.substr(prefix_len))];
        e.routed.assign(routed);
        e.until = now + ttl;
    }
    // The routed form of `subject` while its mapping lasts; null otherwise.
    const std::string* find(std::string_view subject, clock::time_point now) {
        const auto it = map_.find(std::string(subject));
        if (it == map_.end()) return nullptr;
        if (it->second.until <= now) {
            map_.erase(it);
            return nullptr;
        }
        return &it->second.routed;
    }
    bool empty() const noexcept { return map_.empty(); }

private:
    void sweep(clock::time_point now) {
        std::erase_if(map_, [&](const auto& kv) { return kv.second.until <= now; });
    }
    struct entry {
        std::string routed;
        clock::time_point until;
    };
    std::unordered_map<std::string, entry> map_;
};

} // namespace natrix::broker
