// Which I/O backend will run: the same decision as broker::server's
// choose_backend, from the same probe (io::uring_available).
#include <natrix/host_check/host_check.hh>

namespace natrix::host_check {

namespace {

// The common reasons, from the kernel's own switch, in the fix.
std::string uring_fix(const host_files& h) {
    std::string fix;
    if (auto disabled = h.read_integer("/proc/sys/kernel/io_uring_disabled");
        disabled && *disabled != 0)
        fix = "sysctl -w kernel.io_uring_disabled=0 (now " + std::to_string(*disabled) +
              ", persist in /etc/sysctl.d/); ";
    fix += "in a container, allow io_uring_setup, io_uring_enter and io_uring_register in the "
           "seccomp profile (Docker's default denies them); the kernel must be 5.19 or later";
    return fix;
}

} // namespace

finding check_io_uring(const host_files& h, const host_facts& f, const check_settings& s) {
    finding r{"io_uring", severity::ok, "", ""};
    if (s.io_backend == "epoll") {
        r.message = f.uring_ok ? "the epoll backend will run (natrix { io: epoll }); io_uring is "
                                 "available, io: auto would use it"
                               : "the epoll backend will run (natrix { io: epoll }); io_uring is "
                                 "not available here: " +
                                     f.uring_why;
        return r;
    }
    if (f.uring_ok) {
        r.message = "io_uring is available: the io_uring backend will run";
        return r;
    }
    if (s.io_backend == "uring") {
        r.level = severity::fail;
        r.message = "io_uring is not available (" + f.uring_why +
                    "): natrix { io: uring } will refuse to start";
        r.fix = uring_fix(h) + "; or set natrix { io: epoll }";
        return r;
    }
    r.level = severity::warn;
    r.message = "io_uring is not available (" + f.uring_why + "): the epoll backend will run";
    r.fix = uring_fix(h) + "; or set natrix { io: epoll } to choose epoll explicitly";
    return r;
}

} // namespace natrix::host_check
