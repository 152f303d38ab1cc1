#include <gtest/gtest.h>

#include <natrix/host_check/host_check.hh>

using namespace natrix::host_check;

namespace {

std::vector<finding> sample() {
    return {{"io_uring", severity::ok, "io_uring is available", ""},
            {"swap", severity::warn, "1 swap device(s) with \"60\"", "sysctl -w vm.swappiness=1"},
            {"fd_limit", severity::fail, "too low", "raise it"}};
}

} // namespace

TEST(report, worst_level) {
    EXPECT_EQ(worst({}), severity::ok);
    auto f = sample();
    EXPECT_EQ(worst(f), severity::fail);
    f.pop_back();
    EXPECT_EQ(worst(f), severity::warn);
}

TEST(report, text_has_a_line_per_finding_its_fix_and_a_summary) {
    const std::string t = format_text(sample(), "");
    EXPECT_NE(t.find("host check against configuration (built-in)\n"), std::string::npos) << t;
    EXPECT_NE(t.find("ok    io_uring               io_uring is available\n"), std::string::npos)
        << t;
    EXPECT_NE(t.find("warn  swap "), std::string::npos) << t;
    EXPECT_NE(t.find("fix: sysctl -w vm.swappiness=1\n"), std::string::npos) << t;
    EXPECT_NE(t.find("natrix: 1 ok, 1 warn, 1 fail\n"), std::string::npos) << t;
}

TEST(report, json) {
    EXPECT_EQ(
        format_json(sample(), "/etc/natrix/natrix.conf"),
        "{\"config\":\"/etc/natrix/natrix.conf\",\"findings\":["
        "{\"check\":\"io_uring\",\"status\":\"ok\",\"message\":\"io_uring is "
        "available\",\"fix\":\"\"},"
        "{\"check\":\"swap\",\"status\":\"warn\",\"message\":\"1 swap device(s) with \\\"60\\\"\","
        "\"fix\":\"sysctl -w vm.swappiness=1\"},"
        "{\"check\":\"fd_limit\",\"status\":\"fail\",\"message\":\"too low\",\"fix\":\"raise it\"}"
        "],\"ok\":1,\"warn\":1,\"fail\":1}\n");
}
