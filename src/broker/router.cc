// The publish path within and across shards: local fan-out through the
// account's trie, remote fan-out through its replicated interest map, queue
// picks that are exactly-once server-wide, and the interest deltas that keep
// every shard's map equal.
#include <algorithm>

#include <natrix/broker/router.hh>
#include <natrix/subjects/subject.hh>
#include <natrix/util/json_string.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

router::router(unsigned shard, unsigned nshards, std::shared_ptr<const auth::account_set> accounts,
               outbox& out, std::uint64_t seed)
    : shard_(shard)
    , nshards_(nshards)
    , shard_mask_(nshards >= 64 ? ~0ull : (1ull << nshards) - 1)
    , out_(out)
    , rng_(seed)
    , imports_(shard,
               accounts ? std::move(accounts) : std::make_shared<const auth::account_set>()) {
    for (std::size_t a = 0; a < imports_.accounts().size(); ++a)
        spaces_.push_back(std::make_unique<account_space>());
}

void router::set_accounts(std::shared_ptr<const auth::account_set> accounts) {
    imports_.set_accounts(std::move(accounts));
}

void router::expire(clock::time_point now) {
    imports_.expire(now);
}

subjects::trie_stats router::subscription_stats() const noexcept {
    subjects::trie_stats t;
    for (const auto& sp : spaces_) t += sp->trie.stats();
    return t;
}

publish_result router::publish(const publisher& from, auth::account_id acct, const message& m) {
    publish_result r = publish_here(from, acct, m);
    if (imports_.accounts().any_routes()) {
        const publish_result i = publish_imports(from, acct, m);
        r.delivered = r.delivered || i.delivered;
        r.crossed = r.crossed || i.crossed;
        r.told_rtt = i.told_rtt;
    }
    if (!expired_.empty()) retire_expired();
    return r;
}

// Delivery within one account: this shard's subscribers, then the shards
// and routes whose interest the replicated map shows.
publish_result router::publish_here(const publisher& from, auth::account_id acct, const message& m,
                                    scope where, const std::vector<std::string_view>* named) {
    const bool to_routes = where == scope::cluster || where == scope::gateway;
    const bool to_gateways = where == scope::cluster && gateway_mask_ != 0;
    const bool only_named = where == scope::routed || where == scope::gateway;
    // Queue picks: this server's shards for a routed message; this cluster
    // (shards and routes) otherwise. A gateway serves a group only when
    // nobody in this cluster has it (brief §2.5).
    const std::uint16_t pick_below = where == scope::routed ? static_cast<std::uint16_t>(nshards_)
                                     : gateway_mask_        ? gateway_base
                                                            : subjects::max_shards;
    publish_result res;
    subjects::interest_map& interest = space(acct).interest;
    if (interest.entries() == 0) return res; // nobody subscribes in this account at all
    const subjects::interest_result& ir = interest.lookup(m.subject);
    const std::uint64_t self = 1ull << shard_;
    // Queue groups: one shard or route per group, by member weight
    // (cluster-wide exactly-once); that shard then picks the member. A
    // routed message serves only the groups it names, from this server.
    std::vector<std::string_view> local_queues;
    std::vector<std::vector<std::string_view>> remote_queues;
    std::vector<route_target> to_links; // allocates only when a route or gateway is picked
    std::uint64_t queue_targets = 0;
    for (const subjects::queue_interest& q : ir.queues) {
        if (only_named && named && std::find(named->begin(), named->end(), q.name) == named->end())
            continue;
        int s = subjects::pick_queue_shard(q, rng_(), pick_below);
        if (s < 0 && to_gateways) // the first gateway that has the group
            for (const auto& w : q.weights)
                if (w.shard >= gateway_base) {
                    s = w.shard;
                    break;
                }
        if (s < 0) continue;
        if (static_cast<unsigned>(s) == shard_) {
            local_queues.push_back(q.name);
        } else if (static_cast<unsigned>(s) >= nshards_) {
            auto it = std::find_if(to_links.begin(), to_links.end(),
                                   [s](const route_target& t) { return t.route == s; });
            if (it == to_links.end())
                it = to_links.insert(to_links.end(),
                                     route_target{static_cast<std::uint16_t>(s), {}});
            it->queues.push_back(q.name);
        } else {
            if (remote_queues.empty()) remote_queues.resize(nshards_);
            remote_queues[static_cast<unsigned>(s)].push_back(q.name);
            queue_targets |= 1ull << s;
        }
    }
    const std::uint64_t plain_shards = ir.shards & shard_mask_;
    if ((plain_shards & self) || !local_queues.empty()) {
        std::vector<std::string_view> missed;
        res.delivered = deliver_local(from, acct, m, plain_shards & self, local_queues, &missed);
        // No member here took it (the publisher's own with echo off, a deny
        // filter): another shard's member may.
        if (!missed.empty() && nshards_ > 1 && reroute_queues(acct, m, missed, 1))
            res.delivered = res.crossed = true;
    }

    std::uint64_t remote = (plain_shards & ~self) | queue_targets;
    while (remote) {
        const unsigned t = static_cast<unsigned>(__builtin_ctzll(remote));
        remote &= remote - 1;
        static const std::vector<std::string_view> none;
        forward(t, acct, m, (plain_shards >> t) & 1,
                remote_queues.empty() ? none : remote_queues[t], 0);
        res.delivered = res.crossed = true;
    }
    // Routes: one hop only, so never for a routed message. Gateways: only
    // for what this server's own clients publish. One RMSG per link, with
    // the groups it was picked for.
    if (!to_routes) return res;
    std::uint64_t plain_links = ir.shards & ~shard_mask_ & ~gateway_mask_;
    if (to_gateways) plain_links |= ir.shards & gateway_mask_;
    for (const route_target& t : to_links) plain_links &= ~(1ull << t.route);
    static const std::vector<std::string_view> none;
    const auto send = [&](std::uint16_t id, const std::vector<std::string_view>& queues) {
        res.delivered = true;
        if (!((gateway_mask_ >> id) & 1) || m.reply.empty() || !map_reply(acct, m.reply)) {
            out_.to_route(id, acct, m, queues);
            return;
        }
        // A fresh reply subscription (an _INBOX) whose interest may not have
        // reached that cluster yet: the reply comes back by the _GR_ prefix.
        mapped_reply_.assign(reply_prefix_).append(m.reply);
        message mapped = m;
        mapped.reply = mapped_reply_;
        out_.to_route(id, acct, mapped, queues);
    };
    while (plain_links) {
        const auto r = static_cast<std::uint16_t>(__builtin_ctzll(plain_links));
        plain_links &= plain_links - 1;
        send(r, none);
    }
    for (const route_target& t : to_links) send(t.route, t.queues);
    return res;
}

