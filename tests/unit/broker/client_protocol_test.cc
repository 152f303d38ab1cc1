// The client protocol end to end, in-process: per simulated shard a real
// mailbox (linked to the others), delivery, router, session table and
// client_protocol; no sockets, no threads. Raw protocol bytes go in through
// on_input; the bytes each session would send come out of its out.queued.
// pump() does what the shards' loop turns do with the rings: flush, drain
// into the router, answer PINGs waiting for the PONG barrier, until quiet.
// Every case runs on 1 and on 3 shards.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <natrix/auth/authenticator.hh>
#include <natrix/broker/client_protocol.hh>
#include <natrix/broker/delivery.hh>
#include <natrix/broker/flow_control.hh>
#include <natrix/broker/loop.hh>
#include <natrix/broker/mailbox.hh>
#include <natrix/broker/router.hh>
#include <natrix/broker/session_table.hh>
#include <natrix/broker/subscription_teardown.hh>
#include <natrix/broker/wakeup.hh>
#include <natrix/config/server_options.hh>

namespace {

using namespace natrix;
using namespace natrix::broker;

// One shard's parts, wired as broker::shard wires them.
struct sim_shard {
    sim_shard(unsigned id, unsigned n, const broker_config& cfg,
              std::shared_ptr<const auth::account_set> accounts)
        : mail(id, n, cfg.ring_bytes, wake, stats)
        , flow(id, sessions, mail, stats)
        , out(id, n, sessions, mail, flow, stats)
        , routes(id, n, std::move(accounts), out, 0xc0ffee00u + id)
        , home(wake)
        , proto(
              client_protocol::deps{id, n, &cfg, &sessions, &routes, &mail, &stats, nullptr, &home})
        , teardown(routes, sessions, stats) {
        out.set_max_pending(cfg.max_pending);
        flow.configure(cfg.slow_consumer, cfg.max_pending, cfg.stall_timeout);
    }
    shard_stats stats;
    wakeup wake;
    mailbox mail;
    session_table sessions;
    flow_control flow; // no backend attached: pausing only counts
    delivery out;
    router routes;
    loop home; // never run: no auth verdict comes back through it here
    client_protocol proto;
    subscription_teardown teardown;
};

class cluster;

// A connected client: its session on one shard.
struct client {
    cluster* c = nullptr;
    unsigned shard = 0;
    session* s = nullptr;

    // The bytes, and the turns they take to run (the input budget).
    void send(std::string_view bytes);
    // One turn's worth: what is over the input budget waits (yielded).
    void send_raw(std::string_view bytes);
    // What the server wrote to this client since the last take().
    std::string take() {
        std::string o;
        o.swap(s->out.queued);
        return o;
    }
};

class cluster {
public:
    explicit cluster(unsigned n, broker_config cfg = make_config())
        : cfg_(std::move(cfg)) {
        const auto accounts = cfg_.auth ? cfg_.auth->shared_accounts() : nullptr;
        for (unsigned i = 0; i < n; ++i)
            shards_.push_back(std::make_unique<sim_shard>(i, n, cfg_, accounts));
        std::vector<mailbox*> all;
        for (auto& sh : shards_) all.push_back(&sh->mail);
        for (auto& sh : shards_) sh->mail.link(all);
    }

    static broker_config make_config() {
        broker_config c;
        c.server_id = "NTEST";
        c.server_name = "natrix-test";
        c.ring_bytes = 1 << 16;
        return c;
    }

    unsigned shards() const { return static_cast<unsigned>(shards_.size()); }
    unsigned on(unsigned k) const { return k % shards(); }
    sim_shard& at(unsigned shard) { return *shards_[shard]; }

    // A new connection on `shard`: greeted (INFO), its INFO returned in *info.
    client open(unsigned shard, std::string* info = nullptr) {
        sim_shard& sh = at(shard);
        protocol::parser_config pc;
        pc.max_control_line = cfg_.max_control_line;
        pc.max_payload = cfg_.max_payload;
        session& s = sh.sessions.add(pc);
        s.cid = ++next_cid_;
        s.ip = "127.0.0.1";
        s.port = 40000 + static_cast<int>(s.cid);
        s.start = s.last_in = s.last_activity = clock::now();
        sh.proto.greet(s);
        client c{this, shard, &s};
        const std::string greeting = c.take();
        EXPECT_TRUE(greeting.starts_with("INFO {")) << greeting;
        EXPECT_TRUE(greeting.ends_with("} \r\n")) << greeting; // nats-server's trailing space
        if (info) *info = greeting;
        return c;
    }

    // open() + CONNECT with these options; expects silence (or +OK when
    // verbose) in answer.
    client connect(unsigned shard,
                   std::string_view opts = R"({"verbose":false,"pedantic":false})") {
        client c = open(shard);
        c.send("CONNECT " + std::string(opts) + "\r\n");
        const std::string answer = c.take();
        EXPECT_TRUE(answer.empty() || answer == "+OK\r\n") << opts << " -> " << answer;
        EXPECT_TRUE(c.s->is_open());
        return c;
    }

