#include <gtest/gtest.h>

#include <natrix/auth/accounts.hh>
#include <natrix/auth/permissions.hh>
#include <natrix/auth/subject_transform.hh>

namespace {

using natrix::auth::account_set;
using natrix::auth::permissions;
using natrix::auth::subject_transform;
namespace config = natrix::config;

config::subject_permission allow_deny(std::vector<std::string> allow,
                                      std::vector<std::string> deny) {
    config::subject_permission p;
    p.allow = std::move(allow);
    p.deny = std::move(deny);
    return p;
}

TEST(permissions, publish_allow_then_deny) {
    config::permissions_option o;
    o.publish = allow_deny({"orders.>", "quotes.*"}, {"orders.secret.>"});
    permissions p(o);
    EXPECT_TRUE(p.restricts_publish());
    EXPECT_TRUE(p.publish_allowed("orders.new"));
    EXPECT_TRUE(p.publish_allowed("quotes.eur"));
    EXPECT_FALSE(p.publish_allowed("quotes.eur.usd")) << "* is one token";
    EXPECT_FALSE(p.publish_allowed("orders.secret.x")) << "deny wins";
    EXPECT_FALSE(p.publish_allowed("other"));
    // An empty allow list allows nothing; no publish block allows everything.
    config::permissions_option none_allowed;
    none_allowed.publish = allow_deny({}, {});
    EXPECT_FALSE(permissions(none_allowed).publish_allowed("a"));
    EXPECT_FALSE(permissions(config::permissions_option{}).restricts_publish());
}

TEST(permissions, subscribe_with_queues_as_nats_server) {
    config::permissions_option o;
    o.subscribe = allow_deny({"q.plain", "q.work workers", "q.ver v1.*", "q.any.>"},
                             {"q.any.x badq", "q.any.no"});
    permissions p(o);
    EXPECT_TRUE(p.subscribe_allowed("q.plain", ""));
    EXPECT_TRUE(p.subscribe_allowed("q.plain", "anyq")) << "a plain entry allows any queue";
    EXPECT_FALSE(p.subscribe_allowed("q.work", "")) << "a queue entry alone forbids plain subs";
    EXPECT_TRUE(p.subscribe_allowed("q.work", "workers"));
    EXPECT_FALSE(p.subscribe_allowed("q.work", "other"));
    EXPECT_TRUE(p.subscribe_allowed("q.ver", "v1.blue")) << "wildcard queue names match by subset";
    EXPECT_FALSE(p.subscribe_allowed("q.ver", "v2.blue"));
    EXPECT_TRUE(p.subscribe_allowed("q.any.x", ""));
    EXPECT_FALSE(p.subscribe_allowed("q.any.x", "badq"));
    EXPECT_TRUE(p.subscribe_allowed("q.any.x", "goodq"));
    EXPECT_FALSE(p.subscribe_allowed("q.any.no", ""));
    EXPECT_FALSE(p.subscribe_allowed("q.>", "")) << "wider than the allow list";
}

TEST(permissions, wildcard_subscriptions_filter_denied_deliveries) {
    config::permissions_option o;
    o.subscribe = allow_deny({}, {"hidden.*.x", "secret"});
    o.subscribe->allow.reset();
    permissions p(o);
    EXPECT_TRUE(p.subscribe_allowed("hidden.>", ""));
    EXPECT_FALSE(p.subscribe_allowed("secret", ""));
    EXPECT_TRUE(p.needs_delivery_filter("hidden.>"));
    EXPECT_TRUE(p.needs_delivery_filter(">"));
    EXPECT_FALSE(p.needs_delivery_filter("other.*"));
    EXPECT_FALSE(p.needs_delivery_filter("hidden.a.x")) << "a literal SUB was checked already";
    EXPECT_TRUE(p.delivery_denied("hidden.a.x"));
    EXPECT_FALSE(p.delivery_denied("hidden.a.y"));
}

TEST(subject_transform, prefix_literal_and_wildcards) {
    EXPECT_EQ(subject_transform::with_prefix("pfx").apply("a.b"), "pfx.a.b");
    EXPECT_EQ(subject_transform::with_prefix("pfx.").apply("a.b"), "pfx.a.b");
    std::string err;
    EXPECT_EQ(subject_transform::mapping("a.b", "c.d", &err).apply("a.b"), "c.d");
    EXPECT_TRUE(subject_transform::mapping("a.*", "a.*", &err).identity());
    EXPECT_TRUE(subject_transform::mapping("a.*", "", &err).identity());
    EXPECT_EQ(subject_transform::mapping("feed.>", "from_a.feed.>", &err).apply("feed.x.y"),
              "from_a.feed.x.y");
    EXPECT_EQ(subject_transform::mapping("a.*.*", "b.*.*", &err).apply("a.1.2"), "b.1.2");
    EXPECT_EQ(subject_transform::mapping("a.*.*", "b.$2.$1", &err).apply("a.1.2"), "b.2.1");
    EXPECT_EQ(subject_transform::mapping("a.*.*", "b.{{wildcard(2)}}.{{ wildcard(1) }}", &err)
                  .apply("a.1.2"),
              "b.2.1");
    EXPECT_TRUE(err.empty()) << err;
    subject_transform::mapping("a.*", "b.$2", &err);
    EXPECT_EQ(err, "wildcard reference $2 out of range");
    subject_transform::mapping("a.*", "b.*.*", &err);
    EXPECT_EQ(err, "more wildcards in the destination than in the source");
    subject_transform::mapping("a.*", "b.>", &err);
    EXPECT_EQ(err, "destination '>' without '>' in the source");
}

TEST(accounts, routes_are_kept_by_the_right_account) {
    std::vector<config::account_option> list(2);
    list[0].name = "A";
    list[0].exports.push_back(
        {false, "feed.>", {}, config::response_type::singleton, std::chrono::minutes(2)});
    list[0].exports.push_back(
        {true, "svc.*", {}, config::response_type::stream, std::chrono::seconds(5)});
    list[1].name = "B";
    list[1].imports.push_back({false, "A", "feed.>", "", "a"});
    list[1].imports.push_back({true, "A", "svc.time", "time", ""});
    std::vector<std::string> errors;
    account_set s(list, &errors);
    EXPECT_TRUE(errors.empty());
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s.at(0).name, "$G");
    EXPECT_EQ(*s.find("B"), 2u);
    EXPECT_TRUE(s.any_routes());
    const auto& a = s.at(*s.find("A"));
    ASSERT_EQ(a.stream_exports.size(), 1u);
    EXPECT_EQ(a.stream_exports[0].importer, 2u);
    EXPECT_EQ(a.stream_exports[0].map.apply("feed.x"), "a.feed.x");
    EXPECT_TRUE(a.exports_services);
    const auto& b = s.at(2);
    ASSERT_EQ(b.service_imports.size(), 1u);
    EXPECT_EQ(b.service_imports[0].local, "time");
    EXPECT_EQ(b.service_imports[0].map.apply("time"), "svc.time");
    EXPECT_EQ(b.service_imports[0].responses, config::response_type::stream);
    EXPECT_EQ(b.service_imports[0].threshold, std::chrono::seconds(5));
    EXPECT_FALSE(account_set().any_routes());
}

} // namespace
