#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <natrix/subjects/subject.hh>

using namespace natrix::subjects;

TEST(subject, valid_subjects) {
    for (const char* s : {"foo", "foo.bar", "*", ">", "foo.*", "foo.>", "*.*", "*.>", "*.*.>",
                          "foo*.bar", "foo>.bar", "foo.*bar", "foo.b>r", "a.b.c.d.e", "$SYS.>",
                          "_INBOX.abc.*", "foo-bar_baz.qux"}) {
        EXPECT_TRUE(is_valid_subject(s)) << s;
    }
}

TEST(subject, invalid_subjects) {
    for (const char* s : {"", ".", "..", "foo.", ".foo", "foo..bar", ">.foo", "foo.>.bar",
                          "foo.>.>", ">.>", "foo.>."}) {
        EXPECT_FALSE(is_valid_subject(s)) << s;
    }
}

TEST(subject, whitespace_is_invalid_anywhere) {
    for (const char* ws : {" ", "\t", "\r", "\n", "\f"}) {
        const std::string w(ws);
        EXPECT_FALSE(is_valid_subject(w));
        EXPECT_FALSE(is_valid_subject("foo" + w + "bar"));
        EXPECT_FALSE(is_valid_subject("foo." + w));
        EXPECT_FALSE(is_valid_subject(w + ".foo"));
        EXPECT_FALSE(is_valid_subject("foo." + w + "bar.baz"));
        EXPECT_FALSE(is_valid_subject("foo.bar" + w));
    }
    // Other control bytes are not whitespace for nats-server.
    EXPECT_TRUE(is_valid_subject("foo\vbar"));
    EXPECT_TRUE(is_valid_subject(std::string("foo\0bar", 7)));
}

TEST(subject, valid_literal_subjects_follow_nats_server) {
    for (const char* s : {"foo", "foo.bar", "foo*.bar", "foo.>bar", "*foo", "a.b.c"})
        EXPECT_TRUE(is_valid_literal_subject(s)) << s;
    for (const char* s :
         {"", ".", "foo.", ".foo", "foo..bar", "*", ">", "foo.*", "foo.>", "*.foo", "foo.*.bar"})
        EXPECT_FALSE(is_valid_literal_subject(s)) << s;
    // Like IsValidLiteralSubject, whitespace is the protocol parser's business.
    EXPECT_TRUE(is_valid_literal_subject("foo\fbar"));
}

TEST(subject, is_literal_only_sees_whole_token_wildcards) {
    EXPECT_TRUE(is_literal("foo.bar"));
    EXPECT_TRUE(is_literal("foo*"));
    EXPECT_TRUE(is_literal("*foo"));
    EXPECT_TRUE(is_literal(">foo.bar>"));
    EXPECT_TRUE(is_literal("foo.b*r"));
    EXPECT_FALSE(is_literal("*"));
    EXPECT_FALSE(is_literal(">"));
    EXPECT_FALSE(is_literal("foo.*"));
    EXPECT_FALSE(is_literal("*.foo"));
    EXPECT_FALSE(is_literal("foo.*.bar"));
    EXPECT_FALSE(is_literal("foo.>"));
}

struct match_case {
    const char* pattern;
    const char* literal;
    bool expected;
};

TEST(subject, subject_matches_edge_cases) {
    const match_case cases[] = {
        {"foo", "foo", true},
        {"foo", "bar", false},
        {"foo.bar", "foo.bar", true},
        {"foo.bar", "foo.baz", false},
        {"foo.bar", "foo", false},
        {"foo", "foo.bar", false},
        {"foo.>", "foo", false}, // '>' needs at least one token
        {"foo.>", "foo.bar", true},
        {"foo.>", "foo.bar.baz", true},
        {"foo.>", "bar.baz", false},
        {">", "foo", true},
        {">", "foo.bar.baz", true},
        {"*", "foo", true},
        {"*", "foo.bar", false},
        {"*.*", "foo.bar", true},
        {"*.*", "foo", false},
        {"*.*", "foo.bar.baz", false},
        {"*.>", "foo", false},
        {"*.>", "foo.bar", true},
        {"foo.*", "foo.bar", true},
        {"foo.*", "foo.bar.baz", false},
        {"*.bar", "foo.bar", true},
        {"*.bar", "foo.baz", false},
        {"foo.*.baz", "foo.bar.baz", true},
        {"foo.*.baz", "foo.bar.qux", false},
        {"foo.*.>", "foo.bar.baz.qux", true},
        {"foo.*.>", "foo.bar", false},
        {"foo*", "foo", false}, // a literal token, not a wildcard
        {"foo*", "foo*", true},
        {"foo*", "foox", false},
        {"foo*.bar", "foox.bar", false},
        {"foo.>x", "foo.>x", true},
        {"foo.>x", "foo.bar", false},
        // Empty tokens never match.
        {">", "", false},
        {"*", "", false},
        {">", "foo..bar", false},
        {"foo.*", "foo.", false},
        {"foo.>", "foo.", false},
        {"foo.>", "foo.bar.", false},
        {"foo..bar", "foo..bar", false},
        {"", "", false},
        // A published wildcard character is just text.
        {"foo.*", "foo.*", true},
        {"foo.>", "foo.*", true},
        {"foo.bar", "foo.*", false},
        {"foo.*", "foo.>", true},
    };
    for (const auto& c : cases)
        EXPECT_EQ(subject_matches(c.pattern, c.literal), c.expected)
            << c.pattern << " vs " << c.literal;
}

