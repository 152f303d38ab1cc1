#include <natrix/broker/import_table.hh>
#include <natrix/subjects/subject.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

namespace {

constexpr std::string_view k_base62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void append_base62(std::string& out, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) {
        out += k_base62[v % 62];
        v /= 62;
    }
}

} // namespace

import_table::import_table(unsigned shard, std::shared_ptr<const auth::account_set> accounts)
    : shard_(shard)
    , accounts_(std::move(accounts)) {
    cache_.resize(accounts_->size());
    prefix_.resize(accounts_->size());
}

void import_table::set_accounts(std::shared_ptr<const auth::account_set> accounts) {
    accounts_ = std::move(accounts);
    for (auto& m : cache_) m.clear();
}

const std::vector<import_table::target>& import_table::targets(auth::account_id acct,
                                                               std::string_view subject) {
    auto& cache = cache_[acct];
    if (auto it = cache.find(subject); it != cache.end()) return it->second;
    if (cache.size() >= 4096) cache.clear();
    const auth::account& a = accounts_->at(acct);
    std::vector<target> t;
    for (std::uint32_t i = 0; i < a.stream_exports.size(); ++i)
        if (subjects::subject_matches(a.stream_exports[i].subject, subject))
            t.push_back({false, i, a.stream_exports[i].map.apply(subject)});
    for (std::uint32_t i = 0; i < a.service_imports.size(); ++i)
        if (subjects::subject_matches(a.service_imports[i].local, subject))
            t.push_back({true, i, a.service_imports[i].map.apply(subject)});
    return cache.emplace(std::string(subject), std::move(t)).first->second;
}

const std::string& import_table::reply_prefix(auth::account_id exporter, std::mt19937_64& rng,
                                              bool* created) {
    std::string& prefix = prefix_[exporter];
    *created = prefix.empty();
    if (prefix.empty()) {
        prefix = "_R_.";
        append_base62(prefix, rng(), 6);
        prefix += '.';
    }
    return prefix;
}

std::string import_table::map_reply(const std::string& prefix, const auth::service_route& r,
                                    auth::account_id importer, std::string_view reply,
                                    std::mt19937_64& rng) {
    const clock::time_point now = clock::now();
    if (replies_.size() >= k_max_pending_replies) {
        expire(now);
        if (replies_.size() >= k_max_pending_replies) {
            // Bounded memory: past the cap a request crosses without a reply
            // subject until answers drain the table.
            if (!cap_warned_)
                LOG_WRN(
                    "shard %u: %zu service requests await responses; new requests cross without a "
                    "reply until some are answered or expire",
                    shard_, replies_.size());
            cap_warned_ = true;
            return {};
        }
    }
    cap_warned_ = false;
    std::string token;
    do {
        token = prefix;
        append_base62(token, rng(), 6);
    } while (replies_.count(token));
    pending_reply p;
    p.importer = importer;
    p.reply.assign(reply);
    p.type = r.responses;
    p.threshold = r.threshold;
    p.expires = now + r.threshold;
    replies_.emplace(token, std::move(p));
    return token;
}

// nats-server's processServiceImport: a singleton takes one response; any
// response ends on an empty message (no headers, no body); otherwise each
// response restarts the threshold.
std::optional<import_table::response_route> import_table::route_response(std::string_view subject,
                                                                         bool empty_response) {
    auto it = replies_.find(subject);
    if (it == replies_.end()) return std::nullopt;
    const clock::time_point now = clock::now();
    if (now > it->second.expires) {
        replies_.erase(it);
        return std::nullopt;
    }
    response_route r{it->second.importer, it->second.reply,
                     it->second.type == config::response_type::singleton || empty_response};
    if (r.final)
        replies_.erase(it);
    else
        it->second.expires = now + it->second.threshold;
    return r;
}

void import_table::expire(clock::time_point now) {
    std::erase_if(replies_, [now](const auto& kv) { return now > kv.second.expires; });
}

} // namespace natrix::broker
