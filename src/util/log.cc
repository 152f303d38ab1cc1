#include <natrix/util/log.hh>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <mutex>
#include <sys/time.h>
#include <unistd.h>

namespace natrix::util {

namespace {

std::atomic<int> g_level{static_cast<int>(log_level::info)};
std::atomic<bool> g_logtime{true};
std::atomic<int> g_fd{STDERR_FILENO};
std::mutex g_config_mutex; // guards g_file and fd swaps; never taken on the log path
std::string g_file;

const char* level_tag(log_level level) {
    switch (level) {
    case log_level::fatal: return "[FTL]";
    case log_level::error: return "[ERR]";
    case log_level::warn: return "[WRN]";
    case log_level::info: return "[INF]";
    case log_level::debug: return "[DBG]";
    case log_level::trace: return "[TRC]";
    }
    return "[???]";
}

int open_log(const std::string& path, std::string* error) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 && error) *error = "cannot open log file '" + path + "': " + std::strerror(errno);
    return fd;
}

void swap_fd(int fd) {
    int old = g_fd.exchange(fd);
    // A racing writer may still hold the old fd for one write; closing stdout
    // or stderr is never done, and a stale file write is harmless.
    if (old > STDERR_FILENO) ::close(old);
}

} // namespace

bool log_configure(const log_settings& s, std::string* error) {
    std::lock_guard lock(g_config_mutex);
    if (!s.file.empty()) {
        int fd = open_log(s.file, error);
        if (fd < 0) return false;
        swap_fd(fd);
    } else {
        swap_fd(STDERR_FILENO);
    }
    g_file = s.file;
    log_level lvl = s.trace ? log_level::trace : s.debug ? log_level::debug : log_level::info;
    g_level.store(static_cast<int>(lvl));
    g_logtime.store(s.logtime);
    return true;
}

bool log_reopen(std::string* error) {
    std::lock_guard lock(g_config_mutex);
    if (g_file.empty()) return true;
    int fd = open_log(g_file, error);
    if (fd < 0) return false;
    swap_fd(fd);
    return true;
}

bool log_enabled(log_level level) noexcept {
    return static_cast<int>(level) <= g_level.load(std::memory_order_relaxed);
}

std::size_t log_format_line(char* buf, std::size_t cap, log_level level, bool logtime,
                            const char* fmt, va_list ap) noexcept {
    std::size_t n = 0;
    auto room = [&] { return n < cap ? cap - n : 0; };
    int w = std::snprintf(buf, cap, "[%d] ", static_cast<int>(::getpid()));
    n += w > 0 ? static_cast<std::size_t>(w) : 0;
    if (logtime) {
        timeval tv{};
        ::gettimeofday(&tv, nullptr);
        tm t{};
        ::localtime_r(&tv.tv_sec, &t);
        w = std::snprintf(buf + n, room(), "%04d/%02d/%02d %02d:%02d:%02d.%06ld ", t.tm_year + 1900,
                          t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                          static_cast<long>(tv.tv_usec));
        n += w > 0 ? static_cast<std::size_t>(w) : 0;
    }
    if (n >= cap) return cap ? cap - 1 : 0;
    w = std::snprintf(buf + n, room(), "%s ", level_tag(level));
    n += w > 0 ? static_cast<std::size_t>(w) : 0;
    if (n >= cap) return cap - 1;
    w = std::vsnprintf(buf + n, room(), fmt, ap);
    n += w > 0 ? static_cast<std::size_t>(w) : 0;
    // Leave room for the newline; truncate long lines.
    if (n >= cap - 1) n = cap - 2;
    buf[n++] = '\n';
    buf[n] = '\0';
    return n;
}

void log_vwrite(log_level level, const char* fmt, va_list ap) noexcept {
    char buf[2048];
    std::size_t n = log_format_line(buf, sizeof buf, level, g_logtime.load(std::memory_order_relaxed),
                                    fmt, ap);
    int fd = g_fd.load(std::memory_order_relaxed);
    ssize_t r = ::write(fd, buf, n);
    (void)r;
}

void log_write(log_level level, const char* fmt, ...) noexcept {
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, fmt, ap);
    va_end(ap);
}

} // namespace natrix::util
