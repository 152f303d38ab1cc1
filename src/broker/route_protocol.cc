// The route half of the protocol on a shard: RS+/RS- into the replicated
// interest, RMSG/HMSG into the router as routed publishes (never on to
// another route), and our interest and messages out as nats-server writes
// them.
#include <algorithm>
#include <charconv>
#include <cstring>

#include <natrix/broker/gateway_hash.hh>
#include <natrix/broker/loop.hh>
#include <natrix/broker/protocol_trace.hh>
#include <natrix/broker/route_protocol.hh>
#include <natrix/broker/session_actions.hh>
#include <natrix/subjects/subject.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

namespace {

// Larger than any control line a sane peer sends (2.9.10 sets no limit on
// routes; 2.11.17+ sets 16 × max_control_line): past this the route closes.
constexpr std::size_t max_route_line = 1 << 20;

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}
bool op_is(std::string_view op, std::string_view want) {
    if (op.size() != want.size()) return false;
    for (std::size_t i = 0; i < op.size(); ++i)
        if (lower(op[i]) != want[i]) return false;
    return true;
}
void split(std::string_view line, std::vector<std::string_view>& out) {
    out.clear();
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        const std::size_t b = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > b) out.push_back(line.substr(b, i - b));
    }
}
// Do two patterns match a common subject?
bool patterns_intersect(std::string_view a, std::string_view b) {
    subjects::token_list ta, tb;
    ta.split(a);
    tb.split(b);
    std::size_t i = 0;
    for (; i < ta.size() && i < tb.size(); ++i) {
        if (ta[i] == ">" || tb[i] == ">") return true;
        if (ta[i] != "*" && tb[i] != "*" && ta[i] != tb[i]) return false;
    }
    return ta.size() == tb.size();
}

// The exporter-side pattern a subscription `p` in the importer stands for,
// through stream import `r` (empty: none). Exact for identity and prefix
// imports; otherwise the whole export (more traffic, never less).
std::string shadow_pattern(std::string_view p, const auth::stream_route& r) {
    const std::string local = r.map.apply(r.subject);
    if (subjects::is_subset_match(p, local)) {
        if (r.map.identity()) return std::string(p);
        if (local.size() > r.subject.size() &&
            std::string_view(local).substr(local.size() - r.subject.size()) == r.subject) {
            const std::size_t prefix = local.size() - r.subject.size();
            if (p.size() > prefix &&
                p.substr(0, prefix) == std::string_view(local).substr(0, prefix))
                return std::string(p.substr(prefix));
        }
        return r.subject;
    }
    if (subjects::is_subset_match(local, p) || patterns_intersect(local, p)) return r.subject;
    return {};
}

bool to_size(std::string_view t, std::size_t& v) {
    if (t.empty() || t.size() > 12) return false;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    return ec == std::errc() && p == t.data() + t.size();
}

} // namespace

route_protocol::route_protocol(unsigned shard, unsigned nshards, const broker_config& cfg,
                               session_table& sessions, router& routes, flow_control& flow,
                               shard_stats& stats)
    : shard_(shard)
    , nshards_(nshards)
    , cfg_(cfg)
    , sessions_(sessions)
    , router_(routes)
    , flow_(flow)
    , stats_(stats) {}

int route_protocol::allocate_id(link_kind kind) {
    if (kind == link_kind::gateway_in) return 0;
    const unsigned base = kind == link_kind::route ? nshards_ : router::gateway_base;
    const unsigned limit = kind == link_kind::route && router_.gateways_enabled()
                               ? router::gateway_base
                               : subjects::max_shards;
    for (unsigned id = base; id < limit; ++id)
        if ((id - base) % nshards_ == shard_ && !by_id_[id]) return static_cast<int>(id);
    return -1;
}

void route_protocol::start(session& s, std::string_view leftover) {
    if (s.route->kind == link_kind::gateway_in) {
        start_inbound_gateway(s);
        sessions_.mark_for_flush(s);
        if (!leftover.empty()) on_input(s, leftover);
        return;
    }
    by_id_[s.route->id] = &s;
    if (router_.gateways_enabled())
        router_.announce_link(
            s.route->id, s.route->is_gateway(),
            gateway_hash(s.route->is_gateway() ? s.route->gateway : s.route->peer.server_id));
    if (s.route->kind == link_kind::gateway_out) { // it tells us; we tell it nothing
        if (!leftover.empty()) on_input(s, leftover);
        return;
    }
    // Our whole interest, in one write, before anything else we send: our
    // subscriptions, then the shadow interest no subscription covers already.
    router_.for_each_local_interest(
        [&](auth::account_id a, std::string_view pattern, std::string_view queue, std::uint32_t n) {
            write_interest(s, a, pattern, queue, n);
        });
    for (const auto& [key, n] : shadows_) {
        const std::size_t sp = key.find(' ');
        const auto a = static_cast<std::uint16_t>(std::stoul(key.substr(0, sp)));
        const std::string_view pattern = std::string_view(key).substr(sp + 1);
        if (router_.local_interest(a, pattern, {}) == 0) write_interest(s, a, pattern, {}, 1);
    }
    sessions_.mark_for_flush(s);
    if (!leftover.empty()) on_input(s, leftover);
}

