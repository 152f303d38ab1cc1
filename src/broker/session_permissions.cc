#include <algorithm>

#include <natrix/broker/session_permissions.hh>

namespace natrix::broker {

namespace {
constexpr std::size_t k_pub_cache_limit = 128;        // nats-server maxPermCacheSize
constexpr std::size_t k_reply_allowance_limit = 4096; // nats-server replyPermLimit
} // namespace

bool publish_permitted(permission_state& p, std::string_view subject) {
    bool allowed;
    if (auto it = p.pub_cache.find(subject); it != p.pub_cache.end()) {
        allowed = it->second;
    } else {
        allowed = p.perms->publish_allowed(subject);
        if (p.pub_cache.size() >= k_pub_cache_limit) p.pub_cache.clear();
        p.pub_cache.emplace(std::string(subject), allowed);
    }
    if (allowed || !p.perms->responses()) return allowed;
    auto it = p.replies.find(subject);
    if (it == p.replies.end()) return false;
    const config::response_permission& rp = *p.perms->responses();
    ++it->second.sent;
    if ((rp.max_msgs > 0 && it->second.sent > rp.max_msgs) ||
        (rp.expires.count() > 0 && clock::now() - it->second.at > rp.expires)) {
        p.replies.erase(it);
        return false;
    }
    return true;
}

void note_reply(permission_state& p, std::string_view reply) {
    const config::response_permission& rp = *p.perms->responses();
    if (p.replies.size() >= std::max(k_reply_allowance_limit, p.replies_prune_at)) {
        // nats-server's pruneReplyPerms: drop the used-up and the expired.
        // nats-server prunes on every insert past the limit, a full scan each
        // time when the allowances are all live; pruning again only once the
        // map has doubled keeps it amortised O(1).
        const clock::time_point now = clock::now();
        std::erase_if(p.replies, [&](const auto& kv) {
            return (rp.max_msgs > 0 && kv.second.sent >= rp.max_msgs) ||
                   (rp.expires.count() > 0 && now - kv.second.at > rp.expires);
        });
        p.replies_prune_at = 2 * p.replies.size();
    }
    p.replies[std::string(reply)] = permission_state::reply_allowance{clock::now(), 0};
}

void refresh_deny_filter(session& s) {
    s.perm.deny_filter = false;
    if (!s.perm.perms) return;
    for (const auto& [sid, sub] : s.subs)
        if (s.perm.perms->needs_delivery_filter(sub->subject)) {
            s.perm.deny_filter = true;
            return;
        }
}

} // namespace natrix::broker
