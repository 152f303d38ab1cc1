// The router on N simulated shards: each router writes into a fake outbox
// that records deliveries and queues ring records (encoded with
// ring_record::encode) for the destination routers; settle() pumps those
// queues into router::on_record until they are empty, as the rings would.
// Every case runs on 1 and on 3 shards.
#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <natrix/auth/authenticator.hh>
#include <natrix/broker/outbox.hh>
#include <natrix/broker/ring_record.hh>
#include <natrix/broker/router.hh>
#include <natrix/broker/session.hh>
#include <natrix/config/server_options.hh>

namespace {

using namespace natrix;
using namespace natrix::broker;

struct delivered {
    unsigned shard = 0;
    const subscription* sub = nullptr;
    const session* owner = nullptr;
    std::string sid, subject, reply, payload;
    std::uint32_t header_size = 0;
};

class harness;

class fake_outbox final : public outbox {
public:
    fake_outbox(harness& h, unsigned shard)
        : h_(h)
        , shard_(shard) {}
    bool deliver(subscription& s, const message& m) override;
    void forward(unsigned to, const ring_record::message_record& r) override;
    void announce(const ring_record::interest_record& r) override;
    void expired(subscription& s) override;
    void to_route(std::uint16_t route, std::uint16_t account, const message& m,
                  const std::vector<std::string_view>& queues) override;
    void local_interest(std::uint16_t account, std::string_view pattern, std::string_view queue,
                        std::uint32_t before, std::uint32_t after) override;
    void cluster_interest(std::uint16_t account, std::string_view pattern, std::string_view queue,
                          bool present) override;

private:
    harness& h_;
    unsigned shard_;
};

class harness {
public:
    explicit harness(unsigned n, std::shared_ptr<const auth::account_set> accounts = nullptr)
        : n_(n) {
        inbox_.resize(n);
        for (unsigned i = 0; i < n; ++i) {
            outboxes_.push_back(std::make_unique<fake_outbox>(*this, i));
            routers_.push_back(
                std::make_unique<router>(i, n, accounts, *outboxes_.back(), 0x5eed0000u + i));
            sessions_.push_back(std::make_unique<session>(protocol::parser_config{}));
        }
    }

    unsigned shards() const { return n_; }
    // The k-th shard, wrapping: "shard 2" is shard 0 when there is one.
    unsigned on(unsigned k) const { return k % n_; }
    router& at(unsigned shard) { return *routers_[shard]; }
    // A default owner per shard (a session lives on one shard).
    session* default_owner(unsigned shard) { return sessions_[shard].get(); }
    session* new_session() {
        sessions_.push_back(std::make_unique<session>(protocol::parser_config{}));
        return sessions_.back().get();
    }

    subscription* subscribe(unsigned shard, std::string subject, std::string sid,
                            std::string queue = "", auth::account_id acct = auth::global_account,
                            session* owner = nullptr) {
        auto s = std::make_unique<subscription>();
        s->owner = owner ? owner : default_owner(shard);
        s->subject = std::move(subject);
        s->queue = std::move(queue);
        s->sid = std::move(sid);
        subscription* raw = s.get();
        subs_.push_back(std::move(s));
        home_[raw] = shard;
        at(shard).subscribe(acct, raw);
        return raw;
    }
    void unsubscribe(subscription* s, auth::account_id acct = auth::global_account) {
        at(home_.at(s)).unsubscribe(acct, s);
    }

    publish_result publish(unsigned shard, std::string_view subject, std::string_view payload,
                           std::string_view reply = {},
                           auth::account_id acct = auth::global_account, publisher from = {}) {
        const std::string size = std::to_string(payload.size());
        message m{subject, reply, payload, 0, size, {}, {}};
        return at(shard).publish(from, acct, m);
    }

    // Pumps the simulated rings until every queue is empty: records go to
    // router::on_record on their destination, in order per destination.
    std::size_t settle() {
        std::size_t handled = 0;
        bool any = true;
        while (any) {
            any = false;
            for (unsigned to = 0; to < n_; ++to) {
                if (inbox_[to].empty()) continue;
                const record r = std::move(inbox_[to].front());
                inbox_[to].pop_front();
                at(to).on_record(r.type, r.body);
                any = true;
                ++handled;
                if (handled > 10'000'000) {
                    ADD_FAILURE() << "records keep coming";
                    return handled;
                }
            }
        }
        return handled;
    }

    std::vector<delivered> take() {
        std::vector<delivered> d;
        d.swap(deliveries_);
        return d;
    }