void route_protocol::write_interest(session& s, std::uint16_t account, std::string_view pattern,
                                    std::string_view queue, std::uint32_t count) {
    std::string& q = s.out.queued;
    const std::size_t line_at = q.size();
    q += count ? "RS+ " : "RS- ";
    q += router_.accounts().at(account).name;
    q += ' ';
    q += pattern;
    if (!queue.empty()) {
        q += ' ';
        q += queue;
        if (count) {
            q += ' ';
            q += std::to_string(count);
        }
    }
    if (util::trace_enabled()) trace_route(s, false, std::string_view(q).substr(line_at));
    q += "\r\n";
}

void route_protocol::write_all(std::uint16_t account, std::string_view pattern,
                               std::string_view queue, std::uint32_t count) {
    for (session* s : by_id_) {
        if (!s || !s->is_open() || s->route->is_gateway()) continue;
        write_interest(*s, account, pattern, queue, count);
        sessions_.mark_for_flush(*s);
    }
}

void route_protocol::send_interest(std::uint16_t account, std::string_view pattern,
                                   std::string_view queue, std::uint32_t before,
                                   std::uint32_t after) {
    if ((before == 0) != (after == 0) && router_.accounts().any_routes())
        shadow(account, pattern, after ? +1 : -1);
    if (!queue.empty()) { // a queue's weight on every change
        write_all(account, pattern, queue, after);
        return;
    }
    // Plain interest on 0↔1 edges of what routes see: ours plus shadows.
    std::uint32_t extra = 0;
    if (!shadows_.empty()) {
        const auto it = shadows_.find(std::to_string(account) + " " + std::string(pattern));
        if (it != shadows_.end()) extra = it->second;
    }
    if ((before + extra == 0) != (after + extra == 0))
        write_all(account, pattern, {}, after + extra);
}

void route_protocol::shadow(std::uint16_t importer, std::string_view pattern, int delta) {
    const auth::account_set& accounts = router_.accounts();
    for (std::size_t a = 0; a < accounts.size(); ++a) {
        const auth::account& exporter = accounts.at(static_cast<auth::account_id>(a));
        for (const auth::stream_route& r : exporter.stream_exports) {
            if (r.importer != importer) continue;
            const std::string p = shadow_pattern(pattern, r);
            if (p.empty()) continue;
            const std::string key = std::to_string(a) + " " + p;
            std::uint32_t& n = shadows_[key];
            const std::uint32_t before = n;
            n = delta > 0 ? n + 1 : (n ? n - 1 : 0);
            const std::uint32_t after = n;
            if (after == 0) shadows_.erase(key);
            const std::uint32_t real =
                router_.local_interest(static_cast<auth::account_id>(a), p, {});
            if ((real + before == 0) != (real + after == 0))
                write_all(static_cast<std::uint16_t>(a), p, {}, after);
        }
    }
}

void route_protocol::send_msg(std::uint16_t route, std::uint16_t account, const message& m,
                              const std::vector<std::string_view>& queues) {
    session* s = find(route);
    if (!s || !s->is_open()) return;
    const bool hdr = m.header_size > 0 && s->route->peer.headers;
    std::string_view payload = m.payload;
    if (m.header_size > 0 && !hdr) payload.remove_prefix(m.header_size); // peer without headers
    std::string& q = s->out.queued;
    const std::size_t line_at = q.size();
    q += hdr ? "HMSG " : "RMSG ";
    q += router_.accounts().at(account).name;
    q += ' ';
    q += m.subject;
    if (!queues.empty()) {
        if (!m.reply.empty()) {
            q += " + ";
            q += m.reply;
        } else {
            q += " |";
        }
        for (std::string_view g : queues) {
            q += ' ';
            q += g;
        }
    } else if (!m.reply.empty()) {
        q += ' ';
        q += m.reply;
    }
    char num[24];
    if (hdr) {
        q += ' ';
        q.append(num, std::to_chars(num, num + sizeof num, m.header_size).ptr);
    }
    q += ' ';
    q.append(num, std::to_chars(num, num + sizeof num, payload.size()).ptr);
    if (util::trace_enabled()) trace_route(*s, false, std::string_view(q).substr(line_at));
    q += "\r\n";
    q += payload;
    q += "\r\n";
    ++s->counters.out_msgs;
    s->counters.out_bytes += payload.size();
    stats_.out_msgs.add(1);
    stats_.out_bytes.add(payload.size());
    if (m.sampled_at != clock::time_point{} && s->out.sample_start == clock::time_point{})
        s->out.sample_start = m.sampled_at;
    sessions_.mark_for_flush(*s);
    // Publishers feeding a route that falls behind wait for it, as for a
    // slow client; a route is never cut for a burst (decision 0013).
    flow_.delivered(*s, m);
}

