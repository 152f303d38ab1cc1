#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <natrix/util/log.hh>

namespace natrix::util {

std::atomic<bool> detail::trace_on{false};

namespace {

std::atomic<int> g_level{static_cast<int>(log_level::info)}; // info or debug; trace apart
std::atomic<int> g_max_traced_msg_len{0};
std::atomic<bool> g_logtime{true};
std::atomic<int> g_fd{STDERR_FILENO};
std::atomic<bool> g_journal{false}; // stderr is systemd's journal: "<N>" priority prefixes
std::mutex g_config_mutex;          // guards g_file and fd swaps; never taken on the log path
std::string g_file;

const char* level_tag(log_level level) {
    switch (level) {
    case log_level::fatal:
        return "[FTL]";
    case log_level::error:
        return "[ERR]";
    case log_level::warn:
        return "[WRN]";
    case log_level::info:
        return "[INF]";
    case log_level::debug:
        return "[DBG]";
    case log_level::trace:
        return "[TRC]";
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
    g_journal.store(s.file.empty() && journal_stream_is(STDERR_FILENO));
    g_level.store(static_cast<int>(s.debug ? log_level::debug : log_level::info));
    detail::trace_on.store(s.trace);
    g_max_traced_msg_len.store(s.max_traced_msg_len);
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
    if (level == log_level::trace) return trace_enabled();
    return static_cast<int>(level) <= g_level.load(std::memory_order_relaxed);
}

int log_max_traced_msg_len() noexcept {
    return g_max_traced_msg_len.load(std::memory_order_relaxed);
}

namespace {

// "[pid] date time [TAG] " into buf; returns its length (cap - 1 at most).
std::size_t format_prefix(char* buf, std::size_t cap, log_level level, bool logtime) noexcept {
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
    return n >= cap ? cap - 1 : n;
}

} // namespace

std::size_t log_format_line(char* buf, std::size_t cap, log_level level, bool logtime,
                            const char* fmt, va_list ap) noexcept {
    std::size_t n = format_prefix(buf, cap, level, logtime);
    auto room = [&] { return n < cap ? cap - n : 0; };
    if (n >= cap - 1) return n;
    const int w = std::vsnprintf(buf + n, room(), fmt, ap);
    n += w > 0 ? static_cast<std::size_t>(w) : 0;
    // Leave room for the newline; truncate long lines.
    if (n >= cap - 1) n = cap - 2;
    buf[n++] = '\n';
    buf[n] = '\0';
    return n;
}

int log_syslog_priority(log_level level) noexcept {
    switch (level) {
    case log_level::fatal:
        return 2; // LOG_CRIT
    case log_level::error:
        return 3; // LOG_ERR
    case log_level::warn:
        return 4; // LOG_WARNING
    case log_level::info:
        return 6; // LOG_INFO
    case log_level::debug:
    case log_level::trace:
        return 7; // LOG_DEBUG
    }
    return 6;
}

bool journal_stream_is(int fd) noexcept {
    const char* env = std::getenv("JOURNAL_STREAM");
    if (!env) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    if (::fstat(fd, &st) != 0) return false;
    return static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}

namespace {

// "<N>" into buf when the line goes to the journal; returns its length.
std::size_t journal_prefix(char* buf, log_level level, int fd) noexcept {
    if (fd != STDERR_FILENO || !g_journal.load(std::memory_order_relaxed)) return 0;
    buf[0] = '<';
    buf[1] = static_cast<char>('0' + log_syslog_priority(level));
    buf[2] = '>';
    return 3;
}

} // namespace

void log_vwrite(log_level level, const char* fmt, va_list ap) noexcept {
    char buf[2048];
    const int fd = g_fd.load(std::memory_order_relaxed);
    const std::size_t p = journal_prefix(buf, level, fd);
    const std::size_t n = log_format_line(buf + p, sizeof buf - p, level,
                                          g_logtime.load(std::memory_order_relaxed), fmt, ap);
    ssize_t r = ::write(fd, buf, p + n);
    (void)r;
}

void log_write_text(log_level level, std::string_view text) noexcept {
    char head[128];
    const int fd = g_fd.load(std::memory_order_relaxed);
    const std::size_t p = journal_prefix(head, level, fd);
    const std::size_t n = p + format_prefix(head + p, sizeof head - p, level,
                                            g_logtime.load(std::memory_order_relaxed));
    iovec iov[3] = {
        {head, n}, {const_cast<char*>(text.data()), text.size()}, {const_cast<char*>("\n"), 1}};
    ssize_t r = ::writev(fd, iov, 3);
    (void)r;
}

void log_write(log_level level, const char* fmt, ...) noexcept {
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, fmt, ap);
    va_end(ap);
}

} // namespace natrix::util
