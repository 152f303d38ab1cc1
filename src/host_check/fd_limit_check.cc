// Every client is a file descriptor: the limit must cover max_connections
// and natrix's own descriptors, or accepts fail with EMFILE.
#include <natrix/host_check/host_check.hh>

namespace natrix::host_check {

long long fd_reserve(const check_settings&, std::size_t shards) {
    // Per shard: listener, eventfd, io_uring or epoll fd, spare; overall:
    // std streams, log and pid files, the monitor and its clients.
    return 64 + 8 * static_cast<long long>(shards);
}

finding check_fd_limit(const host_files& h, const host_facts& f, const check_settings& s) {
    finding r{"fd_limit", severity::ok, "", ""};
    std::size_t shards = s.shards;
    if (shards == 0) shards = shard_cpus(h, s).size();
    if (shards == 0) shards = 1;
    const long long need = s.max_connections + fd_reserve(s, shards);
    const auto soft = static_cast<long long>(f.nofile_soft);
    const auto hard = static_cast<long long>(f.nofile_hard);
    const std::string want = std::to_string(need) + " (max_connections " +
                             std::to_string(s.max_connections) + " + " +
                             std::to_string(need - s.max_connections) + " for natrix)";
    const std::string fix = "raise it to at least " + std::to_string(need) +
                            ": LimitNOFILE= in the systemd unit, nofile in "
                            "/etc/security/limits.conf, or ulimit -n before starting natrix";
    if (soft >= need) {
        r.message = "open files limit " + std::to_string(soft) + " covers " + want;
        return r;
    }
    const auto nr_open = h.read_integer("/proc/sys/fs/nr_open");
    if (hard < need || (nr_open && *nr_open < need)) {
        r.level = severity::fail;
        r.message = "open files limit " + std::to_string(soft) + " (hard " + std::to_string(hard) +
                    (nr_open ? ", fs.nr_open " + std::to_string(*nr_open) : std::string()) +
                    ") is below " + want + ": clients past it are refused";
        r.fix = fix +
                (nr_open && *nr_open < need ? "; first sysctl -w fs.nr_open=" + std::to_string(need)
                                            : std::string()) +
                "; or lower max_connections";
        return r;
    }
    r.level = severity::warn;
    r.message = "open files limit " + std::to_string(soft) + " is below " + want +
                " (the hard limit " + std::to_string(hard) + " allows it)";
    r.fix = fix;
    return r;
}

} // namespace natrix::host_check
