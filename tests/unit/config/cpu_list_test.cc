#include <gtest/gtest.h>

#include <natrix/config/cpu_list.hh>

using natrix::config::parse_cpu_list;

namespace {

std::vector<int> cpus(const char* text) {
    std::vector<int> out;
    std::string why;
    EXPECT_TRUE(parse_cpu_list(text, &out, &why)) << text << ": " << why;
    return out;
}

std::string failure(const char* text) {
    std::vector<int> out;
    std::string why;
    EXPECT_FALSE(parse_cpu_list(text, &out, &why)) << text;
    EXPECT_TRUE(out.empty()) << "a failed parse appends nothing";
    return why;
}

} // namespace

TEST(cpu_list, singles_ranges_and_order) {
    EXPECT_EQ(cpus("0"), (std::vector<int>{0}));
    EXPECT_EQ(cpus("0-3,6"), (std::vector<int>{0, 1, 2, 3, 6}));
    EXPECT_EQ(cpus("8, 2-3 ,5"), (std::vector<int>{8, 2, 3, 5}));
    EXPECT_EQ(cpus("4-4"), (std::vector<int>{4}));
    EXPECT_EQ(cpus("4095").size(), 1u);
    std::vector<int> out{9};
    std::string why;
    ASSERT_TRUE(parse_cpu_list("1", &out, &why));
    EXPECT_EQ(out, (std::vector<int>{9, 1})) << "appends";
}

TEST(cpu_list, errors) {
    EXPECT_EQ(failure(""), "the cpu list is empty");
    EXPECT_EQ(failure("  "), "the cpu list is empty");
    EXPECT_EQ(failure("a"), "bad cpu list item 'a' (expected N or N-M, e.g. \"0-3,6\")");
    EXPECT_EQ(failure("1,,2"), "bad cpu list item '' (expected N or N-M, e.g. \"0-3,6\")");
    EXPECT_EQ(failure("-1"), "bad cpu list item '-1' (expected N or N-M, e.g. \"0-3,6\")");
    EXPECT_EQ(failure("1-"), "bad cpu list item '1-' (expected N or N-M, e.g. \"0-3,6\")");
    EXPECT_EQ(failure("1-2-3"), "bad cpu list item '1-2-3' (expected N or N-M, e.g. \"0-3,6\")");
    EXPECT_EQ(failure("3-1"), "cpu range '3-1' is reversed");
    EXPECT_EQ(failure("4096"), "cpu 4096 is above the maximum of 4095");
    EXPECT_EQ(failure("0-3,2"), "cpu 2 is listed twice");
}