    struct record {
        unsigned from;
        std::uint32_t type;
        std::string body;
    };
    std::vector<std::deque<record>> inbox_;
    std::vector<delivered> deliveries_;
    std::vector<std::pair<unsigned, subscription*>> expired_;
    struct routed {
        unsigned shard;
        std::uint16_t route;
        std::string subject;
        std::vector<std::string> queues;
        std::string reply;
    };
    std::vector<routed> routed_;
    struct interest_edge {
        unsigned shard;
        std::string pattern, queue;
        std::uint32_t before, after;
    };
    std::vector<interest_edge> edges_;
    struct presence {
        unsigned shard;
        std::string pattern, queue;
        bool present;
    };
    std::vector<presence> presence_;
    std::size_t forwards_ = 0, announces_ = 0;

private:
    unsigned n_;
    std::vector<std::unique_ptr<fake_outbox>> outboxes_;
    std::vector<std::unique_ptr<router>> routers_;
    std::vector<std::unique_ptr<session>> sessions_;
    std::vector<std::unique_ptr<subscription>> subs_;
    std::map<const subscription*, unsigned> home_;
};

bool fake_outbox::deliver(subscription& s, const message& m) {
    EXPECT_NE(s.owner, nullptr);
    h_.deliveries_.push_back(delivered{shard_, &s, s.owner, s.sid, std::string(m.subject),
                                       std::string(m.reply), std::string(m.payload),
                                       m.header_size});
    return true;
}

void fake_outbox::forward(unsigned to, const ring_record::message_record& r) {
    EXPECT_NE(to, shard_) << "a shard forwards to itself";
    EXPECT_LT(to, h_.shards());
    std::string body;
    ring_record::encode(body, r);
    h_.inbox_[to].push_back({shard_, ring_record::message_type, std::move(body)});
    ++h_.forwards_;
}

void fake_outbox::to_route(std::uint16_t route, std::uint16_t, const message& m,
                           const std::vector<std::string_view>& queues) {
    EXPECT_GE(route, h_.shards()) << "a route id is past the shard ids";
    h_.routed_.push_back({shard_, route, std::string(m.subject),
                          std::vector<std::string>(queues.begin(), queues.end()),
                          std::string(m.reply)});
}

void fake_outbox::cluster_interest(std::uint16_t, std::string_view pattern, std::string_view queue,
                                   bool present) {
    h_.presence_.push_back({shard_, std::string(pattern), std::string(queue), present});
}

void fake_outbox::local_interest(std::uint16_t, std::string_view pattern, std::string_view queue,
                                 std::uint32_t before, std::uint32_t after) {
    h_.edges_.push_back({shard_, std::string(pattern), std::string(queue), before, after});
}

void fake_outbox::announce(const ring_record::interest_record& r) {
    // A shard announces its own interest, or a route's it holds.
    if (r.shard < h_.shards()) {
        EXPECT_EQ(r.shard, shard_);
    }
    std::string body;
    ring_record::encode(body, r);
    for (unsigned t = 0; t < h_.shards(); ++t)
        if (t != shard_) h_.inbox_[t].push_back({shard_, ring_record::interest_type, body});
    ++h_.announces_;
}

void fake_outbox::expired(subscription& s) {
    h_.expired_.push_back({shard_, &s});
}

std::multiset<std::string> sids_of(const std::vector<delivered>& d) {
    std::multiset<std::string> s;
    for (const delivered& x : d) s.insert(x.sid);
    return s;
}

std::size_t count_sid(const std::vector<delivered>& d, std::string_view sid) {
    return static_cast<std::size_t>(
        std::count_if(d.begin(), d.end(), [&](const delivered& x) { return x.sid == sid; }));
}

// Accounts the way the server builds them: config text -> security options
// -> authenticator, whose account set every router shares.
std::shared_ptr<const auth::account_set> accounts_from(const std::string& text) {
    config::options_result r = config::load_config_string(text, "test.conf");
    EXPECT_TRUE(r.ok()) << r.error_text();
    std::vector<std::string> errors;
    auth::authenticator a(r.options.security, &errors);
    EXPECT_TRUE(errors.empty()) << errors.front();
    return a.shared_accounts();
}

auth::account_id account(const std::shared_ptr<const auth::account_set>& set,
                         std::string_view name) {
    auto id = set->find(name);
    EXPECT_TRUE(id.has_value()) << name;
    return id.value_or(0);
}

class router_test : public ::testing::TestWithParam<unsigned> {
protected:
    harness h{GetParam()};
};

TEST_P(router_test, literal_subscribers_on_every_shard) {
    for (unsigned k = 0; k < 3; ++k) h.subscribe(h.on(k), "orders.new", "s" + std::to_string(k));
    h.subscribe(h.on(1), "orders.old", "other");
    h.settle();
    for (unsigned from = 0; from < h.shards(); ++from) {
        const publish_result r = h.publish(from, "orders.new", "hello", "inbox.1");
        EXPECT_TRUE(r.delivered);
        EXPECT_EQ(r.crossed, h.shards() > 1) << "the subscribers span every shard";
        h.settle();
        const auto d = h.take();
        EXPECT_EQ(sids_of(d), (std::multiset<std::string>{"s0", "s1", "s2"}))
            << "from shard " << from;
        for (const delivered& x : d) {
            EXPECT_EQ(x.subject, "orders.new");
            EXPECT_EQ(x.reply, "inbox.1");
            EXPECT_EQ(x.payload, "hello");
            EXPECT_EQ(x.shard, h.on(static_cast<unsigned>(x.sid[1] - '0')))
                << "delivered on its own shard";
        }
    }
    const publish_result none = h.publish(0, "orders.none", "x");
    EXPECT_FALSE(none.delivered);
    EXPECT_FALSE(none.crossed);
    EXPECT_EQ(h.settle(), 0u);
    EXPECT_TRUE(h.take().empty());
}

TEST_P(router_test, wildcard_subscribers_on_any_shard) {
    h.subscribe(h.on(0), "foo.*", "star");
    h.subscribe(h.on(1), "foo.>", "gt");
    h.subscribe(h.on(2), "foo.bar", "lit");
    h.subscribe(h.on(1), ">", "all");
    h.subscribe(h.on(2), "*.bar", "starbar");
    h.subscribe(h.on(0), "foo.*.baz", "mid");
    h.settle();
    const std::vector<std::pair<std::string, std::multiset<std::string>>> cases = {
        {"foo.bar", {"star", "gt", "lit", "all", "starbar"}},
        {"foo.bar.baz", {"gt", "all", "mid"}},
        {"foo.qux.baz", {"gt", "all", "mid"}},
        {"foo", {"all"}},
        {"x.bar", {"all", "starbar"}},
        {"foo.bar.baz.deep", {"gt", "all"}},
    };
    for (unsigned from = 0; from < h.shards(); ++from) {
        for (const auto& [subject, want] : cases) {
            EXPECT_TRUE(h.publish(from, subject, "p").delivered);
            h.settle();
            const auto d = h.take();
            EXPECT_EQ(sids_of(d), want) << subject << " from shard " << from;
            for (const delivered& x : d) EXPECT_EQ(x.subject, subject);
        }
    }
}

TEST_P(router_test, queue_group_gets_each_message_exactly_once) {
    std::vector<std::string> g1, g2;
    for (unsigned k = 0; k < 3; ++k) {
        g1.push_back("g1m" + std::to_string(k));
        h.subscribe(h.on(k), "work.*", g1.back(), "g1");
    }
    for (unsigned k = 1; k < 3; ++k) {
        g2.push_back("g2m" + std::to_string(k));
        h.subscribe(h.on(k), "work.>", g2.back(), "g2");
    }
    h.settle();
    constexpr int n_msgs = 600;
    std::map<std::string, int> per_member;
    for (int i = 0; i < n_msgs; ++i) {
        EXPECT_TRUE(
            h.publish(h.on(static_cast<unsigned>(i)), "work.item", std::to_string(i)).delivered);
        h.settle();
        const auto d = h.take();
        int n1 = 0, n2 = 0;
        for (const delivered& x : d) {
            EXPECT_EQ(x.payload, std::to_string(i));
            ++per_member[x.sid];
            if (x.sid.starts_with("g1")) ++n1;
            if (x.sid.starts_with("g2")) ++n2;
        }
        ASSERT_EQ(n1, 1) << "message " << i;
        ASSERT_EQ(n2, 1) << "message " << i;
    }
    // Every member, wherever it lives, gets a share.
    for (const auto& m : g1) EXPECT_GT(per_member[m], n_msgs / 3 / 4) << m;
    for (const auto& m : g2) EXPECT_GT(per_member[m], n_msgs / 2 / 4) << m;
}

TEST_P(router_test, queue_group_in_flight_batch_is_still_exactly_once) {
    // Many messages published before any record is consumed.
    for (unsigned k = 0; k < 3; ++k) h.subscribe(h.on(k), "batch", "m" + std::to_string(k), "q");
    h.settle();
    for (int i = 0; i < 300; ++i)
        h.publish(h.on(static_cast<unsigned>(i)), "batch", std::to_string(i));
    h.settle();
    const auto d = h.take();
    ASSERT_EQ(d.size(), 300u);
    std::set<std::string> payloads;
    for (const delivered& x : d) payloads.insert(x.payload);
    EXPECT_EQ(payloads.size(), 300u);
    for (unsigned k = 0; k < 3; ++k) EXPECT_GT(count_sid(d, "m" + std::to_string(k)), 20u);
}

TEST_P(router_test, plain_and_queue_on_the_same_subject) {
    h.subscribe(h.on(0), "jobs", "plain0");
    h.subscribe(h.on(2), "jobs", "plain2");
    for (unsigned k = 0; k < 3; ++k)
        h.subscribe(h.on(k + 1), "jobs", "w" + std::to_string(k), "workers");
    h.settle();
    constexpr int n_msgs = 150;
    int workers = 0;
    for (int i = 0; i < n_msgs; ++i) {
        h.publish(h.on(static_cast<unsigned>(i)), "jobs", "j");
        h.settle();
        const auto d = h.take();
        EXPECT_EQ(count_sid(d, "plain0"), 1u);
        EXPECT_EQ(count_sid(d, "plain2"), 1u);
        const std::size_t w = count_sid(d, "w0") + count_sid(d, "w1") + count_sid(d, "w2");
        EXPECT_EQ(w, 1u) << "message " << i;
        workers += static_cast<int>(w);
    }
    EXPECT_EQ(workers, n_msgs);
}

TEST_P(router_test, echo_off_skips_the_publishers_own_subscription) {
    // A session's subscriptions live on its own shard, as in the broker.
    const unsigned home = h.on(0);
    session* me = h.new_session();
    session* neighbour = h.new_session(); // same shard
    session* far = h.new_session();       // another shard (when there is one)
    h.subscribe(home, "chat", "mine", "", auth::global_account, me);
    h.subscribe(home, "chat", "neighbour", "", auth::global_account, neighbour);
    h.subscribe(h.on(2), "chat", "far", "", auth::global_account, far);
    h.settle();

    h.publish(home, "chat", "no echo", {}, auth::global_account, publisher{me, false, {}});
    h.settle();
    EXPECT_EQ(sids_of(h.take()), (std::multiset<std::string>{"neighbour", "far"}));

    h.publish(home, "chat", "echo", {}, auth::global_account, publisher{me, true, {}});
    h.settle();
    EXPECT_EQ(sids_of(h.take()), (std::multiset<std::string>{"mine", "neighbour", "far"}));

    // Echo off concerns the publisher only.
    h.publish(home, "chat", "x", {}, auth::global_account, publisher{neighbour, false, {}});
    h.settle();
    EXPECT_EQ(sids_of(h.take()), (std::multiset<std::string>{"mine", "far"}));
}

// nats-server (client.go deliverMsg/processMsgResults): with echo off the
// publisher's own queue member is passed over and another member of the
// group gets the message.
TEST_P(router_test, echo_off_publisher_in_its_own_queue_group) {
    // Regression test: the router once dropped this message (fixed).
    const unsigned home = h.on(0);
    session* me = h.new_session();
    session* other = h.new_session();
    h.subscribe(home, "jobs", "mine", "workers", auth::global_account, me);
    h.subscribe(h.on(1), "jobs", "theirs", "workers", auth::global_account, other);
    h.settle();
    constexpr int n_msgs = 40;
    for (int i = 0; i < n_msgs; ++i)
        h.publish(home, "jobs", std::to_string(i), {}, auth::global_account,
                  publisher{me, false, {}});
    h.settle();
    const auto d = h.take();
    EXPECT_EQ(count_sid(d, "mine"), 0u);
    EXPECT_EQ(count_sid(d, "theirs"), static_cast<std::size_t>(n_msgs))
        << "every message reaches the other member";
}

TEST_P(router_test, unsubscribe_stops_delivery_everywhere) {
    subscription* a = h.subscribe(h.on(0), "news", "a");
    subscription* b = h.subscribe(h.on(2), "news", "b");
    subscription* c = h.subscribe(h.on(1), "news.>", "c");
    h.settle();
    h.unsubscribe(b);
    h.settle();
    for (unsigned from = 0; from < h.shards(); ++from) {
        h.publish(from, "news", "x");
        h.settle();
        EXPECT_EQ(sids_of(h.take()), (std::multiset<std::string>{"a"})) << "from shard " << from;
    }
    h.unsubscribe(a);
    h.unsubscribe(c);
    h.settle();
    const std::size_t forwards = h.forwards_;
    for (unsigned from = 0; from < h.shards(); ++from) {
        const publish_result r = h.publish(from, "news", "x");
        EXPECT_FALSE(r.delivered) << "from shard " << from;
        EXPECT_FALSE(r.crossed);
        EXPECT_FALSE(h.publish(from, "news.y", "y").delivered) << "news.> left too";
    }
    h.settle();
    EXPECT_TRUE(h.take().empty());
    EXPECT_EQ(h.forwards_, forwards) << "no shard still believes in remote interest";
}

TEST_P(router_test, unsubscribed_queue_member_gets_nothing_even_in_flight) {
    // The member on the middle shard leaves; messages already on their way
    // to it are re-routed to the remaining member, exactly once each.
    subscription* leaving = h.subscribe(h.on(1), "tasks", "leaving", "q");
    h.subscribe(h.on(2), "tasks", "staying", "q");
    h.settle();
    h.unsubscribe(leaving);
    // Published before the interest change reached the publisher's shard.
    const std::size_t forwards = h.forwards_;
    for (int i = 0; i < 60; ++i) h.publish(h.on(0), "tasks", std::to_string(i));
    const std::size_t sent = h.forwards_ - forwards;
    h.settle();
    if (h.shards() > 1) {
        EXPECT_EQ(sent, 60u) << "every message left the publisher's shard";
        EXPECT_GT(h.forwards_ - forwards, sent)
            << "some reached the leaving member's shard and were re-routed";
    }
    const auto d = h.take();
    EXPECT_EQ(count_sid(d, "leaving"), 0u);
    EXPECT_EQ(count_sid(d, "staying"), 60u);
    std::set<std::string> payloads;
    for (const delivered& x : d) payloads.insert(x.payload);
    EXPECT_EQ(payloads.size(), 60u);
}

TEST_P(router_test, auto_unsubscribe_expires_exactly_once_at_max) {
    subscription* s = h.subscribe(h.on(2), "ticks", "auto");
    s->max = 3;
    h.subscribe(h.on(1), "ticks", "forever");
    h.settle();
    for (int i = 0; i < 6; ++i) {
        h.publish(h.on(0), "ticks", std::to_string(i));
        h.settle();
    }
    const auto d = h.take();
    EXPECT_EQ(count_sid(d, "auto"), 3u);
    EXPECT_EQ(count_sid(d, "forever"), 6u);
    EXPECT_EQ(s->delivered, 3u);
    ASSERT_EQ(h.expired_.size(), 1u);
    EXPECT_EQ(h.expired_[0].second, s);
    EXPECT_EQ(h.expired_[0].first, h.on(2));
    // Its interest is gone on every shard.
    for (unsigned from = 0; from < h.shards(); ++from) {
        h.publish(from, "ticks", "later");
        h.settle();
        EXPECT_EQ(sids_of(h.take()), (std::multiset<std::string>{"forever"}));
    }
    EXPECT_EQ(h.expired_.size(), 1u);
}

// A queue member that reaches its maximum while the same message still has
// another group to serve: removing it changes the interest map, whose queue
// names the publish still holds; the other group must get the message.
TEST_P(router_test, expiring_queue_member_does_not_lose_another_groups_message) {
    subscription* once = h.subscribe(h.on(0), "foo", "a", "qa");
    once->max = 1;
    h.subscribe(h.on(1), "foo", "b", "qb");
    h.settle();
    h.publish(h.on(0), "foo", "first");
    h.settle();
    EXPECT_EQ(sids_of(h.take()), (std::multiset<std::string>{"a", "b"}));
    h.publish(h.on(0), "foo", "second");
    h.settle();
    EXPECT_EQ(sids_of(h.take()), (std::multiset<std::string>{"b"}));
    EXPECT_EQ(h.expired_.size(), 1u);
}

TEST_P(router_test, auto_unsubscribe_with_messages_in_flight) {
    subscription* s = h.subscribe(h.on(2), "burst", "auto");
    s->max = 2;
    h.settle();
    for (int i = 0; i < 10; ++i) h.publish(h.on(0), "burst", std::to_string(i));
    h.settle();
    const auto d = h.take();
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[0].payload, "0");
    EXPECT_EQ(d[1].payload, "1");
    EXPECT_EQ(h.expired_.size(), 1u);
    EXPECT_FALSE(h.publish(h.on(0), "burst", "x").delivered);
}