publish_result router::publish_from_gateway(auth::account_id acct, const message& m,
                                            const std::vector<std::string_view>& queues) {
    if (acct >= spaces_.size()) return {};
    publish_result r = publish_here(publisher{}, acct, m, scope::gateway, &queues);
    if (imports_.accounts().any_routes()) {
        const publish_result i = publish_imports(publisher{}, acct, m, true);
        r.delivered = r.delivered || i.delivered;
    }
    if (!expired_.empty()) retire_expired();
    return r;
}

void router::enable_gateways(std::string reply_prefix) {
    reply_prefix_ = std::move(reply_prefix);
    gateway_mask_ = ~0ull << gateway_base;
    for (std::size_t a = 0; a < spaces_.size(); ++a)
        spaces_[a]->interest.observe_cluster(
            gateway_base, [this, a](std::string_view p, std::string_view q, bool present) {
                out_.cluster_interest(static_cast<std::uint16_t>(a), p, q, present);
            });
}

void router::announce_link(std::uint16_t id, bool gateway, std::string_view hash) {
    set_link_hash(id, gateway, hash);
    if (nshards_ > 1) out_.announce_link(ring_record::link_record{id, gateway, hash});
}

void router::set_link_hash(std::uint16_t id, bool gateway, std::string_view hash) {
    std::vector<hash_id>& table = gateway ? gateway_hashes_ : route_hashes_;
    std::erase_if(table, [&](const hash_id& h) { return h.id == id || h.hash == hash; });
    if (!hash.empty()) table.push_back({std::string(hash), id});
}

std::uint16_t router::gateway_for_hash(std::string_view cluster_hash) const noexcept {
    for (const hash_id& h : gateway_hashes_)
        if (h.hash == cluster_hash) return h.id;
    return 0;
}