    // Moves every ring record to its shard's router, then resumes PINGs
    // whose barrier now holds, until nothing moves.
    void pump() {
        for (int round = 0; round < 100000; ++round) {
            for (auto& sh : shards_) sh->mail.flush();
            bool work = false;
            for (auto& sh : shards_) {
                sim_shard& to = *sh;
                if (sh->mail.drain([&to](std::uint32_t type, std::string_view body) {
                        if (type == ring_record::flow_type)
                            to.flow.on_record(body);
                        else
                            to.routes.on_record(type, body);
                    }))
                    work = true;
            }
            for (auto& sh : shards_) {
                if (sh->proto.has_barrier_waiters()) sh->proto.resume_barrier_waiters();
                sh->mail.flush();
            }
            bool pending = false;
            for (auto& sh : shards_) pending = pending || sh->mail.pending();
            if (!work && !pending) {
                for (auto& sh : shards_) {
                    EXPECT_FALSE(sh->proto.has_barrier_waiters())
                        << "a PONG still waits after the rings drained";
                    sh->sessions.take_flush_list();
                }
                return;
            }
        }
        ADD_FAILURE() << "the rings never went quiet";
    }

    // Closes the client as broker::shard does; its subscriptions leave through
    // the shard's teardown, in slices. Returns the number of slices.
    int close(client& cl, bool finish = true) {
        sim_shard& sh = at(cl.shard);
        cl.s->state = session_state::closed;
        sh.proto.release(*cl.s);
        sh.teardown.add(*cl.s);
        int slices = 0;
        while (finish && sh.teardown.run()) ++slices;
        sh.sessions.end_turn();
        return slices;
    }