// ---- accounts ----

constexpr const char* k_accounts = R"(
accounts {
  A: {
    users: [ {user: a, password: a} ]
    exports: [ {stream: "pub.>"}, {stream: "priv.x", accounts: [B]}, {service: "svc.>"} ]
  }
  B: {
    users: [ {user: b, password: b} ]
    imports: [ {stream: {account: A, subject: "pub.>"}, prefix: from_a},
               {stream: {account: A, subject: "priv.x"}, to: "mine.x"},
               {service: {account: A, subject: "svc.echo"}, to: "echo"} ]
  }
  C: {
    users: [ {user: c, password: c} ]
  }
}
)";

class router_accounts_test : public ::testing::TestWithParam<unsigned> {
protected:
    std::shared_ptr<const auth::account_set> set = accounts_from(k_accounts);
    harness h{GetParam(), set};
    auth::account_id A = account(set, "A"), B = account(set, "B"), C = account(set, "C");
};

TEST_P(router_accounts_test, accounts_are_isolated) {
    ASSERT_NE(A, B);
    h.subscribe(h.on(0), "same.subject", "inA", "", A);
    h.subscribe(h.on(2), "same.subject", "inC", "", C);
    h.subscribe(h.on(1), "same.subject", "inG", "", auth::global_account);
    h.subscribe(h.on(1), "same.*", "qC", "grp", C);
    h.settle();
    for (unsigned from = 0; from < h.shards(); ++from) {
        h.publish(from, "same.subject", "x", {}, A);
        h.settle();
        EXPECT_EQ(sids_of(h.take()), (std::multiset<std::string>{"inA"}));
        h.publish(from, "same.subject", "x", {}, C);
        h.settle();
        EXPECT_EQ(sids_of(h.take()), (std::multiset<std::string>{"inC", "qC"}));
        h.publish(from, "same.subject", "x", {}, auth::global_account);
        h.settle();
        EXPECT_EQ(sids_of(h.take()), (std::multiset<std::string>{"inG"}));
        EXPECT_FALSE(h.publish(from, "same.subject", "x", {}, B).delivered) << "nobody in B";
        h.settle();
        EXPECT_TRUE(h.take().empty());
    }
}