std::uint16_t router::route_for_hash(std::string_view server_hash) const noexcept {
    for (const hash_id& h : route_hashes_)
        if (h.hash == server_hash) return h.id;
    return 0;
}

bool router::publish_gateway_reply(auth::account_id acct, const message& m) {
    // m.subject is "_GR_.<cluster hash>.<server hash>.<reply>".
    const std::uint16_t id = gateway_for_hash(m.subject.substr(5, 6));
    if (!id) return false;
    static const std::vector<std::string_view> none;
    out_.to_route(id, acct, m, none);
    return true;
}

void router::note_recent_sub(auth::account_id acct, std::string_view pattern) {
    const clock::time_point now = clock::now();
    while (!recent_subs_.empty() && recent_subs_.front().until <= now) recent_subs_.pop_front();
    if (recent_subs_.size() >= 4096) recent_subs_.pop_front();
    recent_subs_.push_back({acct, std::string(pattern), now + std::chrono::seconds(2)});
}

bool router::map_reply(auth::account_id acct, std::string_view reply) {
    if (recent_subs_.empty()) return false;
    const clock::time_point now = clock::now();
    while (!recent_subs_.empty() && recent_subs_.front().until <= now) recent_subs_.pop_front();
    for (const recent_sub& r : recent_subs_)
        if (r.account == acct && subjects::subject_matches(r.pattern, reply)) return true;
    return false;
}

publish_result router::publish_routed(auth::account_id acct, const message& m,
                                      const std::vector<std::string_view>& queues) {
    if (acct >= spaces_.size()) return {};
    publish_result r = publish_here(publisher{}, acct, m, scope::routed, &queues);
    // Stream imports from this account reach this server's importers here
    // (the publisher's node imported for its own subscribers only).
    if (imports_.accounts().any_routes()) {
        const publish_result i = publish_imports(publisher{}, acct, m, true);
        r.delivered = r.delivered || i.delivered;
    }
    if (!expired_.empty()) retire_expired();
    return r;
}

void router::enable_cluster() {
    for (std::size_t a = 0; a < spaces_.size(); ++a)
        spaces_[a]->interest.observe_local(static_cast<std::uint16_t>(nshards_),
                                           [this, a](std::string_view p, std::string_view q,
                                                     std::uint32_t before, std::uint32_t after) {
                                               out_.local_interest(static_cast<std::uint16_t>(a), p,
                                                                   q, before, after);
                                           });
}

void router::set_route_interest(auth::account_id acct, std::uint16_t route,
                                std::string_view pattern, std::string_view queue,
                                std::uint32_t count) {
    if (acct >= spaces_.size()) return;
    space(acct).interest.apply(
        subjects::interest_delta{route, std::string(pattern), std::string(queue), count});
    if (nshards_ > 1)
        out_.announce(ring_record::interest_record{acct, route, count, pattern, queue});
}

// Delivers to this shard's subscribers. `plain` selects plain subscribers;
// `queues` lists the groups this shard must serve: one member each, the
// first (from a random start) that takes it, as nats-server tries members
// until one accepts (a member refused by echo, a deny filter or a closing
// session does not lose the message). Groups no member here took are added
// to `missed`.
bool router::deliver_local(const publisher& from, auth::account_id acct, const message& m,
                           bool plain, const std::vector<std::string_view>& queues,
                           std::vector<std::string_view>* missed) {
    const subjects::match_result& match = space(acct).trie.match(m.subject);
    // Copy first: delivering can auto-unsubscribe, which changes the trie
    // and invalidates `match`. The vectors are the router's, reused: no
    // allocation per message once they have grown.
    std::vector<subscription*> targets;
    targets.swap(targets_scratch_);
    targets.clear();
    std::vector<std::size_t> group_end; // candidates of group i end at group_end[i]
    group_end.swap(group_scratch_);
    group_end.clear();
    const auto skip = [&](const subscription* s) {
        return from.conn && s->owner == from.conn && !from.echo;
    };
    std::size_t nplain = 0;
    if (plain) {
        for (subjects::sub_handle h : match.plain) {
            auto* s = static_cast<subscription*>(const_cast<void*>(h));
            if (!skip(s)) targets.push_back(s);
        }
        nplain = targets.size();
    }
    for (std::string_view qn : queues) {
        for (const subjects::queue_group_result& g : match.queues) {
            if (g.name != qn || g.members.empty()) continue;
            const std::size_t n = g.members.size();
            const std::size_t start = static_cast<std::size_t>(rng_() % n);
            for (std::size_t k = 0; k < n; ++k) {
                auto* s = static_cast<subscription*>(const_cast<void*>(g.members[(start + k) % n]));
                if (!skip(s)) targets.push_back(s);
            }
            break;
        }
        group_end.push_back(targets.size());
    }
    bool any = false;
    for (std::size_t i = 0; i < nplain; ++i) any = deliver(acct, targets[i], m) || any;
    std::size_t begin = nplain;
    for (std::size_t q = 0; q < queues.size(); ++q) {
        bool served = false;
        for (std::size_t i = begin; i < group_end[q] && !served; ++i)
            served = deliver(acct, targets[i], m);
        begin = group_end[q];
        any = any || served;
        if (!served && missed) missed->push_back(queues[q]);
    }
    targets_scratch_.swap(targets);
    group_scratch_.swap(group_end);
    return any;
}