void route_protocol::send_raw(session& s, std::string_view bytes) {
    if (!s.is_open()) return;
    sessions_.append(s, bytes);
}

void route_protocol::on_input(session& s, std::string_view data) {
    s.last_activity = clock::now();
    route_link& r = *s.route;
    if (s.input.yielded) { // runs after the ops it already has
        r.pending.append(data);
        return;
    }
    bool fatal = false;
    if (r.pending.empty()) {
        const std::size_t used = process(s, data, &fatal);
        if (!fatal && used < data.size()) r.pending.assign(data.substr(used));
    } else {
        r.pending.append(data);
        const std::size_t used = process(s, r.pending, &fatal);
        if (!fatal) r.pending.erase(0, used);
    }
    if (fatal) return;
    if (!s.input.yielded &&
        r.pending.size() > max_route_line + static_cast<std::size_t>(cfg_.max_payload) * 4 + 64)
        fail(s, "route input past its bound");
}

void route_protocol::run_pending(session& s) {
    route_link& r = *s.route;
    bool fatal = false;
    const std::size_t used = process(s, r.pending, &fatal);
    if (!fatal) r.pending.erase(0, used);
}

std::vector<session*> route_protocol::resume_yielded() {
    std::vector<session*> resumed;
    resumed.swap(yielded_);
    for (session* s : resumed) {
        s->input.yielded = false;
        if (s->is_open()) run_pending(*s);
    }
    return resumed;
}

std::size_t route_protocol::process(session& s, std::string_view buf, bool* fatal) {
    if (s.input.turn != turn_) {
        s.input.turn = turn_;
        s.input.turn_started = clock::now();
    }
    std::size_t pos = 0;
    unsigned ops = 0;
    while (pos < buf.size() && s.is_open()) {
        if (++ops % loop::budget_check_ops == 0 &&
            clock::now() - s.input.turn_started >= loop::work_budget) {
            s.input.yielded = true; // the shard stops reading it until it resumes
            yielded_.push_back(&s);
            return pos;
        }
        const void* nl = std::memchr(buf.data() + pos, '\n', buf.size() - pos);
        if (!nl) {
            if (buf.size() - pos > max_route_line) {
                fail(s, "control line too long");
                *fatal = true;
            }
            return pos;
        }
        const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(nl) - buf.data());
        std::string_view line = buf.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const bool traced = util::trace_enabled();
        const std::size_t op_end = line.find_first_of(" \t");
        const std::string_view op = line.substr(0, op_end);
        const std::string_view rest =
            op_end == std::string_view::npos ? std::string_view{} : line.substr(op_end + 1);
        const bool rmsg = op_is(op, "rmsg"), hmsg = op_is(op, "hmsg");
        if (rmsg || hmsg) {
            split(rest, args_);
            std::size_t size = 0;
            if (args_.size() < (hmsg ? 4u : 3u) || !to_size(args_.back(), size)) {
                fail(s, "malformed RMSG");
                *fatal = true;
                return pos;
            }
            if (buf.size() - (end + 1) < size + 2) return pos; // payload not all here yet
            const std::string_view payload = buf.substr(end + 1, size);
            if (buf.substr(end + 1 + size, 2) != "\r\n") {
                fail(s, "RMSG payload without CRLF");
                *fatal = true;
                return pos;
            }
            if (traced) {
                trace_route(s, true, line);
                trace_payload(s, payload);
            }
            handle_msg(s, args_, hmsg, payload);
            pos = end + 1 + size + 2;
            continue;
        }
        if (traced && !line.empty()) trace_route(s, true, line);
        pos = end + 1;
        split(rest, args_);
        if (!handle_line(s, op, args_, rest)) {
            *fatal = true;
            return pos;
        }
    }
    return pos;
}

