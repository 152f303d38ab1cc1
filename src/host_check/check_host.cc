// Runs every check, and gathers the facts that are not files.
#include <sys/resource.h>

#include <natrix/host_check/host_check.hh>
#include <natrix/io/backend.hh>

namespace natrix::host_check {

check_settings settings_from(const config::server_options& o) {
    check_settings s;
    s.cpus = o.natrix.cpus;
    s.shards = o.natrix.shards;
    s.io_backend = o.natrix.io_backend;
    s.idle_strategy = o.natrix.idle_strategy;
    s.max_connections = o.max_connections;
    return s;
}

host_facts probe_live_facts() {
    host_facts f;
    f.uring_ok = io::uring_available(&f.uring_why);
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        f.nofile_soft = rl.rlim_cur;
        f.nofile_hard = rl.rlim_max;
    }
    return f;
}

std::vector<finding> check_host(const host_files& h, const host_facts& f, const check_settings& s) {
    return {
        check_io_uring(h, f, s), check_cpus_exist(h, s),   check_cpu_isolation(h, s),
        check_nic_irqs(h, s),    check_cpu_governor(h, s), check_transparent_hugepages(h),
        check_swap(h),           check_fd_limit(h, f, s),  check_somaxconn(h),
        check_tcp_buffers(h),    check_busy_poll(h, f, s),
    };
}

} // namespace natrix::host_check
