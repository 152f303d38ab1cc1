// `natrix --check-host` (the real binary, NATRIX_BIN) on a fake /proc and
// /sys tree (NATRIX_HOST_ROOT): exit 0 without a fail, 1 with one; --json.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "fake_host.hh"

using natrix::host_check::test::fake_host;

namespace {

struct run_result {
    int status = -1;
    std::string out; // stdout only
};

run_result check_host(const fake_host& h, const std::string& args) {
    run_result r;
    const std::string cmd = "NATRIX_HOST_ROOT='" + h.root() + "' '" + std::getenv("NATRIX_BIN") +
                            "' --check-host " + args + " 2>/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf;
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    const int st = ::pclose(p);
    if (st != -1 && WIFEXITED(st)) r.status = WEXITSTATUS(st);
    return r;
}

class check_host_cli : public ::testing::Test {
protected:
    void SetUp() override {
        if (!std::getenv("NATRIX_BIN")) GTEST_SKIP() << "NATRIX_BIN not set";
        // Small enough for any fd limit, and no io_uring probe verdict.
        conf_ = host_.root() + "/natrix.conf";
        host_.write("/natrix.conf", "max_connections: 100\nnatrix { io: epoll, cpus: [1] }\n");
        host_.write("/sys/devices/system/cpu/online", "0-1\n");
    }
    fake_host host_;
    std::string conf_;
};

} // namespace

TEST_F(check_host_cli, warnings_exit_zero) {
    run_result r = check_host(host_, "-c '" + conf_ + "'");
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("warn  cpu_isolation"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" 0 fail\n"), std::string::npos) << r.out;
}

TEST_F(check_host_cli, a_fail_exits_one_and_json_says_why) {
    host_.write("/sys/devices/system/cpu/online", "0\n"); // cpu 1 is gone
    run_result r = check_host(host_, "--json -c '" + conf_ + "'");
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_EQ(r.out.rfind("{\"config\":", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("{\"check\":\"cpus\",\"status\":\"fail\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"fail\":1}"), std::string::npos) << r.out;
}

TEST_F(check_host_cli, a_broken_config_is_an_error) {
    run_result r = check_host(host_, "-c '" + host_.root() + "/missing.conf'");
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
}
