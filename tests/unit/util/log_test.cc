#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include <natrix/util/log.hh>

namespace {
std::string format(natrix::util::log_level level, bool logtime, const char* fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    std::size_t n = natrix::util::log_format_line(buf, sizeof buf, level, logtime, fmt, ap);
    va_end(ap);
    return std::string(buf, n);
}
} // namespace

TEST(log, matches_nats_server_line_format) {
    std::string line = format(natrix::util::log_level::info, true, "Server is ready %d", 7);
    // [pid] YYYY/MM/DD HH:MM:SS.uuuuuu [INF] text
    std::string pid = "[" + std::to_string(::getpid()) + "] ";
    ASSERT_EQ(line.substr(0, pid.size()), pid);
    std::string ts = line.substr(pid.size(), 26);
    const char* shape = "dddd/dd/dd dd:dd:dd.dddddd";
    for (std::size_t i = 0; i < ts.size(); ++i) {
        if (shape[i] == 'd') {
            EXPECT_TRUE(ts[i] >= '0' && ts[i] <= '9') << line;
            continue;
        }
        EXPECT_EQ(ts[i], shape[i]) << line;
    }
    EXPECT_EQ(line.substr(pid.size() + 26), " [INF] Server is ready 7\n");
    EXPECT_NE(line.find("[" + std::to_string(::getpid()) + "]"), std::string::npos);
}

TEST(log, level_tags_and_no_time) {
    EXPECT_EQ(format(natrix::util::log_level::warn, false, "x").substr(0, 1), "[");
    EXPECT_NE(format(natrix::util::log_level::warn, false, "x").find("[WRN] x\n"),
              std::string::npos);
    EXPECT_NE(format(natrix::util::log_level::error, false, "y").find("[ERR] y\n"),
              std::string::npos);
    EXPECT_NE(format(natrix::util::log_level::debug, false, "z").find("[DBG] z\n"),
              std::string::npos);
    EXPECT_NE(format(natrix::util::log_level::trace, false, "t").find("[TRC] t\n"),
              std::string::npos);
}

TEST(log, long_lines_are_truncated_with_newline) {
    std::string big(1000, 'a');
    std::string line = format(natrix::util::log_level::info, false, "%s", big.c_str());
    EXPECT_EQ(line.size(), 255u);
    EXPECT_EQ(line.back(), '\n');
}

TEST(log, level_filtering_follows_settings) {
    natrix::util::log_settings s;
    ASSERT_TRUE(natrix::util::log_configure(s, nullptr));
    EXPECT_TRUE(natrix::util::log_enabled(natrix::util::log_level::info));
    EXPECT_FALSE(natrix::util::log_enabled(natrix::util::log_level::debug));
    s.trace = true;
    ASSERT_TRUE(natrix::util::log_configure(s, nullptr));
    EXPECT_TRUE(natrix::util::log_enabled(natrix::util::log_level::trace));
    s.trace = false;
    s.file = "/nonexistent-dir/x.log";
    std::string err;
    EXPECT_FALSE(natrix::util::log_configure(s, &err));
    EXPECT_NE(err.find("cannot open log file"), std::string::npos);
}

TEST(log, debug_and_trace_are_independent_as_in_nats_server) {
    natrix::util::log_settings s;
    s.trace = true; // -V: traces, no debug lines
    ASSERT_TRUE(natrix::util::log_configure(s, nullptr));
    EXPECT_TRUE(natrix::util::trace_enabled());
    EXPECT_TRUE(natrix::util::log_enabled(natrix::util::log_level::trace));
    EXPECT_FALSE(natrix::util::log_enabled(natrix::util::log_level::debug));
    s.trace = false;
    s.debug = true; // -D: debug lines, no traces
    ASSERT_TRUE(natrix::util::log_configure(s, nullptr));
    EXPECT_FALSE(natrix::util::trace_enabled());
    EXPECT_TRUE(natrix::util::log_enabled(natrix::util::log_level::debug));
    EXPECT_FALSE(natrix::util::log_enabled(natrix::util::log_level::trace));
    s.trace = true; // -DV
    s.max_traced_msg_len = 16;
    ASSERT_TRUE(natrix::util::log_configure(s, nullptr));
    EXPECT_TRUE(natrix::util::trace_enabled());
    EXPECT_TRUE(natrix::util::log_enabled(natrix::util::log_level::debug));
    EXPECT_EQ(natrix::util::log_max_traced_msg_len(), 16);
    ASSERT_TRUE(natrix::util::log_configure({}, nullptr));
    EXPECT_FALSE(natrix::util::trace_enabled());
    EXPECT_EQ(natrix::util::log_max_traced_msg_len(), 0);
}

TEST(log, text_lines_are_written_whole) {
    char path[] = "/tmp/natrix-log-test-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    natrix::util::log_settings s;
    s.logtime = false;
    s.file = path;
    ASSERT_TRUE(natrix::util::log_configure(s, nullptr));
    const std::string big(100000, 'x'); // a traced payload: far past log_write's 2 KB
    natrix::util::log_write_text(natrix::util::log_level::trace, big);
    ASSERT_TRUE(natrix::util::log_configure({}, nullptr));
    std::FILE* f = std::fopen(path, "rb");
    ASSERT_NE(f, nullptr);
    std::string got;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) got.append(buf, n);
    std::fclose(f);
    ::unlink(path);
    EXPECT_EQ(got, "[" + std::to_string(::getpid()) + "] [TRC] " + big + "\n");
}
