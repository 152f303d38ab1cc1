#include <gtest/gtest.h>

#include <natrix/host_check/host_files.hh>

#include "fake_host.hh"

using namespace natrix::host_check;
using natrix::host_check::test::fake_host;

TEST(host_files, reads_through_the_root) {
    fake_host h;
    h.write("/proc/sys/vm/swappiness", "60\n").write("/proc/cmdline", " a b \nsecond\n");
    h.mkdir("/sys/class/net/eth0").mkdir("/sys/class/net/lo");
    const host_files f = h.files();
    EXPECT_EQ(f.read_integer("/proc/sys/vm/swappiness"), 60);
    EXPECT_EQ(f.read_line("/proc/cmdline"), "a b");
    EXPECT_EQ(f.read("/proc/missing"), std::nullopt);
    EXPECT_EQ(f.read_integer("/proc/cmdline"), std::nullopt);
    EXPECT_EQ(f.list("/sys/class/net"), (std::vector<std::string>{"eth0", "lo"}));
    EXPECT_TRUE(f.list("/sys/nothing").empty());
}

TEST(host_files, kernel_cpu_lists) {
    EXPECT_EQ(parse_kernel_cpu_list("0-3,8,10-11\n"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
    EXPECT_EQ(parse_kernel_cpu_list("\n"), std::vector<int>{});
    EXPECT_EQ(parse_kernel_cpu_list("3,1,1"), (std::vector<int>{1, 3}));
    EXPECT_EQ(parse_kernel_cpu_list("0-7:2/4"), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
    EXPECT_EQ(parse_kernel_cpu_list("3-1"), std::nullopt);
    EXPECT_EQ(parse_kernel_cpu_list("a"), std::nullopt);
    EXPECT_EQ(parse_kernel_cpu_list("1,,2"), std::nullopt);
    EXPECT_EQ(format_cpu_list({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10,11");
    EXPECT_EQ(format_cpu_list({5}), "5");
    EXPECT_EQ(format_cpu_list({}), "");
}
