#include <gtest/gtest.h>

#include <natrix/config/go_duration.hh>

using namespace std::chrono_literals;
using natrix::config::format_go_duration;
using natrix::config::parse_go_duration;

namespace {

std::chrono::nanoseconds parsed(const char* text) {
    std::chrono::nanoseconds d{-777};
    std::string why;
    EXPECT_TRUE(parse_go_duration(text, &d, &why)) << text << ": " << why;
    return d;
}

std::string failure(const char* text) {
    std::chrono::nanoseconds d{};
    std::string why;
    EXPECT_FALSE(parse_go_duration(text, &d, &why)) << text;
    return why;
}

} // namespace

TEST(go_duration, units_and_combinations) {
    EXPECT_EQ(parsed("0"), 0ns);
    EXPECT_EQ(parsed("-0"), 0ns);
    EXPECT_EQ(parsed("2s"), 2s);
    EXPECT_EQ(parsed("1m"), 1min);
    EXPECT_EQ(parsed("500ms"), 500ms);
    EXPECT_EQ(parsed("1h30m"), 90min);
    EXPECT_EQ(parsed("2h45m10s"), 2h + 45min + 10s);
    EXPECT_EQ(parsed("10us"), 10us);
    EXPECT_EQ(parsed("10\xc2\xb5s"), 10us);
    EXPECT_EQ(parsed("10\xce\xbcs"), 10us);
    EXPECT_EQ(parsed("7ns"), 7ns);
    EXPECT_EQ(parsed("1.5s"), 1500ms);
    EXPECT_EQ(parsed(".5s"), 500ms);
    EXPECT_EQ(parsed("1.s"), 1s);
    EXPECT_EQ(parsed("-1.5h"), -90min);
    EXPECT_EQ(parsed("+3s"), 3s);
    EXPECT_EQ(parsed("0s"), 0ns);
    EXPECT_EQ(parsed("1.000000001s"), 1'000'000'001ns);
    EXPECT_EQ(parsed("2562047h47m16.854775807s"), std::chrono::nanoseconds(INT64_MAX));
    EXPECT_EQ(parsed("-2562047h47m16.854775808s"), std::chrono::nanoseconds(INT64_MIN));
}

TEST(go_duration, errors) {
    EXPECT_EQ(failure(""), "invalid duration \"\"");
    EXPECT_EQ(failure("-"), "invalid duration \"-\"");
    EXPECT_EQ(failure("s"), "invalid duration \"s\"");
    EXPECT_EQ(failure("."), "invalid duration \".\"");
    EXPECT_EQ(failure("30"), "missing unit in duration \"30\" (use ns, us, ms, s, m or h)");
    EXPECT_EQ(failure("1d"), "unknown unit \"d\" in duration \"1d\" (use ns, us, ms, s, m or h)");
    EXPECT_EQ(failure("1sec"),
              "unknown unit \"sec\" in duration \"1sec\" (use ns, us, ms, s, m or h)");
    EXPECT_EQ(failure("3000000h"), "invalid duration \"3000000h\" (out of range)");
    EXPECT_EQ(failure("2562047h47m16.854775808s"),
              "invalid duration \"2562047h47m16.854775808s\" (out of range)");
    EXPECT_EQ(failure("99999999999999999999999ns"),
              "invalid duration \"99999999999999999999999ns\" (out of range)");
    failure("1s 2s");
    failure("1 s");
}

TEST(go_duration, formats_like_go) {
    EXPECT_EQ(format_go_duration(0ns), "0s");
    EXPECT_EQ(format_go_duration(2min), "2m0s");
    EXPECT_EQ(format_go_duration(10s), "10s");
    EXPECT_EQ(format_go_duration(90min), "1h30m0s");
    EXPECT_EQ(format_go_duration(1500ms), "1.5s");
    EXPECT_EQ(format_go_duration(500ms), "500ms");
    EXPECT_EQ(format_go_duration(1500us), "1.5ms");
    EXPECT_EQ(format_go_duration(1500ns), "1.5\xc2\xb5s");
    EXPECT_EQ(format_go_duration(999ns), "999ns");
    EXPECT_EQ(format_go_duration(-90s), "-1m30s");
    EXPECT_EQ(format_go_duration(std::chrono::nanoseconds(INT64_MIN)), "-2562047h47m16.854775808s");
}