TEST(subject, star_in_every_position) {
    const std::vector<std::string> toks{"a", "b", "c", "d"};
    for (unsigned mask = 0; mask < 16; ++mask) {
        std::string pattern;
        for (std::size_t i = 0; i < toks.size(); ++i) {
            if (i) pattern += '.';
            pattern += (mask & (1u << i)) ? "*" : toks[i];
        }
        EXPECT_TRUE(subject_matches(pattern, "a.b.c.d")) << pattern;
        EXPECT_FALSE(subject_matches(pattern, "a.b.c")) << pattern;
        EXPECT_FALSE(subject_matches(pattern, "a.b.c.d.e")) << pattern;
        if (mask != 15) {
            EXPECT_FALSE(subject_matches(pattern, "x.x.x.x")) << pattern;
        }
    }
}

TEST(subject, token_list_splits_and_rejects_empty_tokens) {
    token_list t;
    ASSERT_TRUE(t.split("foo.bar.baz"));
    ASSERT_EQ(t.size(), 3u);
    EXPECT_EQ(t[0], "foo");
    EXPECT_EQ(t[1], "bar");
    EXPECT_EQ(t[2], "baz");
    EXPECT_FALSE(t.spilled());
    ASSERT_TRUE(t.split("x"));
    EXPECT_EQ(t.size(), 1u);
    for (const char* bad : {"", ".", "foo.", ".foo", "foo..bar"}) EXPECT_FALSE(t.split(bad)) << bad;
}

TEST(subject, token_list_spills_past_32_tokens) {
    token_list t;
    for (std::size_t n : {31u, 32u, 33u, 100u}) {
        std::string s;
        for (std::size_t i = 0; i < n; ++i) {
            if (i) s += '.';
            s += "t" + std::to_string(i);
        }
        ASSERT_TRUE(t.split(s));
        ASSERT_EQ(t.size(), n);
        EXPECT_EQ(t.spilled(), n > token_list::inline_capacity);
        for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(t[i], "t" + std::to_string(i));
        std::size_t seen = 0;
        for (auto tok : t) seen += !tok.empty();
        EXPECT_EQ(seen, n);
    }
    // Reusable after a spill.
    ASSERT_TRUE(t.split("a.b"));
    EXPECT_EQ(t.size(), 2u);
    EXPECT_EQ(t[1], "b");
}

// nats-server's isSubsetMatch keeps empty tokens and fails only on reaching
// one, so "g..x" is inside "g.>" (queue permission entries rely on this).
TEST(subject, subset_match_follows_nats_server) {
    using natrix::subjects::is_subset_match;
    EXPECT_TRUE(is_subset_match("foo.bar", "foo.*"));
    EXPECT_TRUE(is_subset_match("foo.*", ">"));
    EXPECT_TRUE(is_subset_match("foo.*", "*.*"));
    EXPECT_TRUE(is_subset_match("foo.*", "foo.*"));
    EXPECT_FALSE(is_subset_match("foo.*", "foo.bar"));
    EXPECT_FALSE(is_subset_match("foo.>", "foo.*"));
    EXPECT_FALSE(is_subset_match("foo", "foo.>"));
    EXPECT_FALSE(is_subset_match("foo.bar.baz", "foo.*"));
    EXPECT_TRUE(is_subset_match("g..x", "g.>"));
    EXPECT_TRUE(is_subset_match(".", ">"));
    EXPECT_FALSE(is_subset_match("g..x", "g.*.x"));
    EXPECT_FALSE(is_subset_match("g.x", "g..x"));
}
