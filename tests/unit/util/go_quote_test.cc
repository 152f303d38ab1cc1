#include <gtest/gtest.h>

#include <natrix/util/go_quote.hh>

using natrix::util::append_go_quoted;
using natrix::util::go_prints;

namespace {
std::string q(std::string_view s) {
    std::string out;
    append_go_quoted(out, s);
    return out;
}
} // namespace

// Expected texts are Go 1.19's strconv.Quote of the same bytes. (Every code
// point and every single byte was checked against Go once, when the table
// was generated.)
TEST(go_quote, ascii_escapes) {
    EXPECT_EQ(q(""), "\"\"");
    EXPECT_EQ(q("hello 'x'"), "\"hello 'x'\"");
    EXPECT_EQ(q("\"\\\a\b\f\n\r\t\v"), R"("\"\\\a\b\f\n\r\t\v")");
    EXPECT_EQ(q(std::string("\x00\x1f\x7f", 3)), R"("\x00\x1f\x7f")");
}

TEST(go_quote, invalid_utf8_a_byte_at_a_time) {
    EXPECT_EQ(q("\xff\xc3"), R"("\xff\xc3")");
    EXPECT_EQ(q("\xed\xa0\x80"), R"("\xed\xa0\x80")"); // an encoded surrogate
    EXPECT_EQ(q("ab\xe9\x99"), R"("ab\xe9\x99")");     // cut short
    EXPECT_EQ(q("\xef\xbf\xbd"), "\"\xef\xbf\xbd\"");  // U+FFFD itself prints
}

TEST(go_quote, code_points_go_does_not_print) {
    EXPECT_EQ(q("é日本😀"), "\"é日本😀\"");
    EXPECT_EQ(q("\u00a0\u00ad\u0085\u200b\u2028\ufeff"),
              R"("\u00a0\u00ad\u0085\u200b\u2028\ufeff")");
    EXPECT_EQ(q("\U000e0001\U0010fffd"), R"("\U000e0001\U0010fffd")");
    // Unassigned in Unicode 13 (Go 1.19): U+0378, and U+1FAF0 (assigned in 14).
    EXPECT_EQ(q("\u0378\U0001faf0\U0001fa70"), "\"\\u0378\\U0001faf0\U0001fa70\"");
}

TEST(go_quote, appends) {
    std::string out = "x=";
    append_go_quoted(out, "a\nb");
    EXPECT_EQ(out, R"(x="a\nb")");
}

TEST(go_quote, prints) {
    EXPECT_TRUE(go_prints(' '));
    EXPECT_FALSE(go_prints('\t'));
    EXPECT_FALSE(go_prints(0x7f));
    EXPECT_FALSE(go_prints(0x80));
    EXPECT_FALSE(go_prints(0xa0));
    EXPECT_TRUE(go_prints(0xa1));
    EXPECT_TRUE(go_prints(0x1f600));
    EXPECT_FALSE(go_prints(0x10ffff));
}