bool route_protocol::handle_line(session& s, std::string_view op,
                                 std::vector<std::string_view>& args, std::string_view line) {
    if (op.empty()) return true;
    if (op_is(op, "rs+") || op_is(op, "rs-")) {
        if (s.route->kind == link_kind::gateway_in) {
            fail(s, "Received RS+ from gateway on inbound connection");
            return false;
        }
        handle_sub(s, args, op_is(op, "rs+"));
    } else if (op_is(op, "ping")) {
        if (util::trace_enabled()) trace_route(s, false, "PONG");
        sessions_.append(s, "PONG\r\n");
    } else if (op_is(op, "pong")) {
        s.ping.outstanding = 0;
        if (s.ping.sent != clock::time_point{}) s.ping.rtt = clock::now() - s.ping.sent;
    } else if (op_is(op, "info") && s.route->is_gateway()) {
        return gateway_info(s, line);
    } else if (op_is(op, "info")) {
        protocol::route_info info;
        std::string err;
        if (!protocol::parse_route_info(line, info, &err)) {
            LOG_WRN("%s:%d - rid:%llu - %s", s.ip.c_str(), s.port,
                    static_cast<unsigned long long>(s.cid), err.c_str());
            return true;
        }
        if (info.server_id == s.route->peer.server_id) {
            s.route->peer.connect_urls = info.connect_urls;
            s.route->peer.ldm = info.ldm;
        }
        if (events_) events_->route_info(s.route->serial, std::move(info));
    } else if (op_is(op, "-err")) {
        LOG_ERR("%s:%d - rid:%llu - Route Error %.*s", s.ip.c_str(), s.port,
                static_cast<unsigned long long>(s.cid), static_cast<int>(line.size()), line.data());
        s.close_reason = "Route Error";
        sessions_.close_after_flush(s);
        return false;
    } else if (op_is(op, "+ok") || op_is(op, "connect") || op_is(op, "ls+") || op_is(op, "ls-") ||
               op_is(op, "a+") || op_is(op, "a-")) {
        // Nothing to do: we never ask for +OK, the CONNECT was the
        // handshake's, and we advertise neither lnoc nor gateways.
    } else {
        fail(s, "Unknown Protocol Operation");
        return false;
    }
    return true;
}

void route_protocol::handle_sub(session& s, const std::vector<std::string_view>& args, bool add) {
    // RS+ <acc> <subj> [<queue> <weight>], RS- <acc> <subj> [<queue>]
    if (args.size() < 2 || args.size() > 4 || (add && args.size() == 3)) {
        LOG_WRN("%s:%d - rid:%llu - malformed %s", s.ip.c_str(), s.port,
                static_cast<unsigned long long>(s.cid), add ? "RS+" : "RS-");
        return;
    }
    const auto acct = router_.accounts().find(args[0]);
    if (!acct) return; // an account we do not have ($SYS, ...): nats-server drops it too
    const std::string_view subject = args[1];
    if (!subjects::is_valid_subject(subject)) return;
    const std::string_view queue = args.size() >= 3 ? args[2] : std::string_view{};
    std::uint32_t count = 0;
    if (add) {
        count = 1;
        if (!queue.empty()) {
            std::size_t w = 0;
            if (!to_size(args[3], w) || w == 0) return;
            // A gateway's queue interest is presence only (weight 1 on the
            // wire): the remote cluster picks its own member.
            count = s.route->is_gateway()
                        ? 1
                        : static_cast<std::uint32_t>(std::min<std::size_t>(w, 1u << 30));
        }
    }
    std::string key(args[0]);
    key += ' ';
    key += subject;
    key += ' ';
    key += queue;
    auto& learned = s.route->learned;
    auto it = learned.find(key);
    if (count) {
        if (it != learned.end()) {
            if (queue.empty() || it->second == count) return; // a repeated plain RS+ is ignored
            it->second = count;
        } else {
            learned.try_emplace(std::move(key), count);
        }
    } else {
        if (it == learned.end()) return;
        learned.erase(it);
    }
    router_.set_route_interest(*acct, s.route->id, subject, queue, count);
}

