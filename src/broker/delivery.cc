#include <natrix/broker/delivery.hh>
#include <natrix/broker/protocol_trace.hh>
#include <natrix/broker/route_protocol.hh>
#include <natrix/broker/session_permissions.hh>
#include <natrix/protocol/writer.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

bool delivery::deliver(subscription& s, const message& m) {
    session& c = *s.owner;
    if (!c.is_open()) return false;
    // A wildcard subscription never receives what a deny clause forbids.
    if (c.perm.deny_filter && c.perm.perms->delivery_denied(m.subject)) return false;
    std::string_view reply = m.reply;
    if (gateway_replies_ && gateway_replies::is_routed(reply)) {
        if (!c.gw_replies) c.gw_replies = std::make_unique<gateway_replies>();
        c.gw_replies->track(reply, clock::now());
        reply.remove_prefix(gateway_replies::prefix_len);
    }
    char hdr[64 + 2 * 256];
    std::string big;
    char* head = hdr;
    const std::size_t bound = protocol::msg_header_bound(m.subject, s.sid, reply);
    if (bound > sizeof hdr) {
        big.resize(bound);
        head = big.data();
    }
    const protocol::delivery d =
        protocol::write_delivery(head, c.opts.headers, m.subject, s.sid, reply, m.payload,
                                 m.header_size, m.size_text, m.header_size_text);
    const std::size_t bytes = d.header_len + d.body.size() + 2;
    // The hard ceiling: the outbound queue may not pass max_pending.
    if (c.out.pending() + bytes > static_cast<std::size_t>(max_pending_)) {
        LOG_WRN("%s:%d - cid:%llu - Slow Consumer Detected: MaxPending of %lld Exceeded",
                c.ip.c_str(), c.port, static_cast<unsigned long long>(c.cid),
                static_cast<long long>(max_pending_));
        stats_.slow_consumers.add(1);
        stats_.cut_max_pending.add(1);
        c.state = session_state::closing;
        cut_.push_back(&c);
        return false;
    }
    std::string& q = c.out.queued;
    q.append(head, d.header_len);
    q.append(d.body);
    q.append(protocol::crlf);
    if (util::trace_enabled()) trace_out(c, std::string_view(head, d.header_len - 2)); // no CRLF
    if (m.sampled_at != clock::time_point{} && c.out.sample_start == clock::time_point{})
        c.out.sample_start = m.sampled_at;
    sessions_.mark_for_flush(c);
    ++c.counters.out_msgs;
    c.counters.out_bytes += d.body.size();
    stats_.out_msgs.add(1);
    stats_.out_bytes.add(d.body.size());
    if (c.perm.perms && c.perm.perms->responses() && !reply.empty()) note_reply(c.perm, reply);
    flow_.delivered(c, m);
    return true;
}

void delivery::forward(unsigned to, const ring_record::message_record& r) {
    ring_record::encode(scratch_, r);
    mail_.push(to, ring_record::message_type, scratch_);
}

void delivery::announce(const ring_record::interest_record& r) {
    ring_record::encode(scratch_, r);
    for (unsigned t = 0; t < nshards_; ++t)
        if (t != shard_) mail_.push(t, ring_record::interest_type, scratch_);
}

void delivery::announce_link(const ring_record::link_record& r) {
    ring_record::encode(scratch_, r);
    for (unsigned t = 0; t < nshards_; ++t)
        if (t != shard_) mail_.push(t, ring_record::link_type, scratch_);
}

void delivery::to_route(std::uint16_t route, std::uint16_t account, const message& m,
                        const std::vector<std::string_view>& queues) {
    if (!routes_) return;
    const unsigned owner = route_protocol::owner_of(route, nshards_);
    if (owner == shard_) {
        routes_->send_msg(route, account, m, queues);
        return;
    }
    ring_record::message_record& r = route_record_; // reused: no allocation per message
    r.account = account;
    r.route = route;
    r.msg = m;
    r.queues.assign(queues.begin(), queues.end());
    ring_record::encode(scratch_, r);
    mail_.push(owner, ring_record::message_type, scratch_);
}

void delivery::local_interest(std::uint16_t account, std::string_view pattern,
                              std::string_view queue, std::uint32_t before, std::uint32_t after) {
    if (routes_) routes_->send_interest(account, pattern, queue, before, after);
}

void delivery::cluster_interest(std::uint16_t account, std::string_view pattern,
                                std::string_view queue, bool present) {
    if (routes_) routes_->send_gateway_interest(account, pattern, queue, present);
}

void delivery::expired(subscription& s) {
    session& c = *s.owner;
    if (util::trace_enabled()) trace_delsub(c, s.sid);
    stats_.subscriptions.sub(1);
    c.subs.erase(s.sid); // destroys s
}

} // namespace natrix::broker
