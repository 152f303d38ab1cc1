#include <natrix/auth/permissions.hh>
#include <natrix/subjects/subject.hh>

namespace natrix::auth {

namespace {

bool any_matches(const std::vector<std::string>& patterns, std::string_view subject) noexcept {
    for (const std::string& p : patterns)
        if (subjects::subject_matches(p, subject)) return true;
    return false;
}

// nats-server's queueMatches over the queue entries whose subject matched:
// none matched means no queue restriction; a wildcard queue name matches by
// subset (queue names may contain '*' or '>' literally).
struct queue_check {
    bool any = false;
    bool hit = false;
    void add(std::string_view allowed, std::string_view queue) noexcept {
        any = true;
        if (queue == allowed ||
            (subjects::has_wildcard(allowed) && subjects::is_subset_match(queue, allowed)))
            hit = true;
    }
};

} // namespace

std::vector<permissions::entry> permissions::split_entries(const std::vector<std::string>& list) {
    std::vector<entry> out;
    for (const std::string& s : list) {
        const std::size_t sp = s.find_first_of(" \t");
        if (sp == std::string::npos) {
            out.push_back({s, {}});
            continue;
        }
        const std::size_t q = s.find_first_not_of(" \t", sp);
        out.push_back({s.substr(0, sp), q == std::string::npos ? std::string() : s.substr(q)});
    }
    return out;
}

permissions::permissions(const config::permissions_option& o)
    : responses_(o.responses) {
    if (o.publish) {
        pub_allow_ = o.publish->allow;
        pub_deny_ = o.publish->deny;
    }
    if (o.subscribe) {
        // nats-server builds the allow sublist only for a non-empty list.
        if (o.subscribe->allow && !o.subscribe->allow->empty())
            sub_allow_ = split_entries(*o.subscribe->allow);
        sub_deny_ = split_entries(o.subscribe->deny);
    }
}

bool permissions::publish_allowed(std::string_view subject) const noexcept {
    if (pub_allow_ && !any_matches(*pub_allow_, subject)) return false;
    return !any_matches(pub_deny_, subject);
}

bool permissions::subscribe_allowed(std::string_view subject,
                                    std::string_view queue) const noexcept {
    bool allowed = true;
    if (sub_allow_) {
        bool plain = false;
        queue_check qc;
        for (const entry& e : *sub_allow_) {
            if (!subjects::subject_matches(e.subject, subject)) continue;
            if (e.queue.empty())
                plain = true;
            else
                qc.add(e.queue, queue);
        }
        allowed = plain;
        if (!queue.empty() && qc.any) allowed = qc.hit;
    }
    if (allowed && !sub_deny_.empty()) {
        bool plain = false;
        queue_check qc;
        for (const entry& e : sub_deny_) {
            if (!subjects::subject_matches(e.subject, subject)) continue;
            if (e.queue.empty())
                plain = true;
            else
                qc.add(e.queue, queue);
        }
        allowed = !plain;
        if (!queue.empty() && qc.any) allowed = !qc.hit;
    }
    return allowed;
}

bool permissions::needs_delivery_filter(std::string_view subject) const noexcept {
    if (!subjects::has_wildcard(subject)) return false;
    for (const entry& e : sub_deny_)
        if (e.queue.empty() && subjects::is_subset_match(e.subject, subject)) return true;
    return false;
}

bool permissions::delivery_denied(std::string_view literal_subject) const noexcept {
    for (const entry& e : sub_deny_)
        if (e.queue.empty() && subjects::subject_matches(e.subject, literal_subject)) return true;
    return false;
}

} // namespace natrix::auth
