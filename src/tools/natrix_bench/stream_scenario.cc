// pub, sub, pubsub, fanout, queue and latency: publishers and subscribers, one thread each.
//
// Flow control keeps the server from merely buffering: a publisher pauses while the messages
// published on its subject exceed what the slowest subscriber (or, for a queue group, all
// members together) has received by more than the window, and it appends a PING every half
// window and pauses while two are unanswered, so the server has processed all but about one
// window of what was sent. Subscribers publish their progress after every read.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include <natrix/bench_client/bench_error.hh>
#include <natrix/bench_client/client_conn.hh>
#include <natrix/bench_client/clock.hh>
#include <natrix/bench_client/payload_stamp.hh>
#include <natrix/bench_client/scenarios.hh>
#include <natrix/bench_client/seq_bitmap.hh>
#include <natrix/bench_client/seq_tracker.hh>
#include <natrix/bench_client/worker_group.hh>

namespace natrix::bench_client {

namespace {

constexpr std::string_view k_header_block = "NATS/1.0\r\nNatrix-Bench: 1\r\n\r\n";
constexpr double k_connect_timeout_s = 5;

struct stream_pub;
struct stream_sub;

struct subject_group {
    std::string subject;
    bool queue = false;
    std::vector<stream_pub*> pubs;
    std::vector<stream_sub*> subs;
    std::atomic<std::uint64_t> published{0}; // handed to the kernel by this group's publishers
    std::atomic<int> pubs_done{0};
    std::uint64_t delivered_progress() const noexcept;
};

struct stream_run {
    const bench_options& o;
    std::atomic<bool>& abort;
    std::atomic<bool> go{false};
    credentials cred;
    std::uint64_t start_ns = 0;         // publishing starts
    std::uint64_t measure_ns = 0;       // measured window starts (after warm-up)
    std::uint64_t stop_ns = UINT64_MAX; // publishing stops (duration mode)
    std::uint64_t window = 0;           // flow-control window, messages
    bool stamped = false;               // payloads carry a stamp
    bool sub_only = false;              // the sub scenario: publishers are elsewhere
    std::vector<int> pub_group;         // publisher id -> group index
};

struct stream_pub {
    int id = 0;
    int group = 0;
    subject_group* g = nullptr;
    std::uint64_t quota = UINT64_MAX;
    std::atomic<std::uint64_t> sent{0};
    std::uint64_t final_sent = 0;
    std::uint64_t measured = 0;
    std::uint64_t wire_per_msg = 0;
    std::uint64_t end_ns = 0;
    latency_histogram lag; // paced runs: how late each batch left against its intended time
};

struct stream_sub {
    int id = 0;
    int group = 0;
    subject_group* g = nullptr;
    std::atomic<std::uint64_t> received{0};
    latency_histogram hist;
    std::vector<seq_tracker> trackers; // per publisher id (fan-out, pubsub, sub)
    std::vector<seq_bitmap> bitmaps;   // per publisher id (queue)
    std::uint64_t total = 0;
    std::uint64_t measured = 0, measured_bytes = 0, measured_wire = 0;
    std::uint64_t first_ns = 0, last_ns = 0;
    std::uint64_t unexpected = 0, dup_within = 0;
};

std::uint64_t subject_group::delivered_progress() const noexcept {
    if (subs.empty()) return UINT64_MAX;
    if (queue) {
        std::uint64_t sum = 0;
        for (const auto* s : subs) sum += s->received.load(std::memory_order_relaxed);
        return sum;
    }
    std::uint64_t lo = UINT64_MAX;
    for (const auto* s : subs) lo = std::min(lo, s->received.load(std::memory_order_relaxed));
    return lo;
}

void wait_for_go(stream_run& s) {
    while (!s.go.load(std::memory_order_acquire)) {
        if (s.abort.load()) throw bench_error("aborted before start");
        sleep_for_ns(200000);
    }
}

void check_payload_fits(const bench_options& o, const client_conn& c) {
    const std::uint64_t hdr = o.headers ? k_header_block.size() : 0;
    if (o.size + hdr > c.info().max_payload)
        throw bench_error("payload of " + std::to_string(o.size + hdr) +
                          " bytes exceeds the server's max_payload " +
                          std::to_string(c.info().max_payload));
    if (o.headers && !c.info().headers) throw bench_error("server does not support headers");
}

void run_subscriber(stream_run& s, stream_sub& me, std::atomic<int>& ready) {
    const auto& o = s.o;
    client_conn c;
    c.open(server_for(o, me.id), s.cred, "natrix-bench-sub-" + std::to_string(me.id),
           k_connect_timeout_s, &s.abort);
    std::string sub = "SUB " + me.g->subject;
    if (me.g->queue) sub += " " + o.queue_group;
    sub += " 1\r\nPING\r\n";
    c.append(sub);
    c.flush();
    c.wait_pong(k_connect_timeout_s);
    ready.fetch_add(1);
    wait_for_go(s);

    const std::uint64_t drain_ns = static_cast<std::uint64_t>(o.drain_timeout_s * 1e9);
    const std::uint64_t target = s.sub_only ? o.count : 0;
    std::uint64_t drain_deadline = 0;
    std::uint64_t last_any_ns = 0;
    server_op op;
    while (!s.abort.load(std::memory_order_relaxed)) {
        const bool got = c.read_some(true);
        const std::uint64_t now = now_ns();
        bool pong_due = false;
        while (c.next_op(op)) {
            if (op.kind == op_kind::msg || op.kind == op_kind::hmsg) [[likely]] {
                ++me.total;
                const std::string_view payload = op.payload;
                payload_stamp st;
                const bool stamped = s.stamped && read_stamp(payload, st);
                // A message belongs to the measured window if it was sent in it, as the
                // publisher counts it; without a stamp, if it arrived in it.
                if ((stamped ? st.time_ns : now) >= s.measure_ns) {
                    ++me.measured;
                    me.measured_bytes += payload.size();
                    me.measured_wire += c.last_op_bytes();
                    if (me.first_ns == 0) me.first_ns = now;
                    me.last_ns = now;
                }
                if (!stamped) continue;
                if (s.sub_only) {
                    if (st.publisher >= me.trackers.size()) me.trackers.resize(st.publisher + 1u);
                    auto& t = me.trackers[st.publisher];
                    if (!t.started()) t.set_base(st.seq); // joined a running publisher
                    t.on_seq(st.seq);
                } else if (st.publisher >= s.pub_group.size() ||
                           s.pub_group[st.publisher] != me.group) {
                    ++me.unexpected;
                    continue;
                } else if (me.g->queue) {
                    if (!me.bitmaps[st.publisher].set(st.seq)) ++me.dup_within;
                } else {
                    me.trackers[st.publisher].on_seq(st.seq);
                }
                if (st.time_ns >= s.measure_ns)
                    me.hist.record(now > st.time_ns ? now - st.time_ns : 0);
            } else if (op.kind == op_kind::ping) {
                pong_due = true;
            } else if (op.kind == op_kind::err) {
                throw bench_error("server error: " + std::string(op.text));
            }
        }
        if (pong_due) {
            c.append("PONG\r\n");
            c.flush();
        }
        me.received.store(me.total, std::memory_order_relaxed);
        if (got) last_any_ns = now;

        if (s.sub_only) {
            if (target && me.total >= target) break;
            if (now >= s.stop_ns) break;
            if (last_any_ns && now - last_any_ns > drain_ns) break;
            if (!last_any_ns && now - s.start_ns > 60000000000ull) break; // nobody published
            continue;
        }
        auto& g = *me.g;
        if (g.pubs_done.load(std::memory_order_acquire) == static_cast<int>(g.pubs.size())) {
            const std::uint64_t published = g.published.load(std::memory_order_acquire);
            const std::uint64_t have = g.queue ? g.delivered_progress() : me.total;
            if (have >= published) break;
            if (drain_deadline == 0)
                drain_deadline = now + drain_ns;
            else if (now > drain_deadline)
                break; // the checks will report what is missing
        }
    }
}

void run_publisher(stream_run& s, stream_pub& me, std::atomic<int>& ready) {
    const auto& o = s.o;
    client_conn c(64 << 10, o.batch_bytes + 2 * (o.size + 512));
    c.open(server_for(o, me.id), s.cred, "natrix-bench-pub-" + std::to_string(me.id),
           k_connect_timeout_s, &s.abort);
    check_payload_fits(o, c);

    // Everything but the stamp is the same for every message: build it once.
    std::string line;
    if (o.headers) {
        line = "HPUB " + me.g->subject + " " + std::to_string(k_header_block.size()) + " " +
               std::to_string(k_header_block.size() + o.size) + "\r\n";
        line += k_header_block;
    } else {
        line = "PUB " + me.g->subject + " " + std::to_string(o.size) + "\r\n";
    }
    std::string msg = line;
    for (std::uint64_t i = 0; i < o.size; ++i) msg += static_cast<char>('a' + i % 26);
    msg += "\r\n";
    const std::size_t stamp_at = line.size();
    const std::uint64_t wire = msg.size();
    me.wire_per_msg = wire;
    const std::uint64_t batch = std::max<std::uint64_t>(1, o.batch_bytes / wire);
    const std::uint64_t window = std::max(s.window, 2 * batch);
    const std::uint64_t ping_every = std::max(batch, window / 2);
    const double interval = o.rate > 0 ? 1e9 * static_cast<double>(o.pubs) / o.rate : 0;
    auto intended = [&](std::uint64_t seq) {
        return s.start_ns + static_cast<std::uint64_t>(static_cast<double>(seq) * interval);
    };

    int outstanding = 0;
    server_op op;
    auto service = [&](bool wait) {
        c.read_some(wait);
        bool pong_due = false;
        while (c.next_op(op)) {
            if (op.kind == op_kind::pong)
                --outstanding;
            else if (op.kind == op_kind::ping)
                pong_due = true;
            else if (op.kind == op_kind::err)
                throw bench_error("server error: " + std::string(op.text));
        }
        if (pong_due) {
            c.append("PONG\r\n");
            c.flush();
        }
    };

    ready.fetch_add(1);
    wait_for_go(s);
    auto& g = *me.g;
    const std::uint64_t drain_ns = static_cast<std::uint64_t>(o.drain_timeout_s * 1e9);
    std::uint64_t seq = 0, since_ping = 0;
    while (!s.abort.load(std::memory_order_relaxed)) {
        std::uint64_t now = now_ns();
        if (seq >= me.quota || now >= s.stop_ns) break;
        std::uint64_t k = std::min(batch, me.quota - seq);
        if (interval > 0) {
            const std::uint64_t next = intended(seq);
            if (next > now) {
                sleep_until_ns(std::min(next, s.stop_ns));
                continue;
            }
            const auto due =
                static_cast<std::uint64_t>(static_cast<double>(now - s.start_ns) / interval) + 1 -
                seq;
            k = std::min(k, std::max<std::uint64_t>(due, 1));
        }
        if (!g.subs.empty()) {
            std::uint64_t stalled_since = 0;
            while (g.published.load(std::memory_order_relaxed) + k >
                       g.delivered_progress() + window &&
                   !s.abort.load(std::memory_order_relaxed)) {
                if (outstanding > 0) service(false);
                const std::uint64_t t = now_ns();
                if (stalled_since == 0)
                    stalled_since = t;
                else if (t - stalled_since > drain_ns)
                    throw bench_error("subscribers stayed a whole flow window behind for the "
                                      "drain timeout: the server stopped delivering");
                sleep_for_ns(20000);
            }
        }
        now = now_ns();
        if (interval > 0) me.lag.record(now - std::min(now, intended(seq)));
        char* p = c.out_reserve(k * wire);
        for (std::uint64_t i = 0; i < k; ++i, ++seq) {
            std::memcpy(p, msg.data(), wire);
            const std::uint64_t t = interval > 0 ? intended(seq) : now;
            if (s.stamped) write_stamp(p + stamp_at, static_cast<std::uint16_t>(me.id), seq, t);
            if (t >= s.measure_ns) ++me.measured;
            p += wire;
        }
        c.out_commit(k * wire);
        since_ping += k;
        if (since_ping >= ping_every) {
            c.append("PING\r\n");
            ++outstanding;
            since_ping = 0;
        }
        c.flush();
        me.sent.store(seq, std::memory_order_relaxed);
        g.published.fetch_add(k, std::memory_order_release);
        service(false);
        while (outstanding > 1 && !s.abort.load(std::memory_order_relaxed)) service(true);
    }
    // The final PONG says the server has processed every message this publisher sent.
    me.final_sent = seq;
    c.append("PING\r\n");
    ++outstanding;
    c.flush();
    const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(o.drain_timeout_s * 1e9);
    while (outstanding > 0 && !s.abort.load(std::memory_order_relaxed)) {
        if (now_ns() > deadline) throw bench_error("server did not answer the final PING");
        service(true);
    }
    me.end_ns = now_ns();
    g.pubs_done.fetch_add(1, std::memory_order_release);
}

std::string size_text(std::uint64_t n) {
    if (n >= (1u << 20) && n % (1u << 20) == 0) return std::to_string(n >> 20) + " MiB";
    if (n >= 1024 && n % 1024 == 0) return std::to_string(n >> 10) + " KiB";
    return std::to_string(n) + " B";
}

} // namespace

run_result run_stream(const bench_options& o, std::atomic<bool>& abort) {
    run_result r;
    r.scenario = std::string(scenario_name(o.kind));
    const std::uint64_t t_begin = now_ns();
    stream_run s{o, abort};
    s.cred = credentials_of(o);
    s.stamped = o.size >= stamp_bytes;
    s.sub_only = o.kind == scenario::sub;
    const bool queue = o.kind == scenario::queue;
    const int k = (o.kind == scenario::pubsub || o.kind == scenario::queue ||
                   o.kind == scenario::sub || o.kind == scenario::pub)
                      ? o.subjects
                      : 1;

    std::vector<std::unique_ptr<subject_group>> groups;
    for (int i = 0; i < k; ++i) {
        auto g = std::make_unique<subject_group>();
        g->subject = k == 1 ? o.subject : o.subject + "." + std::to_string(i);
        g->queue = queue;
        groups.push_back(std::move(g));
    }
    const std::uint64_t hdr = o.headers ? k_header_block.size() : 0;
    const std::uint64_t approx_wire = o.size + hdr + o.subject.size() + 24;
    s.window = o.max_inflight ? o.max_inflight
                              : std::clamp<std::uint64_t>((4u << 20) / approx_wire, 1024, 65536);

    std::vector<std::unique_ptr<stream_pub>> pubs;
    std::vector<std::unique_ptr<stream_sub>> subs;
    for (int i = 0; i < o.pubs; ++i) {
        auto p = std::make_unique<stream_pub>();
        p->id = i;
        p->group = i % k;
        p->g = groups[static_cast<std::size_t>(p->group)].get();
        if (o.count) {
            p->quota =
                o.count / static_cast<std::uint64_t>(o.pubs) +
                (static_cast<std::uint64_t>(i) < o.count % static_cast<std::uint64_t>(o.pubs));
        }
        p->g->pubs.push_back(p.get());
        s.pub_group.push_back(p->group);
        pubs.push_back(std::move(p));
    }
    for (int j = 0; j < o.subs; ++j) {
        auto sb = std::make_unique<stream_sub>();
        sb->id = j;
        sb->group = j % k;
        sb->g = groups[static_cast<std::size_t>(sb->group)].get();
        if (queue) {
            sb->bitmaps.resize(static_cast<std::size_t>(o.pubs));
            if (o.count)
                for (auto& b : sb->bitmaps)
                    b.reserve(o.count / static_cast<std::uint64_t>(o.pubs) + 1);
        } else if (!s.sub_only) {
            sb->trackers.resize(static_cast<std::size_t>(o.pubs));
        }
        sb->g->subs.push_back(sb.get());
        subs.push_back(std::move(sb));
    }

    worker_group workers(o.cpus, abort);
    std::atomic<int> subs_ready{0}, pubs_ready{0};
    auto wait_ready = [&](std::atomic<int>& ready, int want) {
        while (ready.load() < want && !workers.failed() && !abort.load()) sleep_for_ns(1000000);
        return ready.load() >= want;
    };
    for (auto& sb : subs)
        workers.spawn("subscriber " + std::to_string(sb->id),
                      [&s, p = sb.get(), &subs_ready] { run_subscriber(s, *p, subs_ready); });
    bool ok = wait_ready(subs_ready, o.subs);
    if (ok) {
        for (auto& p : pubs)
            workers.spawn("publisher " + std::to_string(p->id),
                          [&s, q = p.get(), &pubs_ready] { run_publisher(s, *q, pubs_ready); });
        ok = wait_ready(pubs_ready, o.pubs);
    }
    if (ok && s.sub_only) {
        std::fprintf(stderr, "natrix-bench: %d subscriber(s) ready on %s\n", o.subs,
                     o.subject.c_str());
        std::fflush(stderr);
    }
    s.start_ns = now_ns();
    s.measure_ns = s.start_ns + static_cast<std::uint64_t>(o.warmup_s * 1e9);
    if (o.count == 0 || o.duration_s > 0)
        s.stop_ns = s.measure_ns + static_cast<std::uint64_t>(o.run_seconds() * 1e9);
    s.go.store(true, std::memory_order_release);

    const bool long_run = o.run_seconds() + o.warmup_s >= 2 || o.count >= 5000000;
    progress_line progress(o.progress && ok && long_run, o.pubs ? "pub" : "", o.subs ? "sub" : "",
                           [&] {
                               std::uint64_t a = 0, b = 0;
                               for (auto& p : pubs) a += p->sent.load(std::memory_order_relaxed);
                               for (auto& sb : subs)
                                   b += sb->received.load(std::memory_order_relaxed);
                               return std::make_pair(a, b);
                           });
    if (!ok) abort.store(true);
    workers.join();
    progress.stop();
    r.errors = workers.errors();
    if (!ok && r.errors.empty()) r.errors.push_back("interrupted before the run started");

    // Configuration, as the reader needs it to reproduce the run.
    describe_common(o, r);
    r.config.emplace_back("clients", std::to_string(o.pubs) + " publisher(s), " +
                                         std::to_string(o.subs) +
                                         (queue ? " queue member(s)" : " subscriber(s)"));
    std::string subj = groups.size() == 1 ? groups[0]->subject
                                          : o.subject + ".0 .. " + o.subject + "." +
                                                std::to_string(groups.size() - 1);
    if (queue) subj += " (queue group " + o.queue_group + ")";
    r.config.emplace_back("subject", subj);
    r.config.emplace_back("payload", size_text(o.size) + (o.headers ? " + header block" : ""));
    std::string amount;
    if (o.count) amount = std::to_string(o.count) + " messages";
    if (o.count == 0 || o.duration_s > 0)
        amount += (amount.empty() ? "" : ", at most ") + format_number(o.run_seconds()) + " s";
    if (o.warmup_s > 0) amount += " after " + format_number(o.warmup_s) + " s warm-up";
    r.config.emplace_back("amount", amount);
    r.config.emplace_back("rate", o.rate > 0 ? format_rate(o.rate) + " msg/s (paced)"
                                             : "flat out, flow-controlled");
    r.config.emplace_back("flow window", std::to_string(s.window) + " messages");
    r.config.emplace_back("pinning", workers.placement());

    // Throughput.
    if (!pubs.empty()) {
        r.has_publish = true;
        std::uint64_t end = s.measure_ns;
        for (auto& p : pubs) {
            r.publish.msgs += p->measured;
            r.publish.wire_bytes += p->measured * p->wire_per_msg;
            end = std::max(end, p->end_ns);
        }
        r.publish.bytes = r.publish.msgs * o.size;
        r.publish.seconds = static_cast<double>(end - s.measure_ns) / 1e9;
    }
    if (!subs.empty()) {
        r.has_deliver = true;
        r.per_subscriber = true;
        // The sub scenario cannot know when the external publisher started: its window opens
        // with the first message received.
        std::uint64_t begin = UINT64_MAX, end = 0;
        double lo = INFINITY, hi = 0;
        for (auto& sb : subs) {
            r.deliver.msgs += sb->measured;
            r.deliver.bytes += sb->measured_bytes;
            r.deliver.wire_bytes += sb->measured_wire;
            const std::uint64_t from = s.sub_only ? sb->first_ns : s.measure_ns;
            if (sb->measured) {
                begin = std::min(begin, from);
                end = std::max(end, sb->last_ns);
            }
            const double secs =
                sb->last_ns > from ? static_cast<double>(sb->last_ns - from) / 1e9 : 0;
            const double rate = secs > 0 ? sb->measured / secs : 0;
            lo = std::min(lo, rate);
            hi = std::max(hi, rate);
        }
        r.deliver.seconds = end > begin ? static_cast<double>(end - begin) / 1e9 : 0;
        r.deliver_min_msgs_per_s = std::isfinite(lo) ? lo : 0;
        r.deliver_max_msgs_per_s = hi;
        if (s.stamped) {
            r.latency = std::make_unique<latency_histogram>();
            for (auto& sb : subs) r.latency->merge(sb->hist);
            r.latency_label = o.rate > 0 ? "one way from the intended send time (corrected "
                                           "for coordinated omission)"
                                         : "one way from the publish batch's send time";
        }
    }
    if (o.rate > 0 && !pubs.empty()) {
        latency_histogram lag;
        for (auto& p : pubs) lag.merge(p->lag);
        r.figure("publisher_lag_p50_ns", static_cast<double>(lag.percentile(50)));
        r.figure("publisher_lag_p99_ns", static_cast<double>(lag.percentile(99)));
    }
    r.figure("flow_window_msgs", static_cast<double>(s.window));

    // Delivery checks.
    auto& ch = r.checks;
    if (!subs.empty()) {
        ch.enabled = true;
        ch.by_count_only = !s.stamped;
    } else {
        r.notes.push_back("publish only: nothing subscribed, so delivery is not checked");
    }
    for (auto& sb : subs) ch.unexpected += sb->unexpected;
    if (s.sub_only) {
        for (auto& sb : subs) {
            ch.received += sb->total;
            for (auto& t : sb->trackers) {
                ch.lost += t.missing(t.next_expected());
                ch.duplicated += t.duplicated();
                ch.out_of_order += t.out_of_order();
            }
            if (o.count && sb->total < o.count) ch.lost += o.count - sb->total;
        }
        ch.expected = o.count ? o.count * static_cast<std::uint64_t>(o.subs) : ch.received;
        r.notes.push_back("sub: order, gaps and duplicates are checked per publisher from the "
                          "first message seen; messages after the last one seen are unknown");
    } else if (queue) {
        std::uint64_t lo = UINT64_MAX, hi = 0;
        for (auto& g : groups) {
            std::uint64_t group_published = 0;
            for (auto* p : g->pubs) group_published += p->final_sent;
            if (g->subs.empty()) continue;
            ch.expected += group_published;
            std::uint64_t group_received = 0;
            for (auto* m : g->subs) {
                group_received += m->total;
                ch.duplicated += m->dup_within;
                for (auto& b : m->bitmaps) ch.out_of_order += b.out_of_order();
                lo = std::min(lo, m->total);
                hi = std::max(hi, m->total);
            }
            ch.received += group_received;
            if (!s.stamped) {
                ch.lost += group_published > group_received ? group_published - group_received : 0;
                ch.duplicated +=
                    group_received > group_published ? group_received - group_published : 0;
                continue;
            }
            for (auto* p : g->pubs) {
                std::vector<const seq_bitmap*> members;
                for (auto* m : g->subs)
                    members.push_back(&m->bitmaps[static_cast<std::size_t>(p->id)]);
                const auto d = merge_group(members, p->final_sent);
                ch.lost += d.lost;
                ch.duplicated += d.duplicated;
                ch.unexpected += d.unexpected;
            }
        }
        const double total = static_cast<double>(ch.received ? ch.received : 1);
        r.figure("member_share_min", static_cast<double>(lo == UINT64_MAX ? 0 : lo) / total);
        r.figure("member_share_max", static_cast<double>(hi) / total);
    } else {
        for (auto& sb : subs) {
            std::uint64_t expected = 0;
            for (auto* p : sb->g->pubs) {
                expected += p->final_sent;
                if (!s.stamped) continue;
                const auto& t = sb->trackers[static_cast<std::size_t>(p->id)];
                ch.lost += t.missing(p->final_sent);
                ch.duplicated += t.duplicated();
                ch.out_of_order += t.out_of_order();
            }
            ch.expected += expected;
            ch.received += sb->total;
            if (!s.stamped) {
                ch.lost += expected > sb->total ? expected - sb->total : 0;
                ch.duplicated += sb->total > expected ? sb->total - expected : 0;
            }
        }
    }
    if (ch.enabled && !ch.ok())
        r.notes.push_back("delivery checks failed: the server lost, duplicated or reordered "
                          "messages (or they were still missing after the drain timeout)");
    r.elapsed_s = static_cast<double>(now_ns() - t_begin) / 1e9;
    return r;
}

} // namespace natrix::bench_client
