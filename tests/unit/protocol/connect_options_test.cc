#include <gtest/gtest.h>

#include <natrix/protocol/connect_options.hh>

using namespace natrix::protocol;

TEST(connect_options, defaults_when_fields_are_absent) {
    connect_options o;
    std::string err;
    ASSERT_TRUE(parse_connect_options("{}", o, &err)) << err;
    EXPECT_TRUE(o.verbose);
    EXPECT_TRUE(o.pedantic);
    EXPECT_TRUE(o.echo);
    EXPECT_FALSE(o.headers);
    EXPECT_FALSE(o.no_responders);
    EXPECT_FALSE(o.tls_required);
    EXPECT_EQ(o.protocol, 0);
}

TEST(connect_options, every_field) {
    connect_options o;
    std::string err;
    ASSERT_TRUE(parse_connect_options(
        R"({"verbose":false,"pedantic":false,"tls_required":true,"echo":false,"headers":true,
            "no_responders":true,"protocol":1,"name":"n","lang":"C","version":"3.4.1",
            "user":"u","pass":"p","auth_token":"t","nkey":"UABC","sig":"s1g","jwt":"j.w.t"})",
        o, &err))
        << err;
    EXPECT_FALSE(o.verbose);
    EXPECT_FALSE(o.pedantic);
    EXPECT_TRUE(o.tls_required);
    EXPECT_FALSE(o.echo);
    EXPECT_TRUE(o.headers);
    EXPECT_TRUE(o.no_responders);
    EXPECT_EQ(o.protocol, 1);
    EXPECT_EQ(o.name, "n");
    EXPECT_EQ(o.lang, "C");
    EXPECT_EQ(o.version, "3.4.1");
    EXPECT_EQ(o.user, "u");
    EXPECT_EQ(o.pass, "p");
    EXPECT_EQ(o.auth_token, "t");
    EXPECT_EQ(o.nkey, "UABC");
    EXPECT_EQ(o.sig, "s1g");
    EXPECT_EQ(o.jwt, "j.w.t");
}

TEST(connect_options, keys_match_case_insensitively_like_go) {
    connect_options o;
    ASSERT_TRUE(parse_connect_options(R"({"Verbose":false,"ECHO":false,"User":"x"})", o, nullptr));
    EXPECT_FALSE(o.verbose);
    EXPECT_FALSE(o.echo);
    EXPECT_EQ(o.user, "x");
}

TEST(connect_options, unknown_keys_and_nulls_are_ignored) {
    connect_options o;
    std::string err;
    ASSERT_TRUE(parse_connect_options(
        R"({"ssl_required":false,"extra":{"a":[1,2,{"b":null}]},"verbose":null,"name":"x"})", o,
        &err))
        << err;
    EXPECT_TRUE(o.verbose);
    EXPECT_EQ(o.name, "x");
}

TEST(connect_options, string_escapes) {
    connect_options o;
    ASSERT_TRUE(parse_connect_options(R"({"pass":"a\"b\\c\u00e9"})", o, nullptr));
    EXPECT_EQ(o.pass, "a\"b\\c\xc3\xa9");
}

TEST(connect_options, malformed_json_gets_a_reason) {
    for (const char* bad : {"", "{", "[]", "{\"verbose\":}", "{\"verbose\":\"yes\"}",
                            "{\"protocol\":\"1\"}", "{\"protocol\":1.5}", "{\"name\":5}",
                            "{} trailing", "{\"a\":1,}", "nul", "{\"verbose\":tru}"}) {
        connect_options o;
        std::string err;
        EXPECT_FALSE(parse_connect_options(bad, o, &err)) << bad;
        EXPECT_FALSE(err.empty()) << bad;
    }
}