    std::uint64_t records_sent() {
        std::uint64_t n = 0;
        for (auto& sh : shards_) n += sh->stats.ring_records_out.get();
        return n;
    }

private:
    broker_config cfg_;
    std::vector<std::unique_ptr<sim_shard>> shards_;
    std::uint64_t next_cid_ = 0;
};

void client::send(std::string_view bytes) {
    send_raw(bytes);
    // A slow (sanitizer) build may use up the input budget: the shard's next
    // turns would carry on, so do the same here.
    client_protocol& p = c->at(shard).proto;
    while (p.has_yielded()) {
        p.begin_turn();
        p.resume_yielded();
    }
}

void client::send_raw(std::string_view bytes) {
    c->at(shard).proto.on_input(*s, bytes);
}

std::size_t count(std::string_view hay, std::string_view needle) {
    std::size_t n = 0;
    for (std::size_t at = hay.find(needle); at != std::string_view::npos;
         at = hay.find(needle, at + 1))
        ++n;
    return n;
}

std::string repeat(std::string_view s, int n) {
    std::string r;
    for (int i = 0; i < n; ++i) r += s;
    return r;
}

class client_protocol_test : public ::testing::TestWithParam<unsigned> {
protected:
    cluster c{GetParam()};
    bool sharded() const { return GetParam() > 1; }
};

TEST_P(client_protocol_test, pub_becomes_msg_on_another_shard) {
    client sub = c.connect(c.on(1));
    client pub = c.connect(c.on(0));
    sub.send("SUB foo 1\r\n");
    c.pump();
    EXPECT_EQ(sub.take(), "");

    pub.send("PUB foo 5\r\nhello\r\n");
    c.pump();
    EXPECT_EQ(sub.take(), "MSG foo 1 5\r\nhello\r\n");
    EXPECT_EQ(pub.take(), "");

    pub.send("PUB foo bar.reply 5\r\nhello\r\nPUB foo 0\r\n\r\n");
    c.pump();
    EXPECT_EQ(sub.take(), "MSG foo 1 bar.reply 5\r\nhello\r\nMSG foo 1 0\r\n\r\n");

    // The size as the publisher spelled it (nats-server echoes it).
    pub.send("PUB foo 00003\r\nabc\r\n");
    c.pump();
    EXPECT_EQ(sub.take(), "MSG foo 1 00003\r\nabc\r\n");

    // Split anywhere, the same bytes come out.
    const std::string op = "PUB foo 5\r\nsplit\r\n";
    for (char ch : op) pub.send(std::string_view(&ch, 1));
    c.pump();
    EXPECT_EQ(sub.take(), "MSG foo 1 5\r\nsplit\r\n");

    pub.send("PUB nobody 1\r\nx\r\n");
    c.pump();
    EXPECT_EQ(sub.take(), "");
    EXPECT_EQ(pub.take(), "");
}

TEST_P(client_protocol_test, hpub_becomes_hmsg_or_msg_by_the_receivers_headers) {
    client with = c.connect(c.on(1), R"({"verbose":false,"pedantic":false,"headers":true})");
    client without = c.connect(c.on(2));
    client pub = c.connect(c.on(0), R"({"verbose":false,"pedantic":false,"headers":true})");
    with.send("SUB h.* 1\r\n");
    without.send("SUB h.> 2\r\n");
    c.pump();
    pub.send("HPUB h.x 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\n");
    pub.send("HPUB h.y r.1 12 12\r\nNATS/1.0\r\n\r\n\r\n");
    c.pump();
    EXPECT_EQ(with.take(), "HMSG h.x 1 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\n"
                           "HMSG h.y 1 r.1 12 12\r\nNATS/1.0\r\n\r\n\r\n");
    // A client without headers gets the body alone.
    EXPECT_EQ(without.take(), "MSG h.x 2 5\r\nhello\r\nMSG h.y 2 r.1 0\r\n\r\n");
}

TEST_P(client_protocol_test, wildcard_and_queue_subscribers_across_shards) {
    client star = c.connect(c.on(0));
    client gt = c.connect(c.on(1));
    client all = c.connect(c.on(2));
    std::vector<client> workers;
    for (unsigned k = 0; k < 3; ++k) workers.push_back(c.connect(c.on(k)));
    star.send("SUB orders.* 1\r\n");
    gt.send("SUB orders.> 2\r\n");
    all.send("SUB > 3\r\n");
    for (client& w : workers) w.send("SUB orders.new workers 7\r\n");
    client pub = c.connect(c.on(1));
    c.pump();

    constexpr int n_msgs = 90;
    pub.send(repeat("PUB orders.new 1\r\nx\r\n", n_msgs));
    c.pump();
    EXPECT_EQ(star.take(), repeat("MSG orders.new 1 1\r\nx\r\n", n_msgs));
    EXPECT_EQ(gt.take(), repeat("MSG orders.new 2 1\r\nx\r\n", n_msgs));
    EXPECT_EQ(all.take(), repeat("MSG orders.new 3 1\r\nx\r\n", n_msgs));
    std::size_t total = 0;
    for (client& w : workers) {
        const std::string got = w.take();
        const std::size_t n = count(got, "MSG orders.new 7 1\r\nx\r\n");
        EXPECT_EQ(got.size(), n * std::string_view("MSG orders.new 7 1\r\nx\r\n").size()) << got;
        EXPECT_GT(n, 0u) << "every member gets a share";
        total += n;
    }
    EXPECT_EQ(total, static_cast<std::size_t>(n_msgs)) << "one member per message";

    pub.send("PUB orders.new.eu 1\r\ny\r\n");
    c.pump();
    EXPECT_EQ(star.take(), "");
    EXPECT_EQ(gt.take(), "MSG orders.new.eu 2 1\r\ny\r\n");
    EXPECT_EQ(all.take(), "MSG orders.new.eu 3 1\r\ny\r\n");
    for (client& w : workers) EXPECT_EQ(w.take(), "");
}

TEST_P(client_protocol_test, unsub_with_max_delivers_exactly_that_many) {
    client sub = c.connect(c.on(2));
    client pub = c.connect(c.on(0));
    sub.send("SUB foo 1\r\nUNSUB 1 2\r\n");
    c.pump();
    EXPECT_EQ(c.at(c.on(2)).stats.subscriptions.get(), 1u);
    // Five in one go: the later ones may already be on their way.
    pub.send("PUB foo 1\r\n0\r\nPUB foo 1\r\n1\r\nPUB foo 1\r\n2\r\nPUB foo 1\r\n3\r\nPUB foo "
             "1\r\n4\r\n");
    c.pump();
    EXPECT_EQ(sub.take(), "MSG foo 1 1\r\n0\r\nMSG foo 1 1\r\n1\r\n");
    EXPECT_TRUE(sub.s->subs.empty()) << "the subscription is gone at its maximum";
    EXPECT_EQ(c.at(c.on(2)).stats.subscriptions.get(), 0u);
    const std::uint64_t records = c.records_sent();
    pub.send("PUB foo 1\r\n5\r\n");
    c.pump();
    EXPECT_EQ(sub.take(), "");
    EXPECT_EQ(c.records_sent(), records) << "no shard still routes foo anywhere";

    // A maximum already reached unsubscribes at once.
    sub.send("SUB bar 2\r\n");
    c.pump();
    pub.send("PUB bar 1\r\na\r\n");
    c.pump();
    EXPECT_EQ(sub.take(), "MSG bar 2 1\r\na\r\n");
    sub.send("UNSUB 2 1\r\n");
    c.pump();
    pub.send("PUB bar 1\r\nb\r\n");
    c.pump();
    EXPECT_EQ(sub.take(), "");
}

TEST_P(client_protocol_test, verbose_acknowledges_each_op) {
    client v = c.open(c.on(1));
    v.send(R"(CONNECT {"verbose":true,"pedantic":false})"
           "\r\n");
    EXPECT_EQ(v.take(), "+OK\r\n");
    v.send("SUB foo 1\r\n");
    EXPECT_EQ(v.take(), "+OK\r\n");
    c.pump();
    // +OK comes before the delivery of the client's own message.
    v.send("PUB foo 2\r\nhi\r\n");
    EXPECT_EQ(v.take(), "+OK\r\nMSG foo 1 2\r\nhi\r\n");
    v.send("UNSUB 1\r\n");
    EXPECT_EQ(v.take(), "+OK\r\n");
    v.send("UNSUB 99\r\n"); // unknown sid: still +OK
    EXPECT_EQ(v.take(), "+OK\r\n");
    v.send("PING\r\n");
    c.pump();
    EXPECT_EQ(v.take(), "PONG\r\n");

    // An empty CONNECT is verbose and pedantic.
    client e = c.open(c.on(0));
    e.send("CONNECT {}\r\nPUB hs.e.* 0\r\n\r\n");
    EXPECT_EQ(e.take(), "+OK\r\n-ERR 'Invalid Publish Subject'\r\n+OK\r\n");
}

TEST_P(client_protocol_test, pedantic_and_invalid_subjects) {
    client p = c.connect(c.on(1), R"({"verbose":false,"pedantic":true})");
    client other = c.connect(c.on(2));
    other.send("SUB pb.ped.> 5\r\n");
    p.send("SUB pb.ped.> 1\r\n");
    c.pump();
    // Pedantic reports the bad subject but still delivers the message.
    p.send("PUB pb.ped.* 1\r\nw\r\n");
    c.pump();
    EXPECT_EQ(p.take(), "-ERR 'Invalid Publish Subject'\r\nMSG pb.ped.* 1 1\r\nw\r\n");
    EXPECT_EQ(other.take(), "MSG pb.ped.* 5 1\r\nw\r\n");
    p.send("PUB pb.pe..x 1\r\nw\r\nPUB pb.pe. 1\r\nw\r\n");
    EXPECT_EQ(p.take(), "-ERR 'Invalid Publish Subject'\r\n-ERR 'Invalid Publish Subject'\r\n");
    EXPECT_TRUE(p.s->is_open());

    // Without pedantic a wildcard subject is just delivered.
    other.send("PUB pb.ped.> 1\r\nq\r\n");
    c.pump();
    EXPECT_EQ(other.take(), "MSG pb.ped.> 5 1\r\nq\r\n");
    EXPECT_EQ(p.take(), "MSG pb.ped.> 1 1\r\nq\r\n");

    // An invalid SUB subject is refused whatever pedantic says; the
    // connection stays.
    other.send("SUB foo..bar 6\r\nSUB foo.>.x 7\r\n");
    EXPECT_EQ(other.take(), "-ERR 'Invalid Subject'\r\n-ERR 'Invalid Subject'\r\n");
    EXPECT_TRUE(other.s->subs.count("5"));
    EXPECT_FALSE(other.s->subs.count("6"));
    EXPECT_TRUE(other.s->is_open());

    // Reserved reply prefixes are refused, and nothing is delivered.
    other.send("PUB pb.ped.r _R_.abc 1\r\nx\r\n");
    c.pump();
    EXPECT_EQ(other.take(),
              "-ERR 'Permissions Violation for Publish with Reply of \"_R_.abc\"'\r\n");
    EXPECT_EQ(p.take(), "");

    // Unknown op: -ERR, and the connection closes after it is written.
    other.send("FOO bar\r\n");
    EXPECT_EQ(other.take(), "-ERR 'Unknown Protocol Operation'\r\n");
    EXPECT_EQ(other.s->state, session_state::closing);
}

TEST_P(client_protocol_test, maximum_payload_violation_closes) {
    broker_config cfg = cluster::make_config();
    cfg.max_payload = 16;
    cluster small(GetParam(), cfg);
    client a = small.connect(small.on(1));
    a.send("PUB foo 16\r\n0123456789abcdef\r\n");
    EXPECT_EQ(a.take(), "");
    a.send("PUB foo 17\r\n");
    EXPECT_EQ(a.take(), "-ERR 'Maximum Payload Violation'\r\n");
    EXPECT_EQ(a.s->state, session_state::closing);
}

TEST_P(client_protocol_test, echo_off_skips_the_clients_own_subscription) {
    client me = c.connect(c.on(0), R"({"verbose":false,"pedantic":false,"echo":false})");
    client other = c.connect(c.on(2));
    me.send("SUB e 1\r\n");
    other.send("SUB e 2\r\n");
    c.pump();
    me.send("PUB e 1\r\nx\r\n");
    c.pump();
    EXPECT_EQ(me.take(), "");
    EXPECT_EQ(other.take(), "MSG e 2 1\r\nx\r\n");
    other.send("PUB e 1\r\ny\r\n");
    c.pump();
    EXPECT_EQ(me.take(), "MSG e 1 1\r\ny\r\n");
    EXPECT_EQ(other.take(), "MSG e 2 1\r\ny\r\n");
}

// nats-server passes over the publisher's own queue member when echo is off
// and gives the message to another member of the group.
TEST_P(client_protocol_test, echo_off_publisher_in_its_own_queue_group) {
    // Regression test: the router once dropped this message (fixed).
    client me = c.connect(c.on(0), R"({"verbose":false,"pedantic":false,"echo":false})");
    client other = c.connect(c.on(1));
    me.send("SUB jobs workers 1\r\n");
    other.send("SUB jobs workers 2\r\n");
    c.pump();
    constexpr int n_msgs = 40;
    me.send(repeat("PUB jobs 1\r\nj\r\n", n_msgs));
    c.pump();
    EXPECT_EQ(me.take(), "");
    EXPECT_EQ(other.take(), repeat("MSG jobs 2 1\r\nj\r\n", n_msgs));
}

TEST_P(client_protocol_test, no_responders_gets_503) {
    const char* nr = R"({"verbose":false,"pedantic":false,"headers":true,"no_responders":true})";
    client req = c.connect(c.on(0), nr);
    req.send("SUB nr.inbox.1 1\r\nPUB nr.nobody nr.inbox.1 3\r\nreq\r\n");
    c.pump();
    EXPECT_EQ(req.take(), "HMSG nr.inbox.1 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\n");
    // A header request too.
    req.send("HPUB nr.nobody2 nr.inbox.1 12 15\r\nNATS/1.0\r\n\r\nreq\r\n");
    c.pump();
    EXPECT_EQ(req.take(), "HMSG nr.inbox.1 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\n");
    // No reply subject: no status.
    req.send("PUB nr.nobody 1\r\nx\r\n");
    c.pump();
    EXPECT_EQ(req.take(), "");

    // A responder on another shard: the request goes there, no 503.
    client responder = c.connect(c.on(2));
    responder.send("SUB nr.service 5\r\n");
    c.pump();
    req.send("PUB nr.service nr.inbox.1 3\r\nreq\r\n");
    c.pump();
    EXPECT_EQ(req.take(), "");
    EXPECT_EQ(responder.take(), "MSG nr.service 5 nr.inbox.1 3\r\nreq\r\n");
    responder.send("PUB nr.inbox.1 3\r\nrep\r\n");
    c.pump();
    EXPECT_EQ(req.take(), "MSG nr.inbox.1 1 3\r\nrep\r\n");

    // The option off: silence.
    client plain = c.connect(c.on(1), R"({"verbose":false,"pedantic":false,"headers":true})");
    plain.send("SUB nr.inbox.2 1\r\nPUB nr.nobody nr.inbox.2 3\r\nreq\r\n");
    c.pump();
    EXPECT_EQ(plain.take(), "");

    // no_responders without headers is refused.
    client bad = c.open(c.on(1));
    bad.send(R"(CONNECT {"verbose":false,"pedantic":false,"no_responders":true})"
             "\r\n");
    EXPECT_EQ(bad.take(), "-ERR 'no responders requires headers support'\r\n");
    EXPECT_EQ(bad.s->state, session_state::closing);
}

TEST_P(client_protocol_test, pong_barrier_waits_for_the_other_shards) {
    client b = c.connect(c.on(1));
    client a = c.connect(c.on(0));

    // A SUB, then PING: on several shards the PONG waits until the others
    // consumed the interest record.
    b.send("SUB foo 1\r\nPING\r\n");
    if (sharded()) {
        EXPECT_EQ(b.take(), "") << "PONG before the other shards drained their mailboxes";
        EXPECT_TRUE(c.at(c.on(1)).proto.has_barrier_waiters());
    } else {
        EXPECT_EQ(b.take(), "PONG\r\n");
    }
    c.pump();
    EXPECT_EQ(b.take(), sharded() ? "PONG\r\n" : "");

    // Once it has its PONG, the SUB is in effect for every publisher; a
    // PUB then PING: the PONG vouches that the message was delivered, and
    // what follows the PING waits for it.
    a.send("PUB foo 2\r\nhi\r\nPING\r\nPUB foo 3\r\nbye\r\n");
    if (sharded()) {
        EXPECT_EQ(a.take(), "");
        EXPECT_EQ(b.take(), "");
        EXPECT_FALSE(a.s->input.parked.empty()) << "the PUB after the PING waits";
    } else {
        EXPECT_EQ(a.take(), "PONG\r\n");
    }
    c.pump();
    EXPECT_EQ(a.take(), sharded() ? "PONG\r\n" : "");
    EXPECT_EQ(b.take(), "MSG foo 1 2\r\nhi\r\nMSG foo 1 3\r\nbye\r\n");
    EXPECT_TRUE(a.s->input.parked.empty());

    // Nothing crossed since: PONG at once.
    a.send("PING\r\n");
    EXPECT_EQ(a.take(), "PONG\r\n");

    // Input after the PING is processed in order once the PONG is out.
    a.send("SUB bar 9\r\nPING\r\nPUB bar 1\r\nz\r\n");
    if (sharded()) {
        EXPECT_EQ(a.take(), "");
        c.pump();
    }
    EXPECT_EQ(a.take(), "PONG\r\nMSG bar 9 1\r\nz\r\n");
}

TEST_P(client_protocol_test, many_records_through_small_rings_arrive_in_order) {
    broker_config cfg = cluster::make_config();
    cfg.ring_bytes = 4096; // the smallest ring: most records overflow
    cluster small(GetParam(), cfg);
    client sub = small.connect(small.on(1));
    client pub = small.connect(small.on(0));
    sub.send("SUB seq 1\r\n");
    small.pump();
    std::string in, want;
    const std::string pad(100, '.');
    for (int i = 0; i < 500; ++i) {
        const std::string body = std::to_string(i) + pad;
        in += "PUB seq " + std::to_string(body.size()) + "\r\n" + body + "\r\n";
        want += "MSG seq 1 " + std::to_string(body.size()) + "\r\n" + body + "\r\n";
    }
    pub.send(in);
    if (sharded()) {
        EXPECT_GT(small.at(small.on(0)).mail.overflow_bytes(), 0u) << "the test means to overflow";
    }
    small.pump();
    EXPECT_EQ(sub.take(), want);
    EXPECT_EQ(small.at(small.on(0)).mail.overflow_bytes(), 0u);
}

// Flow control: a subscriber past a quarter of max_pending pauses the
// publisher that feeds it (through a flow record when it lives on another
// shard) until its output drains below an eighth.
TEST_P(client_protocol_test, subscriber_falling_behind_pauses_its_publisher) {
    broker_config cfg = cluster::make_config();
    cfg.max_pending = 8192; // pause past 2048 pending bytes, resume at 1024
    cluster small(GetParam(), cfg);
    client sub = small.connect(small.on(1));
    client pub = small.connect(small.on(0));
    client bystander = small.connect(small.on(2));
    sub.send("SUB f 1\r\n");
    small.pump();
    const std::string op = "PUB f 100\r\n" + std::string(100, 'x') + "\r\n"; // 115 bytes out each
    pub.send(repeat(op, 10));
    bystander.send(repeat(op, 2));
    small.pump();
    EXPECT_EQ(pub.s->flow.pausers, 0u) << "1380 bytes pending: under the watermark";
    pub.send(repeat(op, 10));
    small.pump();
    EXPECT_TRUE(sub.s->flow.congested);
    EXPECT_EQ(pub.s->flow.pausers, 1u) << "2530 bytes pending: the publisher that fed it waits";
    EXPECT_EQ(bystander.s->flow.pausers, 0u) << "it sent nothing since the watermark passed";
    EXPECT_EQ(small.at(small.on(0)).stats.paused_publishers.get(), 1u);
    EXPECT_EQ(count(sub.take(), "MSG f 1 100\r\n"), 22u) << "nothing was dropped";
    // Its output was written: the publisher is read again.
    small.at(small.on(1)).flow.sent(*sub.s, 2530, clock::now());
    small.pump();
    EXPECT_FALSE(sub.s->flow.congested);
    EXPECT_EQ(pub.s->flow.pausers, 0u);
    EXPECT_EQ(small.at(small.on(0)).stats.paused_publishers.get(), 0u);
}

TEST_P(client_protocol_test, closed_session_leaves_every_shard) {
    client sub = c.connect(c.on(2));
    client pub = c.connect(c.on(0));
    sub.send("SUB gone 1\r\nSUB gone.* 2\r\nSUB gone q 3\r\n");
    c.pump();
    pub.send("PUB gone 1\r\nx\r\n");
    c.pump();
    EXPECT_EQ(sub.take(), "MSG gone 1 1\r\nx\r\nMSG gone 3 1\r\nx\r\n");
    EXPECT_EQ(c.close(sub), 1);
    EXPECT_TRUE(sub.s->subs.empty());
    c.pump();
    const std::uint64_t records = c.records_sent();
    pub.send("PUB gone 1\r\nx\r\nPUB gone.a 1\r\nx\r\n");
    c.pump();
    EXPECT_EQ(sub.take(), "");
    EXPECT_EQ(c.records_sent(), records);
}

// Issue #20: a client with many subscriptions leaves in slices across turns;
// until its last one is gone it receives nothing, and its queue groups are
// served by the other members.
TEST_P(client_protocol_test, teardown_of_many_subscriptions_takes_slices) {
    client big = c.connect(c.on(1));
    client other = c.connect(c.on(1));
    client pub = c.connect(c.on(0));
    std::string subs = "SUB work grp 1\r\nSUB news 2\r\n";
    constexpr int n = 40000;
    for (int i = 0; i < n; ++i)
        subs += "SUB u." + std::to_string(i) + " " + std::to_string(i + 3) + "\r\n";
    big.send(subs);
    sim_shard& sh = c.at(c.on(1));
    ASSERT_EQ(big.s->subs.size(), std::size_t{n + 2});
    other.send("SUB work grp 1\r\n");
    c.pump();
    big.take();
    other.take();

    c.close(big, false);
    EXPECT_TRUE(sh.teardown.pending());
    ASSERT_TRUE(sh.teardown.run());
    const std::size_t left = big.s->subs.size();
    EXPECT_GT(left, 0u) << "one slice removed all " << n << " subscriptions";
    EXPECT_LT(left, std::size_t{n + 2});
    // Half torn down: the queue group still gets every message, through the
    // member that is still open; the closed one gets nothing.
    for (int i = 0; i < 20; ++i) pub.send("PUB work 1\r\nx\r\nPUB news 1\r\ny\r\n");
    c.pump();
    std::string got = other.take();
    int msgs = 0;
    for (std::size_t at = 0; (at = got.find("MSG work 1 1", at)) != std::string::npos; ++at) ++msgs;
    EXPECT_EQ(msgs, 20);
    EXPECT_EQ(big.s->out.queued, "");

    int slices = 1;
    while (sh.teardown.run()) ++slices;
    EXPECT_GT(slices, 1);
    EXPECT_TRUE(big.s->subs.empty());
    EXPECT_EQ(sh.stats.subscriptions.get(), 1);
    c.pump();
    sh.sessions.end_turn();
}

// Issue #20: one client's burst of input runs for at most input_budget per
// turn; the rest waits, in order, and its PONG comes after all of it.
TEST_P(client_protocol_test, a_burst_of_input_yields_and_resumes_in_order) {
    client big = c.connect(c.on(0));
    std::string subs;
    constexpr int n = 40000;
    for (int i = 0; i < n; ++i)
        subs += "SUB v." + std::to_string(i) + " " + std::to_string(i + 1) + "\r\n";
    subs += "PING\r\n";
    big.send_raw(subs);
    sim_shard& sh = c.at(c.on(0));
    ASSERT_TRUE(sh.proto.has_yielded()) << "40000 SUBs fit one input budget";
    EXPECT_TRUE(big.s->input.yielded);
    EXPECT_LT(big.s->subs.size(), std::size_t{n});
    // More input while it waits goes behind what it parked.
    big.send_raw("SUB late 0\r\nPING\r\n");
    int turns = 0;
    while (sh.proto.has_yielded()) {
        sh.proto.begin_turn();
        sh.proto.resume_yielded();
        ++turns;
        c.pump();
    }
    EXPECT_GE(turns, 1);
    EXPECT_EQ(big.s->subs.size(), std::size_t{n + 1});
    EXPECT_EQ(big.take(), "PONG\r\nPONG\r\n");
}

// A record larger than the rings hold (max_payload raised by a reload past
// what the rings were sized for) crosses shards by pointer, intact.
TEST_P(client_protocol_test, a_record_larger_than_the_ring_crosses_by_pointer) {
    client sub = c.connect(c.on(1));
    client pub = c.connect(c.on(0));
    sub.send("SUB big 1\r\nPING\r\n");
    c.pump();
    EXPECT_EQ(sub.take(), "PONG\r\n");
    std::string body(100 * 1024, 'b'); // rings here are 64 KiB
    body.front() = '<';
    body.back() = '>';
    for (int i = 0; i < 3; ++i)
        pub.send("PUB big " + std::to_string(body.size()) + "\r\n" + body + "\r\n");
    c.pump();
    const std::string one = "MSG big 1 " + std::to_string(body.size()) + "\r\n" + body + "\r\n";
    EXPECT_EQ(sub.take(), one + one + one);
    std::uint64_t indirect = 0;
    for (unsigned k = 0; k < c.shards(); ++k) indirect += c.at(k).stats.ring_indirect.get();
    EXPECT_EQ(indirect, c.shards() > 1 ? 3u : 0u);
}

// ---- authentication and permissions ----

// The test config with the security settings of `text` (a config file).
broker_config auth_config(const char* text, const char* name) {
    config::options_result r = config::load_config_string(text, name);
    EXPECT_TRUE(r.ok()) << r.error_text();
    broker_config cfg = cluster::make_config();
    std::vector<std::string> errors;
    cfg.auth = std::make_shared<const auth::authenticator>(r.options.security, &errors);
    EXPECT_TRUE(errors.empty());
    return cfg;
}

constexpr const char* k_users = R"(
authorization {
  users: [
    { user: alice, password: wonderland,
      permissions: { publish: { deny: ["secret.>"] }, subscribe: { deny: ["admin.>"] } } }
    { user: bob, password: builder }
  ]
}
)";

