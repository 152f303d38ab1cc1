#include <gtest/gtest.h>

#include <natrix/util/json_string.hh>
#include <natrix/util/utf8.hh>

namespace {

using natrix::util::utf8_decode;

std::uint32_t decode(std::string_view s, std::size_t* len) {
    std::uint32_t cp = 0;
    *len = utf8_decode(s, 0, &cp);
    return cp;
}

TEST(utf8, decodes_like_go) {
    std::size_t n = 0;
    EXPECT_EQ(decode("a", &n), 'a');
    EXPECT_EQ(n, 1u);
    EXPECT_EQ(decode("\xc3\xa9", &n), 0xe9u);
    EXPECT_EQ(n, 2u);
    EXPECT_EQ(decode("\xe2\x80\xa8", &n), 0x2028u);
    EXPECT_EQ(n, 3u);
    EXPECT_EQ(decode("\xf0\x9f\x98\x80", &n), 0x1f600u);
    EXPECT_EQ(n, 4u);
    // Invalid: lone continuation, overlong, surrogate, past U+10FFFF, truncated.
    for (std::string_view bad : {"\x80", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                                 "\xf4\x90\x80\x80", "\xe2\x80", "\xff"}) {
        decode(bad, &n);
        EXPECT_EQ(n, 0u) << bad.size();
    }
}

TEST(json_string, escapes_as_go_encoding_json) {
    std::string out;
    natrix::util::append_json_string(out, "a\"b\\c\n<&>\x01\xe2\x80\xa8\xff\xc3\xa9");
    EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u003c\\u0026\\u003e\\u0001\\u2028\\ufffd\xc3\xa9\"");
}

} // namespace