TEST_P(router_accounts_test, stream_import_with_prefix_and_mapping) {
    h.subscribe(h.on(0), "pub.>", "a_own", "", A);
    h.subscribe(h.on(2), "from_a.pub.>", "b_prefixed", "", B);
    h.subscribe(h.on(1), "mine.x", "b_mapped", "", B);
    h.subscribe(h.on(1), "pub.>", "b_unprefixed", "", B);
    h.subscribe(h.on(2), "pub.>", "c_none", "", C);
    h.settle();
    for (unsigned from = 0; from < h.shards(); ++from) {
        EXPECT_TRUE(h.publish(from, "pub.news", "n", "r.1", A).delivered);
        h.settle();
        auto d = h.take();
        ASSERT_EQ(sids_of(d), (std::multiset<std::string>{"a_own", "b_prefixed"}))
            << "from " << from;
        for (const delivered& x : d) {
            EXPECT_EQ(x.subject, x.sid == "a_own" ? "pub.news" : "from_a.pub.news");
            EXPECT_EQ(x.payload, "n");
            EXPECT_EQ(x.reply, "r.1");
        }

        h.publish(from, "priv.x", "p", {}, A);
        h.settle();
        d = h.take();
        ASSERT_EQ(d.size(), 1u);
        EXPECT_EQ(d[0].sid, "b_mapped");
        EXPECT_EQ(d[0].subject, "mine.x");
        EXPECT_EQ(d[0].payload, "p");

        // Imports run from the exporter to the importer only.
        h.publish(from, "pub.news", "back", {}, B);
        h.settle();
        EXPECT_EQ(sids_of(h.take()), (std::multiset<std::string>{"b_unprefixed"}));
        // Not exported: stays in A.
        h.publish(from, "priv.y", "p", {}, A);
        h.settle();
        EXPECT_TRUE(h.take().empty());
    }
}