constexpr const char* k_alice =
    R"({"verbose":false,"pedantic":false,"user":"alice","pass":"wonderland"})";
constexpr const char* k_bob = R"({"verbose":false,"pedantic":false,"user":"bob","pass":"builder"})";

class client_auth_test : public ::testing::TestWithParam<unsigned> {
protected:
    cluster c{GetParam(), auth_config(k_users, "users.conf")};
};

// Issue #20: a service request from a client whose RTT is not yet known
// tells the responder rtt 0, and makes the server measure one at once (a PING,
// as nats-server's getRTTValue does), so the next requests carry it.
TEST_P(client_protocol_test, a_service_request_with_no_rtt_yet_measures_one) {
    constexpr const char* k_service = R"(
accounts {
  A { users: [{user: a, password: a}], exports: [{service: "svc"}] }
  B { users: [{user: b, password: b}], imports: [{service: {account: A, subject: "svc"}}] }
}
)";
    cluster sc{GetParam(), auth_config(k_service, "svc.conf")};
    client responder =
        sc.connect(sc.on(1), R"({"verbose":false,"user":"a","pass":"a","headers":true})");
    responder.send("SUB svc 1\r\nPING\r\n");
    sc.pump();
    responder.take();
    client req = sc.connect(sc.on(0), R"({"verbose":false,"user":"b","pass":"b","lang":"c"})");
    req.send("PING\r\n");
    EXPECT_EQ(req.take(), "PONG\r\n");
    req.send("PUB svc inbox.1 1\r\nx\r\n");
    sc.pump();
    EXPECT_NE(responder.take().find("Nats-Request-Info: {\"acc\":\"B\",\"rtt\":0}"),
              std::string::npos);
    EXPECT_EQ(req.take(), "PING\r\n") << "no RTT measurement started";
    req.send("PONG\r\n");
    EXPECT_TRUE(req.s->ping.rtt_measured);
    req.send("PUB svc inbox.1 1\r\nx\r\n");
    sc.pump();
    const std::string got = responder.take();
    EXPECT_EQ(got.find("\"rtt\":0}"), std::string::npos) << got;
    EXPECT_NE(got.find("\"rtt\":"), std::string::npos) << got;
    EXPECT_EQ(req.take(), "") << "a second RTT PING";
}