void route_protocol::handle_msg(session& s, const std::vector<std::string_view>& args, bool headers,
                                std::string_view payload) {
    // RMSG <acc> <subj> [reply] <size>
    // RMSG <acc> <subj> + <reply> <q...> <size> | RMSG <acc> <subj> | <q...> <size>
    // HMSG: the same with <hdr> before <size>.
    const std::size_t tail = headers ? 2 : 1;
    const std::size_t n = args.size() - tail; // fields before the sizes
    message m;
    queues_.clear();
    m.subject = args[1];
    if (n == 3) {
        m.reply = args[2];
    } else if (n >= 4) {
        if (args[2] == "+") {
            m.reply = args[3];
            queues_.assign(args.begin() + 4, args.begin() + static_cast<std::ptrdiff_t>(n));
        } else if (args[2] == "|") {
            queues_.assign(args.begin() + 3, args.begin() + static_cast<std::ptrdiff_t>(n));
        } else {
            LOG_WRN("%s:%d - rid:%llu - malformed RMSG arguments", s.ip.c_str(), s.port,
                    static_cast<unsigned long long>(s.cid));
            return;
        }
    }
    if (headers) {
        std::size_t h = 0;
        if (!to_size(args[args.size() - 2], h) || h > payload.size()) {
            LOG_WRN("%s:%d - rid:%llu - malformed HMSG header size", s.ip.c_str(), s.port,
                    static_cast<unsigned long long>(s.cid));
            return;
        }
        m.header_size = static_cast<std::uint32_t>(h);
    }
    m.payload = payload;
    m.origin = session_table::token_of(s);
    m.origin_shard = static_cast<std::uint16_t>(shard_);
    ++s.counters.in_msgs;
    s.counters.in_bytes += payload.size();
    stats_.in_msgs.add(1);
    stats_.in_bytes.add(payload.size());
    const auto acct = router_.accounts().find(args[0]);
    if (!acct) return;
    if (s.route->is_gateway()) {
        gateway_msg(s, *acct, m);
        return;
    }
    if (router_.gateways_enabled() && gateway_replies::is_routed(m.subject) &&
        routed_reply(s, *acct, m))
        return;
    router_.publish_routed(*acct, m, queues_);
}

bool route_protocol::tick(session& s, clock::time_point now, bool reading) {
    if (!s.is_open()) return false; // closing: nothing more to say
    if (s.ping.next == clock::time_point{}) {
        // First PING soon after the route is up (nats-server: about 1 s).
        s.ping.next = now + std::chrono::seconds(1);
        return false;
    }
    if (now < s.ping.next) return false;
    // Gateways ping at least every 15 s (nats-server's gwMaxPingInterval):
    // a silent remote cluster is found within a minute, not ping_max PINGs
    // of the client interval.
    s.ping.next = now + (s.route->is_gateway() ? std::min<std::chrono::nanoseconds>(
                                                     cfg_.ping_interval, std::chrono::seconds(15))
                                               : cfg_.ping_interval);
    if (!reading) {
        s.ping.outstanding = 0; // its PONGs wait behind our pause
        return false;
    }
    if (s.ping.outstanding + 1 > cfg_.ping_max) {
        LOG_ERR("%s:%d - rid:%llu - Route Stale Connection", s.ip.c_str(), s.port,
                static_cast<unsigned long long>(s.cid));
        return true;
    }
    ++s.ping.outstanding;
    s.ping.sent = now;
    if (util::trace_enabled()) trace_route(s, false, "PING");
    sessions_.append(s, "PING\r\n");
    return false;
}

void route_protocol::fail(session& s, const char* why) {
    LOG_ERR("%s:%d - rid:%llu - Route Error '%s'", s.ip.c_str(), s.port,
            static_cast<unsigned long long>(s.cid), why);
    s.close_reason = "Protocol Violation";
    if (s.is_open()) {
        std::string e = "-ERR '";
        e += why;
        e += "'\r\n";
        sessions_.append(s, e);
        sessions_.close_after_flush(s);
    }
}

void route_protocol::release(session& s, const char* reason) {
    route_link& r = *s.route;
    if (r.dropped) return;
    r.dropped = true;
    if (s.input.yielded) {
        std::erase(yielded_, &s);
        s.input.yielded = false;
    }
    // Everything it told us goes, in one batch (nats-server removeRemoteSubs).
    for (const auto& [key, count] : r.learned) {
        const std::size_t a = key.find(' ');
        const std::size_t b = key.find(' ', a + 1);
        const auto acct = router_.accounts().find(std::string_view(key).substr(0, a));
        if (!acct) continue;
        router_.set_route_interest(*acct, r.id, std::string_view(key).substr(a + 1, b - a - 1),
                                   std::string_view(key).substr(b + 1), 0);
    }
    r.learned.clear();
    if (r.kind == link_kind::gateway_in) {
        std::erase(inbound_, &s);
    } else if (by_id_[r.id] == &s) {
        by_id_[r.id] = nullptr;
        if (router_.gateways_enabled()) router_.announce_link(r.id, r.is_gateway(), {});
    }
    if (route_events* e = events_for(s)) e->route_closed(r.serial, reason);
}

} // namespace natrix::broker