TEST_P(router_accounts_test, service_import_reply_reaches_the_requester) {
    const unsigned requester = h.on(0), responder = h.on(2), inbox = h.on(1);
    h.subscribe(responder, "svc.echo", "responder", "", A);
    h.subscribe(inbox, "inbox.req1", "reply_sub", "", B);
    h.subscribe(inbox, "svc.echo", "b_local_svc", "", B); // B's own svc.echo is not the service
    h.settle();

    const publish_result r = h.publish(requester, "echo", "ping", "inbox.req1", B);
    EXPECT_TRUE(r.delivered);
    h.settle();
    auto d = h.take();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].sid, "responder");
    EXPECT_EQ(d[0].shard, responder);
    EXPECT_EQ(d[0].subject, "svc.echo");
    const std::string reply = d[0].reply;
    EXPECT_TRUE(reply.starts_with("_R_.")) << reply;
    // The responder learns who asks in a header; the body is intact.
    EXPECT_GT(d[0].header_size, 0u);
    const std::string headers = d[0].payload.substr(0, d[0].header_size);
    EXPECT_TRUE(headers.starts_with("NATS/1.0\r\n")) << headers;
    EXPECT_NE(headers.find("Nats-Request-Info: {\"acc\":\"B\""), std::string::npos) << headers;
    EXPECT_TRUE(headers.ends_with("\r\n\r\n"));
    EXPECT_EQ(d[0].payload.substr(d[0].header_size), "ping");

    // The response goes to the _R_ reply in A; it comes back on B's inbox.
    EXPECT_TRUE(h.publish(responder, reply, "pong", {}, A).delivered);
    h.settle();
    d = h.take();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].sid, "reply_sub");
    EXPECT_EQ(d[0].subject, "inbox.req1");
    EXPECT_EQ(d[0].reply, "");
    EXPECT_EQ(d[0].payload, "pong");

    // Singleton (the default): a second response is not delivered.
    h.publish(responder, reply, "again", {}, A);
    h.settle();
    EXPECT_TRUE(h.take().empty());

    // A forged _R_ subject leads nowhere.
    h.publish(responder, reply.substr(0, reply.rfind('.') + 1) + "zzzzzz", "forged", {}, A);
    h.settle();
    EXPECT_TRUE(h.take().empty());
}