TEST_P(client_auth_test, info_requires_auth_and_bad_credentials_are_refused) {
    std::string info;
    client x = c.open(c.on(0), &info);
    EXPECT_NE(info.find("\"auth_required\":true"), std::string::npos) << info;
    x.send(R"(CONNECT {"verbose":false,"pedantic":false,"user":"alice","pass":"nope"})"
           "\r\n");
    EXPECT_EQ(x.take(), "-ERR 'Authorization Violation'\r\n");
    EXPECT_EQ(x.s->state, session_state::closing);

    client early = c.open(c.on(1));
    early.send("SUB foo 1\r\n");
    EXPECT_EQ(early.take(), "-ERR 'Authorization Violation'\r\n");
    EXPECT_EQ(early.s->state, session_state::closing);
    EXPECT_TRUE(early.s->subs.empty());

    client none = c.open(c.on(2));
    none.send("CONNECT {\"verbose\":false}\r\n");
    EXPECT_EQ(none.take(), "-ERR 'Authorization Violation'\r\n");

    client ok = c.connect(c.on(2), k_bob);
    EXPECT_EQ(ok.s->auth.user, "bob");
    EXPECT_FALSE(ok.s->auth.pending);
}

TEST_P(client_auth_test, permission_denials_have_the_exact_texts) {
    client alice = c.connect(c.on(0), k_alice);
    client bob = c.connect(c.on(2), k_bob);
    bob.send("SUB secret.> 1\r\nSUB public.> 2\r\n");
    c.pump();

    alice.send("PUB secret.x 1\r\nx\r\n");
    c.pump();
    EXPECT_EQ(alice.take(), "-ERR 'Permissions Violation for Publish to \"secret.x\"'\r\n");
    EXPECT_EQ(bob.take(), "") << "a denied message goes nowhere";
    EXPECT_TRUE(alice.s->is_open()) << "a permission violation does not close";

    alice.send("PUB public.x 1\r\ny\r\n");
    c.pump();
    EXPECT_EQ(alice.take(), "");
    EXPECT_EQ(bob.take(), "MSG public.x 2 1\r\ny\r\n");

    alice.send("SUB admin.x 1\r\nSUB admin.x q 2\r\nSUB admin.> 3\r\n");
    EXPECT_EQ(alice.take(),
              "-ERR 'Permissions Violation for Subscription to \"admin.x\"'\r\n"
              "-ERR 'Permissions Violation for Subscription to \"admin.x\" using queue \"q\"'\r\n"
              "-ERR 'Permissions Violation for Subscription to \"admin.>\"'\r\n");
    EXPECT_TRUE(alice.s->subs.empty());

    // A wildcard that covers the denied subjects is allowed, but deliveries
    // on denied subjects are filtered out.
    alice.send("SUB > 4\r\n");
    EXPECT_EQ(alice.take(), "");
    c.pump();
    bob.send("PUB admin.x 1\r\na\r\nPUB news 1\r\nn\r\n");
    c.pump();
    EXPECT_EQ(alice.take(), "MSG news 4 1\r\nn\r\n");

    // Bob has no restrictions.
    bob.send("PUB secret.y 1\r\ns\r\n");
    c.pump();
    EXPECT_EQ(bob.take(), "MSG secret.y 1 1\r\ns\r\n");
    EXPECT_EQ(alice.take(), "MSG secret.y 4 1\r\ns\r\n")
        << "alice may not publish there, but may receive";
}

