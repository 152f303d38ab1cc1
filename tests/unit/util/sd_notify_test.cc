#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <natrix/util/log.hh>
#include <natrix/util/sd_notify.hh>

#include "notify_socket.hh"

using natrix::test::notify_socket;

TEST(sd_notify, abstract_and_path_sockets) {
    notify_socket abstract("@natrix-test-" + std::to_string(::getpid()) + "-a");
    ASSERT_TRUE(abstract.ok());
    ::setenv("NOTIFY_SOCKET", abstract.name().c_str(), 1);
    EXPECT_TRUE(natrix::util::sd_notify("READY=1\nSTATUS=up"));
    EXPECT_EQ(abstract.receive(1000), "READY=1\nSTATUS=up");

    const std::string path = "/tmp/natrix-notify-" + std::to_string(::getpid());
    notify_socket file(path);
    ASSERT_TRUE(file.ok());
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    EXPECT_TRUE(natrix::util::sd_notify("STOPPING=1"));
    EXPECT_EQ(file.receive(1000), "STOPPING=1");

    ::setenv("NOTIFY_SOCKET", "relative/name", 1);
    EXPECT_FALSE(natrix::util::sd_notify("READY=1")) << "neither a path nor abstract";
    ::unsetenv("NOTIFY_SOCKET");
    EXPECT_FALSE(natrix::util::sd_notify("READY=1")) << "not under systemd: nothing to do";
}

TEST(journal, priorities_follow_syslog) {
    using natrix::util::log_level;
    EXPECT_EQ(natrix::util::log_syslog_priority(log_level::fatal), 2);
    EXPECT_EQ(natrix::util::log_syslog_priority(log_level::error), 3);
    EXPECT_EQ(natrix::util::log_syslog_priority(log_level::warn), 4);
    EXPECT_EQ(natrix::util::log_syslog_priority(log_level::info), 6);
    EXPECT_EQ(natrix::util::log_syslog_priority(log_level::debug), 7);
    EXPECT_EQ(natrix::util::log_syslog_priority(log_level::trace), 7);
}

// stderr redirected to a file that JOURNAL_STREAM names: lines get "<N>".
TEST(journal, stderr_lines_get_the_priority_prefix_under_systemd) {
    const std::string path = "/tmp/natrix-journal-" + std::to_string(::getpid());
    const int file = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(file, 0);
    const int saved = ::dup(STDERR_FILENO);
    ::dup2(file, STDERR_FILENO);
    struct stat st {};
    ::fstat(file, &st);
    const std::string stream = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);

    natrix::util::log_settings ls;
    std::string err;
    ::setenv("JOURNAL_STREAM", "1:2", 1); // another file: no prefix
    EXPECT_TRUE(natrix::util::journal_stream_is(STDERR_FILENO) == false);
    ASSERT_TRUE(natrix::util::log_configure(ls, &err)) << err;
    LOG_INF("plain");
    ::setenv("JOURNAL_STREAM", stream.c_str(), 1);
    EXPECT_TRUE(natrix::util::journal_stream_is(STDERR_FILENO));
    ASSERT_TRUE(natrix::util::log_configure(ls, &err)) << err;
    LOG_WRN("warned %d", 1);
    LOG_ERR("failed");
    natrix::util::log_write_text(natrix::util::log_level::info, "long text");
    ::unsetenv("JOURNAL_STREAM");
    ASSERT_TRUE(natrix::util::log_configure(ls, &err)) << err;

    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    ::close(file);
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    ::unlink(path.c_str());
    std::string line;
    std::vector<std::string> lines;
    while (std::getline(ss, line)) lines.push_back(line);
    ASSERT_EQ(lines.size(), 4u) << ss.str();
    EXPECT_EQ(lines[0].rfind("[", 0), 0u) << lines[0];
    EXPECT_EQ(lines[1].rfind("<4>[", 0), 0u) << lines[1];
    EXPECT_NE(lines[1].find("[WRN] warned 1"), std::string::npos) << lines[1];
    EXPECT_EQ(lines[2].rfind("<3>[", 0), 0u) << lines[2];
    EXPECT_EQ(lines[3].rfind("<6>[", 0), 0u) << lines[3];
    EXPECT_NE(lines[3].find("[INF] long text"), std::string::npos) << lines[3];
}