TEST_P(router_accounts_test, service_import_without_reply_and_without_responder) {
    // No responder in A: the import still counts as delivered (nats-server).
    EXPECT_TRUE(h.publish(h.on(0), "echo", "x", "inbox.none", B).delivered);
    h.settle();
    EXPECT_TRUE(h.take().empty());
    EXPECT_FALSE(h.at(h.on(0)).has_pending_replies()) << "an unanswerable request keeps no mapping";

    h.subscribe(h.on(2), "svc.*", "responder", "", A);
    h.settle();
    h.publish(h.on(1), "echo", "fire and forget", {}, B);
    h.settle();
    const auto d = h.take();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].subject, "svc.echo");
    EXPECT_EQ(d[0].reply, "");
    EXPECT_EQ(d[0].payload.substr(d[0].header_size), "fire and forget");
}

TEST_P(router_accounts_test, service_requests_from_every_shard_get_their_own_replies) {
    h.subscribe(h.on(1), "svc.echo", "responder", "", A);
    for (unsigned k = 0; k < 3; ++k)
        h.subscribe(h.on(k), "inbox." + std::to_string(k), "in" + std::to_string(k), "", B);
    h.settle();
    for (unsigned k = 0; k < 3; ++k)
        h.publish(h.on(k), "echo", "q" + std::to_string(k), "inbox." + std::to_string(k), B);
    h.settle();
    auto d = h.take();
    ASSERT_EQ(d.size(), 3u);
    std::map<std::string, std::string> reply_of; // request body -> its _R_ reply
    for (const delivered& x : d) {
        EXPECT_EQ(x.sid, "responder");
        reply_of[x.payload.substr(x.header_size)] = x.reply;
    }
    ASSERT_EQ(reply_of.size(), 3u);
    EXPECT_NE(reply_of["q0"], reply_of["q1"]);
    EXPECT_NE(reply_of["q1"], reply_of["q2"]);
    EXPECT_NE(reply_of["q0"], reply_of["q2"]);
    // Answer in reverse order; each answer reaches its own requester.
    for (int k = 2; k >= 0; --k)
        h.publish(h.on(1), reply_of["q" + std::to_string(k)], "a" + std::to_string(k), {}, A);
    h.settle();
    d = h.take();
    ASSERT_EQ(d.size(), 3u);
    for (const delivered& x : d) {
        const std::string k(1, x.sid.back());
        EXPECT_EQ(x.subject, "inbox." + k);
        EXPECT_EQ(x.payload, "a" + k);
    }
}

std::string shard_name(const ::testing::TestParamInfo<unsigned>& p) {
    return std::to_string(p.param) + "_shards";
}
INSTANTIATE_TEST_SUITE_P(shards, router_test, ::testing::Values(1u, 3u), shard_name);
INSTANTIATE_TEST_SUITE_P(shards, router_accounts_test, ::testing::Values(1u, 3u), shard_name);

// Garbage that reaches on_record is dropped without a delivery.
TEST(router_records, malformed_records_are_ignored) {
    harness h(2);
    h.subscribe(1, "x", "s");
    h.settle();
    h.at(1).on_record(ring_record::message_type, "short");
    h.at(1).on_record(ring_record::interest_type, "short");
    h.at(1).on_record(99, "whatever");
    ring_record::message_record r;
    r.account = 500; // no such account
    r.plain = true;
    r.msg.subject = "x";
    std::string body;
    ring_record::encode(body, r);
    h.at(1).on_record(ring_record::message_type, body);
    EXPECT_TRUE(h.take().empty());
    r.account = 0;
    ring_record::encode(body, r);
    h.at(1).on_record(ring_record::message_type, body);
    EXPECT_EQ(h.take().size(), 1u) << "the same record in a real account is delivered";
}

// ---- clusters: routes are interest ids past the shard ids ----

class router_cluster_test : public ::testing::TestWithParam<unsigned> {};

TEST_P(router_cluster_test, a_routes_plain_interest_gets_one_rmsg_from_any_shard) {
    harness h(GetParam());
    const auto route = static_cast<std::uint16_t>(h.shards()); // the first route id
    h.at(h.on(1)).set_route_interest(auth::global_account, route, "foo.*", "", 1);
    h.at(h.on(1)).set_route_interest(auth::global_account, route, "foo.>", "", 1);
    h.settle();
    for (unsigned s = 0; s < h.shards(); ++s) {
        h.routed_.clear();
        EXPECT_TRUE(h.publish(s, "foo.bar", "x").delivered);
        h.settle();
        ASSERT_EQ(h.routed_.size(), 1u) << "one RMSG per route, whatever matched";
        EXPECT_EQ(h.routed_[0].route, route);
        EXPECT_EQ(h.routed_[0].shard, s) << "the publishing shard decides";
        EXPECT_TRUE(h.routed_[0].queues.empty());
    }
    h.routed_.clear();
    EXPECT_FALSE(h.publish(0, "other", "x").delivered);
    h.at(h.on(1)).set_route_interest(auth::global_account, route, "foo.*", "", 0);
    h.at(h.on(1)).set_route_interest(auth::global_account, route, "foo.>", "", 0);
    h.settle();
    EXPECT_FALSE(h.publish(0, "foo.bar", "x").delivered) << "the route's interest is gone";
    EXPECT_TRUE(h.routed_.empty());
}

