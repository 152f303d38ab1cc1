#include <natrix/broker/flow_control.hh>
#include <natrix/broker/ring_record.hh>

namespace natrix::broker {

void flow_control::configure(slow_consumer_policy policy, std::int64_t max_pending,
                             std::chrono::nanoseconds stall) {
    // A reload to evict: nobody waits any more, and no subscriber is judged
    // by the stall timer.
    if (policy != policy_ && policy == slow_consumer_policy::evict)
        sessions_.for_each([&](session& s) {
            if (s.flow.congested) resume_all(s);
        });
    policy_ = policy;
    high_ = static_cast<std::size_t>(max_pending) / 4;
    low_ = high_ / 2;
    stall_ = stall;
}

void flow_control::delivered(session& sub, const message& m) {
    if (policy_ != slow_consumer_policy::throttle || !m.origin || sub.out.pending() < high_) return;
    if (!sub.flow.congested) {
        sub.flow.congested = true;
        sub.flow.last_progress = clock::now(); // the stall clock starts now
    }
    for (const auto& p : sub.flow.paused)
        if (p.token == m.origin && p.shard == m.origin_shard) return;
    sub.flow.paused.push_back({m.origin_shard, m.origin});
    request(m.origin_shard, m.origin, true);
}

void flow_control::sent(session& sub, std::size_t sent, clock::time_point now) {
    if (sent) sub.flow.last_progress = now;
    if (sub.flow.congested && sub.out.pending() <= low_) resume_all(sub);
}

void flow_control::release(session& s) {
    resume_all(s);
    if (s.flow.pausers) {
        s.flow.pausers = 0;
        end_pause(s);
    }
}

void flow_control::resume_all(session& sub) {
    sub.flow.congested = false;
    for (const auto& p : sub.flow.paused) request(p.shard, p.token, false);
    sub.flow.paused.clear();
}

void flow_control::request(std::uint16_t shard, std::uint64_t token, bool pause) {
    if (shard == shard_) {
        if (pause)
            pause_local(token);
        else
            resume_local(token);
        return;
    }
    ring_record::encode(scratch_, ring_record::flow_record{token, pause});
    mail_.push(shard, ring_record::flow_type, scratch_);
}

void flow_control::on_record(std::string_view body) {
    ring_record::flow_record r;
    if (!ring_record::decode(body, r)) return;
    if (r.pause)
        pause_local(r.token);
    else
        resume_local(r.token);
}

// A token names one session generation: a pause or resume for a publisher
// that left meanwhile finds nothing and is dropped.
void flow_control::pause_local(std::uint64_t token) {
    session* s = sessions_.find(token);
    if (!s || s->flow.pausers++) return;
    s->flow.paused_since = clock::now();
    stats_.paused_publishers.add(1);
    update_reading(*s);
}

void flow_control::resume_local(std::uint64_t token) {
    session* s = sessions_.find(token);
    if (!s || !s->flow.pausers || --s->flow.pausers) return;
    end_pause(*s);
    update_reading(*s);
}

void flow_control::end_pause(session& s) {
    stats_.paused_publishers.sub(1);
    stats_.paused_ns.add(static_cast<std::uint64_t>((clock::now() - s.flow.paused_since).count()));
}

void flow_control::set_shard_paused(bool paused) {
    if (paused == shard_paused_) return;
    shard_paused_ = paused;
    sessions_.for_each([&](session& s) { update_reading(s); });
}

void flow_control::update_reading(session& s) {
    if (!backend_ || !s.admitted || !s.is_open()) return;
    if (!shard_paused_ && s.flow.pausers == 0 && !s.input.yielded)
        backend_->start_receiving(s.io);
    else
        backend_->stop_receiving(s.io);
}

} // namespace natrix::broker
