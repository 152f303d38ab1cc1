// reqrep: N requesters, each with one request outstanding at a time (a closed loop), and M
// responders in one queue group that echo each request to its reply subject. The round trip is
// measured from just before the request is sent to just after its reply is read. A closed loop
// waits for each reply before the next request, so its latencies are not corrected for
// coordinated omission; use the latency scenario for open-loop numbers.
#include <algorithm>
#include <cstring>
#include <memory>

#include <unistd.h>

#include <natrix/bench_client/bench_error.hh>
#include <natrix/bench_client/client_conn.hh>
#include <natrix/bench_client/clock.hh>
#include <natrix/bench_client/payload_stamp.hh>
#include <natrix/bench_client/scenarios.hh>
#include <natrix/bench_client/worker_group.hh>

namespace natrix::bench_client {

namespace {

constexpr std::string_view k_header_block = "NATS/1.0\r\nNatrix-Bench: 1\r\n\r\n";
constexpr double k_connect_timeout_s = 5;

struct reqrep_run {
    const bench_options& o;
    std::atomic<bool>& abort;
    std::atomic<bool> go{false};
    std::atomic<int> requesters_done{0};
    credentials cred;
    std::uint64_t start_ns = 0, measure_ns = 0, stop_ns = UINT64_MAX;
};

struct requester {
    int id = 0;
    std::uint64_t quota = UINT64_MAX;
    std::atomic<std::uint64_t> done{0};
    std::uint64_t sent = 0, answered = 0, measured = 0, timed_out = 0, stale = 0;
    std::uint64_t end_ns = 0;
    latency_histogram rtt;
};

struct responder {
    int id = 0;
    std::atomic<std::uint64_t> served{0};
};

void wait_for_go(reqrep_run& s) {
    while (!s.go.load(std::memory_order_acquire)) {
        if (s.abort.load()) throw bench_error("aborted before start");
        sleep_for_ns(200000);
    }
}

void run_responder(reqrep_run& s, responder& me, int client_index, std::atomic<int>& ready) {
    client_conn c;
    c.open(server_for(s.o, client_index), s.cred, "natrix-bench-responder-" + std::to_string(me.id),
           k_connect_timeout_s, &s.abort);
    c.append("SUB " + s.o.subject + " " + s.o.queue_group + " 1\r\nPING\r\n");
    c.flush();
    c.wait_pong(k_connect_timeout_s);
    ready.fetch_add(1);
    wait_for_go(s);
    server_op op;
    std::uint64_t served = 0;
    char line[512];
    while (!s.abort.load(std::memory_order_relaxed) &&
           s.requesters_done.load(std::memory_order_acquire) < s.o.pubs) {
        c.read_some(true);
        while (c.next_op(op)) {
            if ((op.kind == op_kind::msg || op.kind == op_kind::hmsg) && !op.reply.empty()) {
                int n;
                if (op.kind == op_kind::hmsg) {
                    n = std::snprintf(line, sizeof line, "HPUB %.*s %zu %zu\r\n",
                                      static_cast<int>(op.reply.size()), op.reply.data(),
                                      op.headers.size(), op.headers.size() + op.payload.size());
                } else {
                    n = std::snprintf(line, sizeof line, "PUB %.*s %zu\r\n",
                                      static_cast<int>(op.reply.size()), op.reply.data(),
                                      op.payload.size());
                }
                if (n <= 0 || static_cast<std::size_t>(n) >= sizeof line)
                    throw bench_error("reply subject too long");
                c.append({line, static_cast<std::size_t>(n)});
                c.append(op.headers);
                c.append(op.payload);
                c.append("\r\n");
                ++served;
            } else if (op.kind == op_kind::ping) {
                c.append("PONG\r\n");
            } else if (op.kind == op_kind::err) {
                throw bench_error("server error: " + std::string(op.text));
            }
        }
        if (c.out_size()) c.flush(); // one send for every reply found in this read
        me.served.store(served, std::memory_order_relaxed);
    }
}

void run_requester(reqrep_run& s, requester& me, int client_index, std::atomic<int>& ready) {
    const auto& o = s.o;
    client_conn c(1 << 20, 2 * (o.size + 512) + 4096);
    c.open(server_for(o, client_index), s.cred, "natrix-bench-requester-" + std::to_string(me.id),
           k_connect_timeout_s, &s.abort);
    const std::uint64_t hdr = o.headers ? k_header_block.size() : 0;
    if (o.size + hdr > c.info().max_payload)
        throw bench_error("payload exceeds the server's max_payload " +
                          std::to_string(c.info().max_payload));
    const std::string inbox =
        "_INBOX.natrix-bench." + std::to_string(getpid()) + "." + std::to_string(me.id);
    c.append("SUB " + inbox + " 1\r\nPING\r\n");
    c.flush();
    c.wait_pong(k_connect_timeout_s);

    std::string msg =
        o.headers ? "HPUB " + o.subject + " " + inbox + " " + std::to_string(hdr) + " " +
                        std::to_string(hdr + o.size) + "\r\n" + std::string(k_header_block)
                  : "PUB " + o.subject + " " + inbox + " " + std::to_string(o.size) + "\r\n";
    const std::size_t stamp_at = msg.size();
    for (std::uint64_t i = 0; i < o.size; ++i) msg += static_cast<char>('a' + i % 26);
    msg += "\r\n";
    const bool stamped = o.size >= stamp_bytes;
    const std::uint64_t timeout_ns = static_cast<std::uint64_t>(o.drain_timeout_s * 1e9);

    ready.fetch_add(1);
    wait_for_go(s);
    server_op op;
    std::uint64_t seq = 0;
    while (!s.abort.load(std::memory_order_relaxed) && seq < me.quota) {
        const std::uint64_t t0 = now_ns();
        if (t0 >= s.stop_ns) break;
        char* p = c.out_reserve(msg.size());
        std::memcpy(p, msg.data(), msg.size());
        if (stamped) write_stamp(p + stamp_at, static_cast<std::uint16_t>(me.id), seq, t0);
        c.out_commit(msg.size());
        c.flush();
        ++me.sent;
        bool answered = false;
        std::uint64_t t1 = 0;
        while (!answered && !s.abort.load(std::memory_order_relaxed)) {
            while (c.next_op(op)) {
                if (op.kind == op_kind::msg || op.kind == op_kind::hmsg) {
                    payload_stamp st;
                    if (stamped && (!read_stamp(op.payload, st) || st.seq != seq)) {
                        ++me.stale; // a reply to an earlier request (duplicate) or garbage
                        continue;
                    }
                    answered = true;
                } else if (op.kind == op_kind::ping) {
                    c.append("PONG\r\n");
                    c.flush();
                } else if (op.kind == op_kind::err) {
                    throw bench_error("server error: " + std::string(op.text));
                }
            }
            if (answered) break;
            if (now_ns() - t0 > timeout_ns) break;
            c.read_some(true);
            t1 = now_ns();
        }
        if (!answered) {
            if (s.abort.load()) break;
            ++me.timed_out;
            throw bench_error("no reply within the drain timeout (request " + std::to_string(seq) +
                              ")");
        }
        ++me.answered;
        if (t1 == 0) t1 = now_ns();
        if (t0 >= s.measure_ns) {
            ++me.measured;
            me.rtt.record(t1 - t0);
        }
        ++seq;
        me.done.store(seq, std::memory_order_relaxed);
    }
    me.end_ns = now_ns();
}

} // namespace

run_result run_reqrep(const bench_options& o, std::atomic<bool>& abort) {
    run_result r;
    r.scenario = "reqrep";
    const std::uint64_t t_begin = now_ns();
    reqrep_run s{o, abort};
    s.cred = credentials_of(o);
    std::vector<std::unique_ptr<requester>> reqs;
    std::vector<std::unique_ptr<responder>> resps;
    for (int i = 0; i < o.pubs; ++i) {
        auto q = std::make_unique<requester>();
        q->id = i;
        if (o.count)
            q->quota =
                o.count / static_cast<std::uint64_t>(o.pubs) +
                (static_cast<std::uint64_t>(i) < o.count % static_cast<std::uint64_t>(o.pubs));
        reqs.push_back(std::move(q));
    }
    for (int j = 0; j < o.subs; ++j) {
        auto q = std::make_unique<responder>();
        q->id = j;
        resps.push_back(std::move(q));
    }
    worker_group workers(o.cpus, abort);
    std::atomic<int> ready{0};
    auto wait_ready = [&](int want) {
        while (ready.load() < want && !workers.failed() && !abort.load()) sleep_for_ns(1000000);
        return ready.load() >= want;
    };
    for (auto& q : resps)
        workers.spawn("responder " + std::to_string(q->id),
                      [&s, p = q.get(), &ready] { run_responder(s, *p, p->id, ready); });
    bool ok = wait_ready(o.subs);
    if (ok) {
        for (auto& q : reqs)
            workers.spawn("requester " + std::to_string(q->id), [&s, p = q.get(), &ready, &o] {
                try {
                    run_requester(s, *p, o.subs + p->id, ready);
                } catch (...) {
                    s.requesters_done.fetch_add(1);
                    throw;
                }
                s.requesters_done.fetch_add(1);
            });
        ok = wait_ready(o.subs + o.pubs);
    }
    s.start_ns = now_ns();
    s.measure_ns = s.start_ns + static_cast<std::uint64_t>(o.warmup_s * 1e9);
    if (o.count == 0 || o.duration_s > 0)
        s.stop_ns = s.measure_ns + static_cast<std::uint64_t>(o.run_seconds() * 1e9);
    s.go.store(true, std::memory_order_release);
    const bool long_run = o.run_seconds() + o.warmup_s >= 2 || o.count >= 1000000;
    progress_line progress(o.progress && ok && long_run, "req", "", [&] {
        std::uint64_t a = 0;
        for (auto& q : reqs) a += q->done.load(std::memory_order_relaxed);
        return std::make_pair(a, std::uint64_t{0});
    });
    if (!ok) abort.store(true);
    workers.join();
    progress.stop();
    r.errors = workers.errors();
    if (!ok && r.errors.empty()) r.errors.push_back("interrupted before the run started");

    describe_common(o, r);
    r.config.emplace_back("clients", std::to_string(o.pubs) + " requester(s), " +
                                         std::to_string(o.subs) + " responder(s) in queue group " +
                                         o.queue_group);
    r.config.emplace_back("subject", o.subject);
    r.config.emplace_back("payload",
                          std::to_string(o.size) + " B" + (o.headers ? " + header block" : ""));
    std::string amount;
    if (o.count) amount = std::to_string(o.count) + " requests";
    if (o.count == 0 || o.duration_s > 0)
        amount += (amount.empty() ? "" : ", at most ") + format_number(o.run_seconds()) + " s";
    if (o.warmup_s > 0) amount += " after " + format_number(o.warmup_s) + " s warm-up";
    r.config.emplace_back("amount", amount);
    r.config.emplace_back("pinning", workers.placement());

    r.latency = std::make_unique<latency_histogram>();
    r.latency_label = "round trip, closed loop (one request in flight per requester)";
    r.has_publish = true; // requests completed in the measured window
    r.publish_label = "requests";
    std::uint64_t end = s.measure_ns;
    auto& ch = r.checks;
    ch.enabled = true;
    ch.by_count_only = o.size < stamp_bytes;
    for (auto& q : reqs) {
        r.latency->merge(q->rtt);
        r.publish.msgs += q->measured;
        end = std::max(end, q->end_ns);
        ch.expected += q->sent;
        ch.received += q->answered;
        ch.lost += q->timed_out;
        ch.duplicated += q->stale;
    }
    r.publish.bytes = r.publish.msgs * o.size;
    r.publish.seconds = static_cast<double>(end - s.measure_ns) / 1e9;
    r.figure("requests_per_s", r.publish.msgs_per_s());
    std::uint64_t served = 0;
    for (auto& q : resps) served += q->served.load();
    r.figure("responses_sent", static_cast<double>(served));
    r.elapsed_s = static_cast<double>(now_ns() - t_begin) / 1e9;
    return r;
}

} // namespace natrix::bench_client