TEST_P(router_cluster_test, a_routed_message_never_goes_to_a_route_again) {
    harness h(GetParam());
    const auto route = static_cast<std::uint16_t>(h.shards());
    h.at(0).set_route_interest(auth::global_account, route, "foo", "", 1);
    h.at(0).set_route_interest(auth::global_account, route, "foo", "q", 5);
    h.subscribe(h.on(1), "foo", "local");
    h.settle();
    const std::string size = "1";
    const message m{"foo", {}, "x", 0, size, {}, {}};
    h.at(0).publish_routed(auth::global_account, m, {});
    h.settle();
    EXPECT_TRUE(h.routed_.empty());
    EXPECT_EQ(count_sid(h.take(), "local"), 1u);
}

TEST_P(router_cluster_test, queue_picks_weigh_every_member_in_the_cluster) {
    harness h(GetParam());
    const auto route = static_cast<std::uint16_t>(h.shards());
    h.subscribe(h.on(2), "jobs", "m1", "workers");
    h.at(h.on(1)).set_route_interest(auth::global_account, route, "jobs", "workers", 2);
    h.settle();
    constexpr int n = 3000;
    for (int i = 0; i < n; ++i) h.publish(static_cast<unsigned>(i) % h.shards(), "jobs", "x");
    h.settle();
    const std::size_t local = count_sid(h.take(), "m1");
    std::size_t to_route = 0;
    for (const auto& r : h.routed_) {
        ASSERT_EQ(r.queues, std::vector<std::string>{"workers"});
        ++to_route;
    }
    EXPECT_EQ(local + to_route, static_cast<std::size_t>(n)) << "exactly once, cluster-wide";
    // Weight 2 against 1: about two thirds go to the route.
    EXPECT_GT(to_route, 1800u);
    EXPECT_LT(to_route, 2200u);
}

TEST_P(router_cluster_test, routed_queue_messages_serve_only_named_groups_locally) {
    harness h(GetParam());
    const auto route = static_cast<std::uint16_t>(h.shards());
    h.subscribe(h.on(1), "jobs", "a1", "a");
    h.subscribe(h.on(2), "jobs", "a2", "a");
    h.subscribe(0, "jobs", "b1", "b");
    h.at(0).set_route_interest(auth::global_account, route, "jobs", "a", 100);
    h.settle();
    const std::string size = "1";
    const message m{"jobs", {}, "x", 0, size, {}, {}};
    for (int i = 0; i < 100; ++i) h.at(0).publish_routed(auth::global_account, m, {"a"});
    h.settle();
    const auto d = h.take();
    EXPECT_EQ(count_sid(d, "a1") + count_sid(d, "a2"), 100u) << "local members only";
    EXPECT_EQ(count_sid(d, "b1"), 0u) << "group b was not named";
    EXPECT_TRUE(h.routed_.empty());
    h.at(0).publish_routed(auth::global_account, m, {});
    h.settle();
    EXPECT_TRUE(h.take().empty()) << "no queue list: no queue group is served";
}

TEST_P(router_cluster_test, routes_hear_local_interest_edges_not_route_interest) {
    harness h(GetParam());
    for (unsigned s = 0; s < h.shards(); ++s) h.at(s).enable_cluster();
    subscription* a = h.subscribe(0, "x.>", "1");
    subscription* b = h.subscribe(h.on(1), "x.>", "2");
    subscription* q = h.subscribe(h.on(2), "x.y", "3", "grp");
    h.at(0).set_route_interest(auth::global_account, static_cast<std::uint16_t>(h.shards()), "z",
                               "", 1);
    h.settle();
    // Every shard saw the same totals (each tells the routes it holds).
    for (unsigned s = 0; s < h.shards(); ++s) {
        std::vector<std::pair<std::uint32_t, std::uint32_t>> plain, queue;
        for (const auto& e : h.edges_) {
            if (e.shard != s) continue;
            EXPECT_NE(e.pattern, "z") << "interest learned from a route is never re-advertised";
            if (e.pattern == "x.>") plain.push_back({e.before, e.after});
            if (e.pattern == "x.y" && e.queue == "grp") queue.push_back({e.before, e.after});
        }
        ASSERT_FALSE(plain.empty());
        EXPECT_EQ(plain.front(), std::make_pair(0u, 1u));
        EXPECT_EQ(plain.back().second, 2u) << "two subscribers on x.>";
        EXPECT_EQ(queue, (std::vector<std::pair<std::uint32_t, std::uint32_t>>{{0, 1}}));
    }
    h.edges_.clear();
    h.unsubscribe(a);
    h.unsubscribe(b);
    h.unsubscribe(q);
    h.settle();
    for (unsigned s = 0; s < h.shards(); ++s) {
        std::uint32_t last_plain = 99, last_queue = 99;
        for (const auto& e : h.edges_)
            if (e.shard == s) (e.queue.empty() ? last_plain : last_queue) = e.after;
        EXPECT_EQ(last_plain, 0u);
        EXPECT_EQ(last_queue, 0u);
    }
}

INSTANTIATE_TEST_SUITE_P(shards, router_cluster_test, ::testing::Values(1u, 3u), shard_name);

// ---- superclusters: outbound gateways are interest ids from gateway_base ----

