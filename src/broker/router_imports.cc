// Stream and service imports, one level deep like nats-server's shadow
// subscriptions: a message that arrives through an import is not exported
// again. Service requests get a private reply subject that leads back to the
// requester (nats-server's processServiceImport).
#include <natrix/broker/router.hh>
#include <natrix/subjects/subject.hh>
#include <natrix/util/json_string.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

const std::vector<router::import_target>& router::import_targets(auth::account_id acct,
                                                                 std::string_view subject) {
    import_map& cache = import_cache_[acct];
    if (auto it = cache.find(subject); it != cache.end()) return it->second;
    if (cache.size() >= 4096) cache.clear();
    const auth::account& a = accounts_->at(acct);
    std::vector<import_target> t;
    for (std::uint32_t i = 0; i < a.stream_exports.size(); ++i)
        if (subjects::subject_matches(a.stream_exports[i].subject, subject))
            t.push_back({false, i, a.stream_exports[i].map.apply(subject)});
    for (std::uint32_t i = 0; i < a.service_imports.size(); ++i)
        if (subjects::subject_matches(a.service_imports[i].local, subject))
            t.push_back({true, i, a.service_imports[i].map.apply(subject)});
    return cache.emplace(std::string(subject), std::move(t)).first->second;
}

publish_result router::publish_imports(const publisher& from, auth::account_id acct, const message& msg) {
    const auth::account& a = accounts_->at(acct);
    publish_result res;
    if (a.stream_exports.empty() && a.service_imports.empty()) return res;
    const auto add = [&res](publish_result r) {
        res.delivered = res.delivered || r.delivered;
        res.crossed = res.crossed || r.crossed;
        return r.delivered;
    };
    // A reference into the cache: nothing below publishes through imports
    // again (one level deep), so the cache is not touched while we iterate.
    for (const import_target& t : import_targets(acct, msg.subject)) {
        if (!t.service) {
            message m = msg;
            m.subject = t.subject;
            add(publish_here(publisher{}, a.stream_exports[t.route].importer, m));
            continue;
        }
        const auth::service_route& r = a.service_imports[t.route];
        const std::string reply = msg.reply.empty() ? std::string() : service_reply(r, acct, msg.reply);
        // Responders learn who asks (nats-server's Nats-Request-Info header,
        // after the request's own headers; header-less clients never see it).
        std::string info = "Nats-Request-Info: {\"acc\":";
        util::append_json_string(info, a.name);
        info += ",\"rtt\":" + std::to_string(from.rtt.count()) + "}\r\n\r\n";
        std::string payload;
        if (msg.header_size >= 4)
            payload.assign(msg.payload.substr(0, msg.header_size - 2));
        else
            payload = "NATS/1.0\r\n";
        payload += info;
        const auto header_size = static_cast<std::uint32_t>(payload.size());
        payload.append(msg.payload.substr(msg.header_size));
        message m = msg;
        m.subject = t.subject;
        m.reply = reply;
        m.payload = payload;
        m.header_size = header_size;
        m.size_text = {};
        m.header_size_text = {};
        // Nobody to answer: forget the mapping now (nats-server's
        // rsiNoDelivery), so unanswerable requests cannot pile up.
        if (!add(publish_here(publisher{}, r.exporter, m)) && !reply.empty()) service_replies_.erase(reply);
        // As in nats-server, the import itself is a subscriber: a requester
        // gets no 503 even when the exporting account has no responder.
        res.delivered = true;
    }
    return res;
}

namespace {

constexpr std::string_view k_base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void append_base62(std::string& out, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) {
        out += k_base62[v % 62];
        v /= 62;
    }
}

} // namespace

// A private reply subject in the exporter's account that leads back to the
// requester's reply in its own account.
std::string router::service_reply(const auth::service_route& r, auth::account_id importer,
                                  std::string_view reply) {
    std::string& prefix = reply_prefix_[r.exporter];
    if (prefix.empty()) {
        // First request into this account from this shard: subscribe to
        // every reply under a prefix of our own, so responses come back here.
        prefix = "_R_.";
        append_base62(prefix, rng_(), 6);
        prefix += '.';
        auto s = std::make_unique<subscription>();
        s->subject = prefix + ">";
        s->sid = "_R_";
        subscribe(r.exporter, s.get());
        internal_subs_.push_back(std::move(s));
    }
    const clock::time_point now = clock::now();
    if (service_replies_.size() >= k_max_pending_replies) {
        expire(now);
        if (service_replies_.size() >= k_max_pending_replies) {
            // Bounded memory: past the cap a request crosses without a reply
            // subject (its requester times out) until answers drain the table.
            if (!reply_cap_warned_)
                LOG_WRN("shard %u: %zu service requests await responses; new requests cross without a "
                        "reply until some are answered or expire",
                        shard_, service_replies_.size());
            reply_cap_warned_ = true;
            return {};
        }
    }
    reply_cap_warned_ = false;
    std::string token;
    do {
        token = prefix;
        append_base62(token, rng_(), 6);
    } while (service_replies_.count(token));
    pending_reply p;
    p.importer = importer;
    p.reply.assign(reply);
    p.type = r.responses;
    p.threshold = r.threshold;
    p.expires = now + r.threshold;
    service_replies_.emplace(token, std::move(p));
    return token;
}

// A response reached one of our _R_ subscriptions: deliver it to the
// requester's reply subject in the requester's account.
void router::on_service_reply(const message& m) {
    auto it = service_replies_.find(m.subject);
    if (it == service_replies_.end()) return; // answered already, expired or forged
    if (clock::now() > it->second.expires) {
        service_replies_.erase(it);
        return;
    }
    const pending_reply p = it->second;
    // A singleton takes one response; any response ends on an empty message
    // (no headers, no body) or on one that reaches nobody; otherwise each
    // response restarts the threshold.
    const bool ends = p.type == config::response_type::singleton || m.payload.empty();
    if (ends)
        service_replies_.erase(it);
    else
        it->second.expires = clock::now() + p.threshold;
    message back = m;
    back.subject = p.reply;
    back.reply = {}; // the responder's subjects mean nothing in the requester's account
    const std::string token(m.subject); // publishing may rehash the table: erase by key
    if (!publish_here(publisher{}, p.importer, back).delivered && !ends) service_replies_.erase(token);
}

void router::expire(clock::time_point now) {
    std::erase_if(service_replies_, [now](const auto& kv) { return now > kv.second.expires; });
}

} // namespace natrix::broker