// True when the subscriber took it (a service reply counts as taken).
bool router::deliver(auth::account_id acct, subscription* s, const message& m) {
    if (!s->owner) {
        on_service_reply(m);
        return true;
    }
    // Reached its maximum earlier in this publish, not yet removed.
    if (s->max > 0 && s->delivered >= static_cast<std::uint64_t>(s->max)) return false;
    if (!out_.deliver(*s, m)) return false;
    ++s->delivered;
    if (s->max > 0 && s->delivered >= static_cast<std::uint64_t>(s->max))
        expired_.push_back({acct, s});
    return true;
}

// Subscriptions that reached their maximum leave after the publish is done:
// removing one changes the interest map, whose queue names the publish still
// holds views of.
void router::retire_expired() {
    std::vector<expiry> done;
    done.swap(expired_);
    for (const expiry& e : done) {
        unsubscribe(e.account, e.sub);
        out_.expired(*e.sub);
    }
}

void router::forward(unsigned to, auth::account_id acct, const message& m, bool plain,
                     const std::vector<std::string_view>& queues, std::uint8_t hops) {
    ring_record::message_record& r = record_scratch_;
    r.account = acct;
    r.plain = plain;
    r.hops = hops;
    r.route = 0;
    r.msg = m;
    r.queues = queues;
    out_.forward(to, r);
}

