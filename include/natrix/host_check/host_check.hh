#pragma once
// `natrix --check-host`: the machine against the config. Each check reads
// the host through host_files (a root directory, "/" in production) and the
// few facts that are not files (an io_uring probe, the fd limits) from
// host_facts, so that tests feed both. Runs on the main thread, once.
#include <cstdint>
#include <string>
#include <vector>

#include <natrix/config/server_options.hh>
#include <natrix/host_check/finding.hh>
#include <natrix/host_check/host_files.hh>

namespace natrix::host_check {

// What the checks need from the config.
struct check_settings {
    std::vector<int> cpus;           // natrix { cpus }; empty = every allowed core
    std::uint32_t shards = 0;        // natrix { shards }; 0 = one per core
    std::string io_backend = "auto"; // auto | uring | epoll
    std::string idle_strategy = "backoff";
    long long max_connections = 65536;
};

check_settings settings_from(const config::server_options& o);

// What is not read from files.
struct host_facts {
    bool uring_ok = true;
    std::string uring_why; // why io_uring cannot be had (when !uring_ok)
    std::uint64_t nofile_soft = 1 << 20;
    std::uint64_t nofile_hard = 1 << 20;
};

// This process's facts: tries an io_uring (the backend's own probe), getrlimit.
host_facts probe_live_facts();

// File descriptors natrix needs besides its clients: listeners, eventfds,
// rings, the monitor, log and config files, per shard and overall.
long long fd_reserve(const check_settings& s, std::size_t shards);

// The individual checks.
finding check_io_uring(const host_files& h, const host_facts& f, const check_settings& s);
// The cpus natrix will use: those configured, or every online one.
std::vector<int> shard_cpus(const host_files& h, const check_settings& s);
finding check_cpus_exist(const host_files& h, const check_settings& s);
finding check_cpu_isolation(const host_files& h, const check_settings& s);
finding check_nic_irqs(const host_files& h, const check_settings& s);
finding check_cpu_governor(const host_files& h, const check_settings& s);
finding check_transparent_hugepages(const host_files& h);
finding check_swap(const host_files& h);
finding check_fd_limit(const host_files& h, const host_facts& f, const check_settings& s);
finding check_somaxconn(const host_files& h);
finding check_tcp_buffers(const host_files& h);
finding check_busy_poll(const host_files& h, const host_facts& f, const check_settings& s);

// Every check, in report order.
std::vector<finding> check_host(const host_files& h, const host_facts& f, const check_settings& s);

// The report: one line per finding (and its fix), then a summary line.
std::string format_text(const std::vector<finding>& findings, const std::string& config_file);
// {"config":...,"findings":[{"check","status","message","fix"}...],"ok":N,"warn":N,"fail":N}
std::string format_json(const std::vector<finding>& findings, const std::string& config_file);

} // namespace natrix::host_check
