// The publish path and cross-shard traffic: local fan-out through the
// shard's trie, remote fan-out through the replicated interest map and the
// SPSC rings, and the interest deltas that keep every copy of the map equal.
#include <natrix/broker/server.hh>
#include <natrix/broker/shard.hh>
#include <natrix/protocol/writer.hh>
#include <natrix/subjects/subject.hh>
#include <natrix/util/json_string.hh>
#include <natrix/util/log.hh>

#include <cstring>

namespace natrix::broker {

namespace {

enum record_type : std::uint32_t { rec_message = 1, rec_interest = 2 };

// Message record: fixed header, then subject, reply, queue names, payload.
// Lengths are 32-bit: max_control_line may allow subjects past 64 KiB.
struct message_header {
    std::uint32_t payload_len;
    std::uint32_t header_size;
    std::uint32_t subject_len;
    std::uint32_t reply_len;
    std::uint32_t nqueues; // queue groups this shard was picked for
    std::uint8_t plain;    // deliver to plain subscriptions
    std::uint8_t size_text_len;
    std::uint8_t header_size_text_len;
    std::uint8_t hops; // times a queue message was re-routed for want of a member
    std::uint16_t account;
};

struct interest_header {
    std::uint32_t count;
    std::uint16_t account;
    std::uint16_t shard;
    std::uint32_t pattern_len;
    std::uint32_t queue_len;
};

template <typename T>
void put(std::string& s, const T& v) {
    s.append(reinterpret_cast<const char*>(&v), sizeof v);
}

constexpr std::string_view k_no_responders_hdr = "NATS/1.0 503\r\n\r\n";

} // namespace

bool shard::publish(client_connection* from, auth::account_id acct, std::string_view subject,
                    std::string_view reply, std::string_view payload, std::uint32_t header_size,
                    std::string_view size_text, std::string_view header_size_text) {
    const message msg{subject, reply, payload, header_size, size_text, header_size_text,
                      take_sample() ? clock::now() : clock::time_point{}};
    bool delivered = publish_here(from, acct, msg);
    if (accounts_->any_routes()) delivered = publish_imports(from, acct, msg) || delivered;

    if (!delivered && from && from->opts.no_responders && !reply.empty()) {
        // Nobody will answer: send the 503 status to the requester's own
        // subscription on its reply subject (nats-server 2.9.10's format).
        for (auto& [sid, s] : from->subs) {
            if (!subjects::subject_matches(s->subject, reply)) continue;
            char hdr[512];
            const std::size_t n = protocol::write_hmsg_header(
                hdr, reply, s->sid, {}, k_no_responders_hdr.size(), k_no_responders_hdr.size());
            append(*from, std::string_view(hdr, n));
            append(*from, k_no_responders_hdr);
            append(*from, protocol::k_crlf);
            break;
        }
    }
    return delivered;
}

// Delivery within one account: this shard's subscribers, then the shards
// whose interest the replicated map shows.
bool shard::publish_here(client_connection* from, auth::account_id acct, const message& msg) {
    subjects::interest_map& interest = space(acct).interest;
    if (interest.entries() == 0) return false; // nobody subscribes in this account at all
    const subjects::interest_result& ir = interest.lookup(msg.subject);
    const std::uint64_t self = 1ull << id_;
    // Queue groups: one shard per group, by member weight (server-wide
    // exactly-once); that shard then picks the member.
    std::vector<std::string_view> local_queues;
    std::vector<std::vector<std::string_view>> remote_queues;
    std::uint64_t queue_targets = 0;
    for (const subjects::queue_interest& q : ir.queues) {
        const int s = subjects::pick_queue_shard(q, rng_());
        if (s < 0) continue;
        if (static_cast<unsigned>(s) == id_) {
            local_queues.push_back(q.name);
        } else {
            if (remote_queues.empty()) remote_queues.resize(nshards_);
            remote_queues[static_cast<unsigned>(s)].push_back(q.name);
            queue_targets |= 1ull << s;
        }
    }
    const std::uint64_t plain_shards = ir.shards;
    bool delivered = false;
    if ((plain_shards & self) || !local_queues.empty())
        delivered = deliver_local(from, acct, msg, plain_shards & self, local_queues);

    std::uint64_t remote = (plain_shards & ~self) | queue_targets;
    while (remote) {
        const unsigned t = static_cast<unsigned>(__builtin_ctzll(remote));
        remote &= remote - 1;
        static const std::vector<std::string_view> none;
        forward(t, acct, msg, (plain_shards >> t) & 1, remote_queues.empty() ? none : remote_queues[t], 0);
        if (from) from->pushed_remote = true;
        delivered = true;
    }
    return delivered;
}

// Imports, one level deep like nats-server's shadow subscriptions: a message
// that arrives through an import is not exported again.
const std::vector<shard::import_target>& shard::import_targets(auth::account_id acct,
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

bool shard::publish_imports(client_connection* from, auth::account_id acct, const message& msg) {
    const auth::account& a = accounts_->at(acct);
    if (a.stream_exports.empty() && a.service_imports.empty()) return false;
    bool delivered = false;
    // A reference into the cache: nothing below publishes through imports
    // again (one level deep), so the cache is not touched while we iterate.
    for (const import_target& t : import_targets(acct, msg.subject)) {
        if (!t.service) {
            message m = msg;
            m.subject = t.subject;
            delivered = publish_here(nullptr, a.stream_exports[t.route].importer, m) || delivered;
            continue;
        }
        const auth::service_route& r = a.service_imports[t.route];
        const std::string& mapped = t.subject;
        const std::string reply = msg.reply.empty() ? std::string() : service_reply(r, acct, msg.reply);
        // Responders learn who asks (nats-server's Nats-Request-Info header,
        // after the request's own headers; header-less clients never see it).
        std::string info = "Nats-Request-Info: {\"acc\":";
        util::append_json_string(info, a.name);
        info += ",\"rtt\":" + std::to_string(from ? from->rtt.count() : 0) + "}\r\n\r\n";
        std::string payload;
        if (msg.header_size >= 4) {
            payload.assign(msg.payload.substr(0, msg.header_size - 2));
        } else {
            payload = "NATS/1.0\r\n";
        }
        payload += info;
        const auto header_size = static_cast<std::uint32_t>(payload.size());
        payload.append(msg.payload.substr(msg.header_size));
        message m = msg;
        m.subject = mapped;
        m.reply = reply;
        m.payload = payload;
        m.header_size = header_size;
        m.size_text = {};
        m.header_size_text = {};
        // Nobody to answer: forget the mapping now (nats-server's
        // rsiNoDelivery), so unanswerable requests cannot pile up.
        if (!publish_here(nullptr, r.exporter, m) && !reply.empty()) service_replies_.erase(reply);
        // As in nats-server, the import itself is a subscriber: a requester
        // gets no 503 even when the exporting account has no responder.
        delivered = true;
    }
    return delivered;
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
std::string shard::service_reply(const auth::service_route& r, auth::account_id importer,
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
        space(r.exporter).trie.insert(s->subject, {}, s.get());
        change_interest(r.exporter, s->subject, {}, +1);
        internal_subs_.push_back(std::move(s));
    }
    const clock::time_point now = clock::now();
    if (service_replies_.size() >= k_max_pending_replies) {
        expire_service_replies(now);
        if (service_replies_.size() >= k_max_pending_replies) {
            // Bounded memory: past the cap a request crosses without a reply
            // subject (its requester times out) until answers drain the table.
            if (!reply_cap_warned_)
                LOG_WRN("shard %u: %zu service requests await responses; new requests cross without a "
                        "reply until some are answered or expire",
                        id_, service_replies_.size());
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
void shard::on_service_reply(const message& m) {
    auto it = service_replies_.find(m.subject);
    if (it == service_replies_.end()) return; // answered already, expired or forged
    if (clock::now() > it->second.expires) {
        service_replies_.erase(it);
        return;
    }
    const pending_reply p = it->second;
    // nats-server's processServiceImport: a singleton takes one response; any
    // response ends on an empty message (no headers, no body) or on one that
    // reaches nobody; otherwise each response restarts the threshold.
    const bool ends = p.type == config::response_type::singleton || m.payload.empty();
    if (ends)
        service_replies_.erase(it);
    else
        it->second.expires = clock::now() + p.threshold;
    message back = m;
    back.subject = p.reply;
    back.reply = {}; // the responder's subjects mean nothing in the requester's account
    const std::string token(m.subject); // publishing may rehash the table: erase by key
    if (!publish_here(nullptr, p.importer, back) && !ends) service_replies_.erase(token);
}

void shard::expire_service_replies(clock::time_point now) {
    std::erase_if(service_replies_, [now](const auto& kv) { return now > kv.second.expires; });
}

void shard::forward(unsigned t, auth::account_id acct, const message& m, bool plain,
                    const std::vector<std::string_view>& queues, std::uint8_t hops) {
    message_header h{static_cast<std::uint32_t>(m.payload.size()), m.header_size,
                     static_cast<std::uint32_t>(m.subject.size()),
                     static_cast<std::uint32_t>(m.reply.size()),
                     static_cast<std::uint32_t>(queues.size()),
                     static_cast<std::uint8_t>(plain),
                     static_cast<std::uint8_t>(m.size_text.size()),
                     static_cast<std::uint8_t>(m.header_size_text.size()),
                     hops,
                     acct};
    scratch_.clear();
    put(scratch_, h);
    scratch_.append(m.subject);
    scratch_.append(m.reply);
    scratch_.append(m.size_text);
    scratch_.append(m.header_size_text);
    for (auto q : queues) {
        put(scratch_, static_cast<std::uint32_t>(q.size()));
        scratch_.append(q);
    }
    scratch_.append(m.payload);
    push_record(t, rec_message, scratch_);
}

// A queue message reached this shard after its last member here left (the
// sender's interest map was a delta behind): pick another shard that still
// has members, so the group still gets it exactly once. Bounded by `hops`.
void shard::reroute_queues(auth::account_id acct, const message& m,
                           const std::vector<std::string_view>& groups, std::uint8_t hops) {
    const subjects::interest_result& ir = space(acct).interest.lookup(m.subject);
    std::vector<std::vector<std::string_view>> per_shard;
    for (std::string_view name : groups) {
        for (const subjects::queue_interest& q : ir.queues) {
            if (q.name != name) continue;
            subjects::queue_interest others{q.name, {}, 0};
            for (const auto& w : q.weights)
                if (w.shard != id_) {
                    others.weights.push_back(w);
                    others.total += w.weight;
                }
            const int t = subjects::pick_queue_shard(others, rng_());
            if (t >= 0) {
                if (per_shard.empty()) per_shard.resize(nshards_);
                per_shard[static_cast<unsigned>(t)].push_back(name);
            }
            break;
        }
    }
    for (unsigned t = 0; t < per_shard.size(); ++t)
        if (!per_shard[t].empty()) forward(t, acct, m, false, per_shard[t], hops);
}

// Delivers to this shard's subscribers. `plain` selects plain subscribers;
// `queues` lists the groups this shard must serve (one member each).
bool shard::deliver_local(client_connection* from, auth::account_id acct, const message& msg,
                          bool plain, const std::vector<std::string_view>& queues,
                          std::vector<std::string_view>* missed) {
    const subjects::match_result& m = space(acct).trie.match(msg.subject);
    // Collect first: delivering can auto-unsubscribe, which changes the trie
    // and invalidates `m`. The vector is the shard's, reused: no allocation
    // per message.
    std::vector<subscription*> targets;
    targets.swap(targets_scratch_);
    targets.clear();
    if (plain) {
        for (subjects::sub_handle h : m.plain) {
            auto* s = static_cast<subscription*>(const_cast<void*>(h));
            if (from && s->conn == from && !from->opts.echo) continue;
            targets.push_back(s);
        }
    }
    for (std::string_view qn : queues) {
        bool served = false;
        for (const subjects::queue_group_result& g : m.queues) {
            if (g.name != qn || g.members.empty()) continue;
            // Random member, skipping the publisher's own when echo is off.
            const std::size_t n = g.members.size();
            std::size_t start = static_cast<std::size_t>(rng_() % n);
            for (std::size_t k = 0; k < n; ++k) {
                auto* s = static_cast<subscription*>(const_cast<void*>(g.members[(start + k) % n]));
                if (from && s->conn == from && !from->opts.echo) continue;
                targets.push_back(s);
                served = true;
                break;
            }
            break;
        }
        if (!served && missed) missed->push_back(qn);
    }
    for (subscription* s : targets) deliver(s, msg);
    const bool any = !targets.empty();
    targets_scratch_.swap(targets);
    return any;
}

void shard::deliver(subscription* s, const message& m) {
    if (!s->conn) {
        on_service_reply(m);
        return;
    }
    client_connection& c = *s->conn;
    if (c.closed || c.close_after_flush) return;
    // A wildcard subscription never receives what a deny clause forbids.
    if (c.deny_filter && c.perms->delivery_denied(m.subject)) return;
    const bool headers = c.opts.headers;
    char hdr[64 + 2 * 256];
    std::string big;
    char* out = hdr;
    const std::size_t bound = protocol::msg_header_bound(m.subject, s->sid, m.reply);
    if (bound > sizeof hdr) {
        big.resize(bound);
        out = big.data();
    }
    const protocol::delivery d = protocol::write_delivery(
        out, headers, m.subject, s->sid, m.reply, m.payload, m.header_size, m.size_text,
        m.header_size_text);
    const std::size_t bytes = d.header_len + d.body.size() + 2;
    // Slow consumer: the outbound queue may not pass max_pending. The
    // subscriber is cut; the publisher never waits.
    if (c.pending_bytes() + bytes > static_cast<std::size_t>(cfg_.max_pending)) {
        LOG_WRN("%s:%d - cid:%llu - Slow Consumer Detected: MaxPending of %lld Exceeded", c.ip.c_str(),
                c.port, static_cast<unsigned long long>(c.cid),
                static_cast<long long>(cfg_.max_pending));
        stats_.slow_consumers.add(1);
        close_connection(c, "Slow Consumer (Pending Bytes)", true);
        return;
    }
    c.out.append(out, d.header_len);
    c.out.append(d.body);
    c.out.append(protocol::k_crlf);
    if (m.sampled_at != clock::time_point{} && c.sample_start == clock::time_point{})
        c.sample_start = m.sampled_at;
    if (!c.dirty) {
        c.dirty = true;
        dirty_.push_back(&c);
    }
    ++c.out_msgs;
    c.out_bytes += d.body.size();
    stats_.out_msgs.add(1);
    stats_.out_bytes.add(d.body.size());
    if (c.perms && c.perms->responses() && !m.reply.empty()) note_reply(c, m.reply);
    ++s->delivered;
    if (s->max > 0 && s->delivered >= static_cast<std::uint64_t>(s->max)) remove_subscription(c, s);
}

void shard::change_interest(auth::account_id acct, std::string_view subject, std::string_view queue,
                            int delta) {
    subjects::interest_map& interest = space(acct).interest;
    // This shard's own count lives in its copy of the interest map.
    std::uint32_t count = interest.count(static_cast<std::uint16_t>(id_), subject, queue);
    count = delta > 0 ? count + 1 : (count ? count - 1 : 0);
    // Absolute counts: every shard (this one included) converges on the same
    // map whatever the interleaving of shards' deltas.
    subjects::interest_delta d{static_cast<std::uint16_t>(id_), std::string(subject),
                               std::string(queue), count};
    interest.apply(d);
    std::string body;
    put(body, interest_header{count, acct, static_cast<std::uint16_t>(id_),
                              static_cast<std::uint32_t>(subject.size()),
                              static_cast<std::uint32_t>(queue.size())});
    body.append(subject);
    body.append(queue);
    for (unsigned t = 0; t < nshards_; ++t)
        if (t != id_) push_record(t, rec_interest, body);
}

// A full ring never blocks and never drops: records wait in a per-destination
// overflow queue (in order) and go out first on the next flush.
void shard::push_record(unsigned to, std::uint32_t type, std::string_view body) {
    rings::spsc_ring& r = srv_.shard_at(to).inbox(id_);
    if (body.size() > r.max_record()) {
        // Rings are sized for max_payload plus 64 KiB of fields; only a
        // pathological record (hundreds of long queue names) gets here. It
        // could never be sent and would wedge the pair: drop it, loudly.
        stats_.ring_dropped.add();
        LOG_ERR("shard %u: %zu-byte record for shard %u exceeds the ring's %zu-byte limit; dropped", id_,
                body.size(), to, r.max_record());
        return;
    }
    auto& of = overflow_[to];
    if (of.empty()) {
        ++sent_seq_[to];
        if (char* p = r.try_reserve(type, body.size())) {
            std::memcpy(p, body.data(), body.size());
            touched_[to] = true;
            stats_.ring_records_out.add(1);
            return;
        }
        stats_.ring_full.add(1);
    }
    if (!of.empty()) ++sent_seq_[to];
    std::string rec;
    rec.reserve(4 + body.size());
    put(rec, type);
    rec.append(body);
    overflow_bytes_ += rec.size();
    of.push_back(std::move(rec));
    pause_check();
}

void shard::pause_check() {
    const std::size_t high = 8 * cfg_.ring_bytes, low = cfg_.ring_bytes;
    if (!paused_ && overflow_bytes_ > high) {
        paused_ = true;
        LOG_DBG("shard %u: cross-shard overflow %zu bytes: pausing client input", id_, overflow_bytes_);
    } else if (paused_ && overflow_bytes_ < low) {
        paused_ = false;
        LOG_DBG("shard %u: overflow drained: resuming client input", id_);
    }
}

void shard::flush_rings() {
    for (unsigned t = 0; t < nshards_; ++t) {
        if (t == id_) continue;
        auto& of = overflow_[t];
        if (!of.empty()) {
            rings::spsc_ring& r = srv_.shard_at(t).inbox(id_);
            while (!of.empty()) {
                const std::string& rec = of.front();
                std::uint32_t type;
                std::memcpy(&type, rec.data(), 4);
                char* p = r.try_reserve(type, rec.size() - 4);
                if (!p) break;
                std::memcpy(p, rec.data() + 4, rec.size() - 4);
                overflow_bytes_ -= rec.size();
                of.pop_front();
                touched_[t] = true;
                stats_.ring_records_out.add(1);
            }
        }
        if (paused_) pause_check();
        if (!touched_[t]) continue;
        touched_[t] = false;
        srv_.shard_at(t).inbox(id_).publish();
        // Pairs with the sleeper's seq_cst store of its flag: either it sees
        // our records on its re-check, or we see it asleep and wake it.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        shard& target = srv_.shard_at(t);
        if (target.sleeping_.load(std::memory_order_relaxed)) {
            target.wake();
            stats_.wakeups_sent.add(1);
        }
    }
}

// True once every other shard has processed every record this shard had
// sent it when `target` was taken: deliveries are in the subscribers' output
// queues and interest deltas are in effect.
bool shard::peers_caught_up(const std::vector<std::uint64_t>& target) const noexcept {
    for (unsigned t = 0; t < nshards_; ++t)
        if (t != id_ && srv_.shard_at(t).consumed_from_[id_].load(std::memory_order_acquire) < target[t])
            return false;
    return true;
}

bool shard::rings_pending() const noexcept {
    for (unsigned p = 0; p < nshards_; ++p)
        if (p != id_ && !inbox_[p]->empty()) return true;
    for (unsigned t = 0; t < nshards_; ++t)
        if (t != id_ && !overflow_[t].empty()) return true;
    return false;
}

bool shard::drain_inboxes() {
    bool any = false;
    for (unsigned p = 0; p < nshards_; ++p) {
        if (p == id_) continue;
        const std::size_t n =
            inbox_[p]->drain([this](rings::spsc_ring::record r) { on_record(r.type, r.body); });
        if (n) {
            any = true;
            consumed_count_[p] += n;
            consumed_from_[p].store(consumed_count_[p], std::memory_order_release);
        }
    }
    return any;
}

void shard::on_record(std::uint32_t type, std::string_view body) {
    const char* p = body.data();
    if (type == rec_interest) {
        interest_header h;
        std::memcpy(&h, p, sizeof h);
        p += sizeof h;
        subjects::interest_delta d{h.shard, std::string(p, h.pattern_len),
                                   std::string(p + h.pattern_len, h.queue_len), h.count};
        if (h.account < spaces_.size()) space(h.account).interest.apply(d);
        return;
    }
    if (type != rec_message) return;
    message_header h;
    std::memcpy(&h, p, sizeof h);
    p += sizeof h;
    std::string_view subject(p, h.subject_len);
    p += h.subject_len;
    std::string_view reply(p, h.reply_len);
    p += h.reply_len;
    std::string_view size_text(p, h.size_text_len);
    p += h.size_text_len;
    std::string_view header_size_text(p, h.header_size_text_len);
    p += h.header_size_text_len;
    std::vector<std::string_view> queues;
    for (unsigned i = 0; i < h.nqueues; ++i) {
        std::uint32_t len;
        std::memcpy(&len, p, sizeof len);
        queues.emplace_back(p + sizeof len, len);
        p += sizeof len + len;
    }
    const message msg{subject, reply, std::string_view(p, h.payload_len), h.header_size, size_text,
                      header_size_text, take_sample() ? clock::now() : clock::time_point{}};
    if (h.account >= spaces_.size()) return;
    std::vector<std::string_view> missed;
    deliver_local(nullptr, h.account, msg, h.plain != 0, queues, &missed);
    if (!missed.empty() && h.hops + 1u < nshards_)
        reroute_queues(h.account, msg, missed, static_cast<std::uint8_t>(h.hops + 1));
}

} // namespace natrix::broker
