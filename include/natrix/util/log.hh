#pragma once
// Process-wide logger in nats-server's line format:
//   [pid] 2006/01/02 15:04:05.000000 [INF] message
// Any thread may log: each line is formatted on the caller's stack and
// written with a single write(2), so lines from different shards never
// interleave. Configuration (level, file) is set at start-up and on reload
// from the control thread.
#include <atomic>
#include <cstdarg>
#include <string>
#include <string_view>

namespace natrix::util {

enum class log_level { fatal = 0, error, warn, info, debug, trace };

// Debug and trace are independent, as in nats-server: -V traces without the
// debug lines, -D debugs without the traces.
struct log_settings {
    bool debug = false;
    bool trace = false;
    bool logtime = true;
    int max_traced_msg_len = 0; // traced payloads longer than this are cut; 0: whole
    std::string file;           // empty: stderr
};

namespace detail {
extern std::atomic<bool> trace_on;
} // namespace detail

// Whether protocol tracing is on: one relaxed load, so that the hot path's
// guard costs a single predictable branch while it is off.
inline bool trace_enabled() noexcept {
    return detail::trace_on.load(std::memory_order_relaxed);
}
int log_max_traced_msg_len() noexcept;

// Applies settings; reopens the file. Returns false and leaves the previous
// sink in place if the file cannot be opened (error text in *error).
bool log_configure(const log_settings& settings, std::string* error);
// Reopens the current log file (SIGUSR1, for logrotate).
bool log_reopen(std::string* error);

bool log_enabled(log_level level) noexcept;
void log_write(log_level level, const char* fmt, ...) noexcept
    __attribute__((format(printf, 2, 3)));
void log_vwrite(log_level level, const char* fmt, va_list ap) noexcept;
// Writes `text` as one line however long it is (log_write cuts lines at 2 KB;
// a traced payload may be megabytes), with one writev(2).
void log_write_text(log_level level, std::string_view text) noexcept;

// Under systemd, stderr is a journal stream: $JOURNAL_STREAM holds its
// "device:inode". While logging to stderr there, each line starts with the
// level's syslog priority in angle brackets ("<4>" for a warning), which
// journald strips and records (sd-daemon.h's SD_WARNING convention).
// log_configure looks once; these are exposed for tests.
int log_syslog_priority(log_level level) noexcept;
bool journal_stream_is(int fd) noexcept;

// Formats one line into buf (no trailing newline handling by caller);
// exposed for tests. Returns the length written.
std::size_t log_format_line(char* buf, std::size_t cap, log_level level, bool logtime,
                            const char* fmt, va_list ap) noexcept;

} // namespace natrix::util

#define NATRIX_LOG(level, ...)                                                                     \
    do {                                                                                           \
        if (::natrix::util::log_enabled(level)) ::natrix::util::log_write(level, __VA_ARGS__);     \
    } while (0)
#define LOG_ERR(...) NATRIX_LOG(::natrix::util::log_level::error, __VA_ARGS__)
#define LOG_WRN(...) NATRIX_LOG(::natrix::util::log_level::warn, __VA_ARGS__)
#define LOG_INF(...) NATRIX_LOG(::natrix::util::log_level::info, __VA_ARGS__)
#define LOG_DBG(...) NATRIX_LOG(::natrix::util::log_level::debug, __VA_ARGS__)
#define LOG_TRC(...) NATRIX_LOG(::natrix::util::log_level::trace, __VA_ARGS__)