class router_gateway_test : public ::testing::TestWithParam<unsigned> {
protected:
    static constexpr std::uint16_t gw = router::gateway_base; // shard 0's first gateway id
    void enable(harness& h) {
        for (unsigned s = 0; s < h.shards(); ++s) h.at(s).enable_gateways("_GR_.aaaaaa.bbbbbb.");
    }
};

TEST_P(router_gateway_test, a_group_goes_to_a_gateway_only_without_a_member_in_the_cluster) {
    harness h(GetParam());
    enable(h);
    const auto route = static_cast<std::uint16_t>(h.shards());
    h.at(0).set_gateway_interest(auth::global_account, gw, "jobs", "workers", true);
    subscription* m1 = h.subscribe(h.on(1), "jobs", "m1", "workers");
    h.at(0).set_route_interest(auth::global_account, route, "jobs", "workers", 1);
    h.settle();
    constexpr int n = 1000;
    for (int i = 0; i < n; ++i) h.publish(static_cast<unsigned>(i) % h.shards(), "jobs", "x");
    h.settle();
    std::size_t to_gateway = 0, to_route = 0;
    for (const auto& r : h.routed_) (r.route == gw ? to_gateway : to_route)++;
    EXPECT_EQ(to_gateway, 0u) << "members in this cluster (here and over a route) come first";
    EXPECT_EQ(count_sid(h.take(), "m1") + to_route, static_cast<std::size_t>(n));
    h.routed_.clear();
    h.unsubscribe(m1);
    h.at(0).set_route_interest(auth::global_account, route, "jobs", "workers", 0);
    h.settle();
    for (int i = 0; i < n; ++i) h.publish(static_cast<unsigned>(i) % h.shards(), "jobs", "x");
    h.settle();
    ASSERT_EQ(h.routed_.size(), static_cast<std::size_t>(n)) << "then the gateway, once each";
    for (const auto& r : h.routed_) {
        EXPECT_EQ(r.route, gw);
        EXPECT_EQ(r.queues, std::vector<std::string>{"workers"});
    }
}

TEST_P(router_gateway_test, only_this_servers_clients_reach_gateways) {
    harness h(GetParam());
    enable(h);
    const auto route = static_cast<std::uint16_t>(h.shards());
    h.at(0).set_gateway_interest(auth::global_account, gw, "foo", "", true);
    h.at(h.on(1)).set_route_interest(auth::global_account, route, "foo", "", 1);
    h.subscribe(h.on(2), "foo", "local");
    h.settle();
    const std::string size = "1";
    const message m{"foo", {}, "x", 0, size, {}, {}};
    h.at(0).publish_routed(auth::global_account, m, {});
    h.settle();
    EXPECT_TRUE(h.routed_.empty()) << "a routed message goes to neither routes nor gateways";
    h.at(0).publish_from_gateway(auth::global_account, m, {});
    h.settle();
    ASSERT_EQ(h.routed_.size(), 1u) << "a gateway's message goes on to the routes only";
    EXPECT_EQ(h.routed_[0].route, route);
    h.routed_.clear();
    h.publish(h.on(1), "foo", "x");
    h.settle();
    std::set<std::uint16_t> links;
    for (const auto& r : h.routed_) links.insert(r.route);
    EXPECT_EQ(links, (std::set<std::uint16_t>{route, gw})) << "a client's message goes to both";
    EXPECT_EQ(count_sid(h.take(), "local"), 3u);
}

TEST_P(router_gateway_test, replies_are_mapped_while_a_matching_subscription_is_recent) {
    harness h(GetParam());
    enable(h);
    h.at(0).set_gateway_interest(auth::global_account, gw, "svc", "", true);
    h.subscribe(h.on(1), "_INBOX.abc.*", "inbox");
    h.settle();
    h.publish(h.on(1), "svc", "req", "_INBOX.abc.1");
    h.publish(h.on(1), "svc", "req", "other.reply");
    h.settle();
    ASSERT_EQ(h.routed_.size(), 2u);
    EXPECT_EQ(h.routed_[0].reply, "_GR_.aaaaaa.bbbbbb._INBOX.abc.1");
    EXPECT_EQ(h.routed_[1].reply, "other.reply") << "no recent subscription matches it";
    EXPECT_EQ(h.routed_[0].subject, "svc");
}

TEST_P(router_gateway_test, inbound_gateways_hear_cluster_presence_not_gateway_interest) {
    harness h(GetParam());
    enable(h);
    const auto route = static_cast<std::uint16_t>(h.shards());
    subscription* a = h.subscribe(0, "x", "1");
    subscription* b = h.subscribe(h.on(1), "x", "2");
    h.at(0).set_route_interest(auth::global_account, route, "from.route", "", 1);
    h.at(0).set_gateway_interest(auth::global_account, gw, "from.gateway", "", true);
    h.settle();
    for (unsigned s = 0; s < h.shards(); ++s) {
        std::vector<std::string> seen;
        for (const auto& p : h.presence_)
            if (p.shard == s) seen.push_back(p.pattern + (p.present ? "+" : "-"));
        EXPECT_EQ(seen, (std::vector<std::string>{"x+", "from.route+"}))
            << "shard " << s << ": once per edge; a gateway's interest is never told back";
    }
    h.presence_.clear();
    h.unsubscribe(a);
    h.settle();
    EXPECT_TRUE(h.presence_.empty()) << "x still has a subscriber";
    h.unsubscribe(b);
    h.settle();
    EXPECT_EQ(h.presence_.size(), h.shards());
    for (const auto& p : h.presence_) EXPECT_FALSE(p.present);
}

INSTANTIATE_TEST_SUITE_P(shards, router_gateway_test, ::testing::Values(1u, 3u), shard_name);

} // namespace