// nats-server (deliverMsg returning false for a denied subject) hands a
// queue message to another member when the picked one may not receive it.
TEST_P(client_auth_test, queue_member_whose_deny_filter_drops_the_message) {
    // Regression test: the router once dropped this message (fixed).
    client alice = c.connect(c.on(0), k_alice);
    client bob = c.connect(c.on(1), k_bob);
    alice.send("SUB > workers 1\r\n"); // allowed; deliveries on admin.> are filtered
    bob.send("SUB > workers 2\r\n");
    c.pump();
    EXPECT_EQ(alice.take(), "");
    constexpr int n_msgs = 40;
    bob.send(repeat("PUB admin.x 1\r\na\r\n", n_msgs));
    c.pump();
    EXPECT_EQ(alice.take(), "");
    EXPECT_EQ(bob.take(), repeat("MSG admin.x 2 1\r\na\r\n", n_msgs));
}

std::string shard_name(const ::testing::TestParamInfo<unsigned>& p) {
    return std::to_string(p.param) + "_shards";
}
INSTANTIATE_TEST_SUITE_P(shards, client_protocol_test, ::testing::Values(1u, 3u), shard_name);
INSTANTIATE_TEST_SUITE_P(shards, client_auth_test, ::testing::Values(1u, 3u), shard_name);

} // namespace
