#pragma once
// systemd's readiness protocol without libsystemd: a datagram of
// newline-separated KEY=VALUE pairs ("READY=1", "RELOADING=1", "STOPPING=1")
// sent to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or an abstract
// name when it starts with '@'), as sd_notify(3) documents. Without
// NOTIFY_SOCKET (not started by systemd with Type=notify) nothing is sent.
// Control thread only (start-up, signals, shutdown).
#include <string_view>

namespace natrix::util {

// Sends `state`; true when a datagram went out. A failure never matters to
// natrix itself (systemd then times the start out), so callers ignore it.
bool sd_notify(std::string_view state) noexcept;

} // namespace natrix::util