// A queue message reached this shard after its last member here left (the
// sender's interest map was a delta behind): pick another shard that still
// has members, so the group still gets it exactly once. Bounded by `hops`.
bool router::reroute_queues(auth::account_id acct, const message& m,
                            const std::vector<std::string_view>& groups, std::uint8_t hops) {
    const subjects::interest_result& ir = space(acct).interest.lookup(m.subject);
    std::vector<std::vector<std::string_view>> per_shard;
    for (std::string_view name : groups) {
        for (const subjects::queue_interest& q : ir.queues) {
            if (q.name != name) continue;
            subjects::queue_interest others{q.name, {}, 0};
            for (const auto& w : q.weights)
                if (w.shard != shard_ && w.shard < nshards_) {
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
    bool sent = false;
    for (unsigned t = 0; t < per_shard.size(); ++t)
        if (!per_shard[t].empty()) {
            forward(t, acct, m, false, per_shard[t], hops);
            sent = true;
        }
    return sent;
}

void router::subscribe(auth::account_id acct, subscription* s) {
    space(acct).trie.insert(s->subject, s->queue, s);
    if (gateway_mask_ && s->owner) note_recent_sub(acct, s->subject);
    change_interest(acct, s->subject, s->queue, +1);
}

void router::unsubscribe(auth::account_id acct, subscription* s) {
    space(acct).trie.remove(s->subject, s->queue, s);
    change_interest(acct, s->subject, s->queue, -1);
}

void router::change_interest(auth::account_id acct, std::string_view subject,
                             std::string_view queue, int delta) {
    // This shard's own count lives in its copy of the interest map.
    const std::uint32_t count =
        space(acct).interest.adjust(static_cast<std::uint16_t>(shard_), subject, queue, delta);
    if (nshards_ > 1)
        out_.announce(ring_record::interest_record{acct, static_cast<std::uint16_t>(shard_), count,
                                                   subject, queue});
}

publish_result router::publish_imports(const publisher& from, auth::account_id acct,
                                       const message& msg, bool streams_only) {
    const auth::account& a = imports_.accounts().at(acct);
    publish_result res;
    if (a.stream_exports.empty() && a.service_imports.empty()) return res;
    const auto add = [&res](publish_result r) {
        res.delivered = res.delivered || r.delivered;
        res.crossed = res.crossed || r.crossed;
        res.told_rtt = res.told_rtt || r.told_rtt;
        return r.delivered;
    };
    // A reference into the table's cache: nothing below publishes through
    // imports again, so the cache is not touched while we iterate.
    for (const import_table::target& t : imports_.targets(acct, msg.subject)) {
        if (!t.service) {
            message m = msg;
            m.subject = t.subject;
            add(publish_here(publisher{}, a.stream_exports[t.route].importer, m, scope::server));
            continue;
        }
        if (streams_only) continue;
        const auth::service_route& r = a.service_imports[t.route];
        const std::string reply =
            msg.reply.empty() ? std::string() : service_reply(r, acct, msg.reply);
        // Responders learn who asks (nats-server's Nats-Request-Info header,
        // after the request's own headers; header-less clients never see it).
        std::string info = "Nats-Request-Info: {\"acc\":";
        util::append_json_string(info, a.name);
        info += ",\"rtt\":" + std::to_string(from.rtt.count()) + "}\r\n\r\n";
        res.told_rtt = true;
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
        if (!add(publish_here(publisher{}, r.exporter, m)) && !reply.empty())
            imports_.forget(reply);
        // As in nats-server, the import itself is a subscriber: a requester
        // gets no 503 even when the exporting account has no responder.
        res.delivered = true;
    }
    return res;
}

// A private reply subject in the exporter's account that leads back to the
// requester's reply in its own account. The first request into an account
// from this shard subscribes to every reply under our prefix there.
std::string router::service_reply(const auth::service_route& r, auth::account_id importer,
                                  std::string_view reply) {
    bool created = false;
    const std::string& prefix = imports_.reply_prefix(r.exporter, rng_, &created);
    if (created) {
        auto s = std::make_unique<subscription>();
        s->subject = prefix + ">";
        s->sid = "_R_";
        subscribe(r.exporter, s.get());
        internal_subs_.push_back(std::move(s));
    }
    return imports_.map_reply(prefix, r, importer, reply, rng_);
}

// A response reached one of our _R_ subscriptions: deliver it to the
// requester's reply subject in the requester's account.
void router::on_service_reply(const message& m) {
    const auto route = imports_.route_response(m.subject, m.payload.empty());
    if (!route) return; // answered already, expired or forged
    message back = m;
    back.subject = route->reply;
    back.reply = {}; // the responder's subjects mean nothing in the requester's account
    const std::string token(m.subject);
    // A response that reaches nobody ends the mapping too.
    if (!publish_here(publisher{}, route->importer, back).delivered && !route->final)
        imports_.forget(token);
}

void router::on_record(std::uint32_t type, std::string_view body, clock::time_point sampled_at) {
    if (type == ring_record::interest_type) {
        ring_record::interest_record r;
        if (!ring_record::decode(body, r) || r.account >= spaces_.size()) return;
        space(r.account).interest.apply(subjects::interest_delta{r.shard, std::string(r.pattern),
                                                                 std::string(r.queue), r.count});
        if (r.count == 0) ++remote_interest_drops_;
        return;
    }
    if (type == ring_record::link_type) {
        ring_record::link_record r;
        if (ring_record::decode(body, r)) set_link_hash(r.id, r.gateway, r.hash);
        return;
    }
    if (type != ring_record::message_type) return;
    ring_record::message_record r;
    if (!ring_record::decode(body, r) || r.account >= spaces_.size()) return;
    if (r.route) { // a publish on another shard picked a route this shard holds
        out_.to_route(r.route, r.account, r.msg, r.queues);
        return;
    }
    r.msg.sampled_at = sampled_at;
    std::vector<std::string_view> missed;
    deliver_local(publisher{}, r.account, r.msg, r.plain, r.queues, &missed);
    if (!missed.empty() && r.hops + 1u < nshards_)
        reroute_queues(r.account, r.msg, missed, static_cast<std::uint8_t>(r.hops + 1));
    if (!expired_.empty()) retire_expired();
}

} // namespace natrix::broker
