// Each check on fake /proc and /sys trees: every verdict it can give.
#include <gtest/gtest.h>

#include <natrix/host_check/host_check.hh>

#include "fake_host.hh"

using namespace natrix::host_check;
using natrix::host_check::test::fake_host;

namespace {

check_settings on_cpus(std::vector<int> cpus) {
    check_settings s;
    s.cpus = std::move(cpus);
    return s;
}

bool mentions(const finding& f, const std::string& text) {
    return f.message.find(text) != std::string::npos || f.fix.find(text) != std::string::npos;
}

} // namespace

TEST(check_io_uring, ok_warn_and_fail_follow_the_backend_choice) {
    fake_host h;
    h.write("/proc/sys/kernel/io_uring_disabled", "2\n");
    host_facts yes, no;
    no.uring_ok = false;
    no.uring_why = "io_uring_setup: Operation not permitted";
    check_settings s;

    finding f = check_io_uring(h.files(), yes, s);
    EXPECT_EQ(f.level, severity::ok);
    EXPECT_TRUE(mentions(f, "the io_uring backend will run"));

    f = check_io_uring(h.files(), no, s); // auto falls back
    EXPECT_EQ(f.level, severity::warn);
    EXPECT_TRUE(mentions(f, "the epoll backend will run"));
    EXPECT_TRUE(mentions(f, "kernel.io_uring_disabled=0 (now 2")) << f.fix;
    EXPECT_TRUE(mentions(f, "seccomp"));

    s.io_backend = "uring";
    f = check_io_uring(h.files(), no, s);
    EXPECT_EQ(f.level, severity::fail);
    EXPECT_TRUE(mentions(f, "refuse to start"));

    s.io_backend = "epoll";
    f = check_io_uring(h.files(), no, s);
    EXPECT_EQ(f.level, severity::ok);
    EXPECT_TRUE(mentions(f, "the epoll backend will run"));
}

TEST(check_cpus_exist, ok_warn_and_fail) {
    fake_host h;
    EXPECT_EQ(check_cpus_exist(h.files(), on_cpus({2})).level, severity::warn) << "no sysfs";
    h.write("/sys/devices/system/cpu/online", "0-3\n");
    EXPECT_EQ(check_cpus_exist(h.files(), on_cpus({2, 3})).level, severity::ok);
    EXPECT_EQ(check_cpus_exist(h.files(), on_cpus({})).level, severity::ok);
    finding f = check_cpus_exist(h.files(), on_cpus({3, 4, 5}));
    EXPECT_EQ(f.level, severity::fail);
    EXPECT_TRUE(mentions(f, "cpus 4,5 do not exist")) << f.message;
}

TEST(check_cpu_isolation, isolcpus_nohz_full_and_the_cmdline) {
    fake_host h;
    h.write("/sys/devices/system/cpu/isolated", "\n")
        .write("/sys/devices/system/cpu/nohz_full", "(null)\n");
    finding f = check_cpu_isolation(h.files(), on_cpus({2, 3}));
    EXPECT_EQ(f.level, severity::warn);
    EXPECT_TRUE(mentions(f, "isolcpus=managed_irq,domain,2,3 nohz_full=2,3")) << f.fix;
    EXPECT_EQ(check_cpu_isolation(h.files(), on_cpus({})).level, severity::warn);

    h.write("/sys/devices/system/cpu/isolated", "2-3\n");
    EXPECT_EQ(check_cpu_isolation(h.files(), on_cpus({2, 3})).level, severity::ok);

    fake_host g; // only the command line says so
    g.write("/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 isolcpus=managed_irq,domain,4-5 "
                             "nohz_full=6\n");
    EXPECT_EQ(check_cpu_isolation(g.files(), on_cpus({4, 5, 6})).level, severity::ok);
    f = check_cpu_isolation(g.files(), on_cpus({5, 7}));
    EXPECT_EQ(f.level, severity::warn);
    EXPECT_TRUE(mentions(f, "cpus 7 are not isolated")) << f.message;
}

TEST(check_nic_irqs, finds_the_nic_by_msi_irqs_and_by_name) {
    fake_host h;
    h.mkdir("/sys/class/net/lo").mkdir("/sys/class/net/eth0/device/msi_irqs/30");
    h.write("/proc/interrupts", "           CPU0       CPU1\n"
                                "  0:         9          0   IO-APIC   2-edge      timer\n"
                                " 31:      1200          0   PCI-MSI 49153-edge      eth0-TxRx-1\n"
                                " 40:         0          0   PCI-MSI 1-edge      virtio1-input.0\n"
                                " 50:        12          0   PCI-MSI 2-edge      nvme0q1\n"
                                "NMI:         0          0   Non-maskable interrupts\n");
    h.write("/proc/irq/30/smp_affinity_list", "0-1\n")
        .write("/proc/irq/31/smp_affinity_list", "0\n")
        .write("/proc/irq/40/smp_affinity_list", "1\n")
        .write("/proc/irq/50/smp_affinity_list", "2-3\n");
    finding f = check_nic_irqs(h.files(), on_cpus({2, 3}));
    EXPECT_EQ(f.level, severity::ok) << f.message << " (nvme is no NIC)";
    EXPECT_TRUE(mentions(f, "3 NIC interrupts")) << f.message;

    h.write("/proc/irq/31/smp_affinity_list", "0-3\n")
        .write("/proc/irq/40/smp_affinity_list", "3\n");
    f = check_nic_irqs(h.files(), on_cpus({2, 3}));
    EXPECT_EQ(f.level, severity::warn);
    EXPECT_TRUE(mentions(f, "NIC interrupts 31,40")) << f.message;
    EXPECT_TRUE(mentions(f, "IRQBALANCE_BANNED_CPULIST=2,3")) << f.fix;

    EXPECT_EQ(check_nic_irqs(h.files(), on_cpus({})).level, severity::ok);
    fake_host none;
    EXPECT_EQ(check_nic_irqs(none.files(), on_cpus({1})).level, severity::ok);
}

TEST(check_cpu_governor, performance_other_and_absent) {
    fake_host h;
    h.write("/sys/devices/system/cpu/online", "0-3\n");
    finding f = check_cpu_governor(h.files(), on_cpus({2, 3}));
    EXPECT_EQ(f.level, severity::ok) << "a VM has no cpufreq";
    EXPECT_TRUE(mentions(f, "no cpufreq governor"));
    for (int c = 0; c < 4; ++c)
        h.write("/sys/devices/system/cpu/cpu" + std::to_string(c) + "/cpufreq/scaling_governor",
                c == 1 ? "powersave\n" : "performance\n");
    EXPECT_EQ(check_cpu_governor(h.files(), on_cpus({2, 3})).level, severity::ok);
    f = check_cpu_governor(h.files(), on_cpus({})); // every online cpu
    EXPECT_EQ(f.level, severity::warn);
    EXPECT_TRUE(mentions(f, "cpus 1 use the powersave governor")) << f.message;
    EXPECT_TRUE(mentions(f, "cpupower frequency-set -g performance"));
}

TEST(check_transparent_hugepages, always_warns) {
    fake_host h;
    EXPECT_EQ(check_transparent_hugepages(h.files()).level, severity::ok);
    h.write("/sys/kernel/mm/transparent_hugepage/enabled", "always madvise [never]\n");
    EXPECT_EQ(check_transparent_hugepages(h.files()).level, severity::ok);
    h.write("/sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
    finding f = check_transparent_hugepages(h.files());
    EXPECT_EQ(f.level, severity::ok);
    EXPECT_TRUE(mentions(f, "madvise"));
    h.write("/sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n");
    f = check_transparent_hugepages(h.files());
    EXPECT_EQ(f.level, severity::warn);
    EXPECT_TRUE(mentions(f, "echo madvise"));
}

TEST(check_swap, swap_with_high_swappiness_warns) {
    fake_host h;
    const std::string header = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
    h.write("/proc/swaps", header).write("/proc/sys/vm/swappiness", "60\n");
    EXPECT_EQ(check_swap(h.files()).level, severity::ok);
    h.write("/proc/swaps", header + "/dev/sda2  partition\t1048572\t0\t-2\n");
    finding f = check_swap(h.files());
    EXPECT_EQ(f.level, severity::warn);
    EXPECT_TRUE(mentions(f, "vm.swappiness 60"));
    EXPECT_TRUE(mentions(f, "vm.swappiness=1"));
    h.write("/proc/sys/vm/swappiness", "1\n");
    EXPECT_EQ(check_swap(h.files()).level, severity::ok);
}

TEST(check_fd_limit, soft_hard_and_nr_open) {
    fake_host h;
    h.write("/sys/devices/system/cpu/online", "0-1\n").write("/proc/sys/fs/nr_open", "1048576\n");
    check_settings s;
    s.max_connections = 100000;
    const long long need = 100000 + fd_reserve(s, 2);
    host_facts f;
    f.nofile_soft = f.nofile_hard = static_cast<std::uint64_t>(need);
    EXPECT_EQ(check_fd_limit(h.files(), f, s).level, severity::ok);

    f.nofile_soft = 1024;
    finding r = check_fd_limit(h.files(), f, s);
    EXPECT_EQ(r.level, severity::warn) << r.message;
    EXPECT_TRUE(mentions(r, "LimitNOFILE"));

    f.nofile_hard = 4096;
    r = check_fd_limit(h.files(), f, s);
    EXPECT_EQ(r.level, severity::fail);
    EXPECT_TRUE(mentions(r, "clients past it are refused"));

    f.nofile_soft = f.nofile_hard = 1 << 20; // the limit allows it, fs.nr_open does not
    h.write("/proc/sys/fs/nr_open", "65536\n");
    f.nofile_soft = 1024;
    r = check_fd_limit(h.files(), f, s);
    EXPECT_EQ(r.level, severity::fail);
    EXPECT_TRUE(mentions(r, "fs.nr_open=" + std::to_string(need))) << r.fix;
}

TEST(check_network, somaxconn_and_tcp_buffers) {
    fake_host h;
    EXPECT_EQ(check_somaxconn(h.files()).level, severity::ok) << "unreadable: a note";
    EXPECT_EQ(check_tcp_buffers(h.files()).level, severity::ok);
    h.write("/proc/sys/net/core/somaxconn", "128\n");
    finding f = check_somaxconn(h.files());
    EXPECT_EQ(f.level, severity::warn);
    EXPECT_TRUE(mentions(f, "net.core.somaxconn=4096"));
    h.write("/proc/sys/net/core/somaxconn", "4096\n");
    EXPECT_EQ(check_somaxconn(h.files()).level, severity::ok);

    h.write("/proc/sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456\n")
        .write("/proc/sys/net/ipv4/tcp_wmem", "4096\t16384\t4194304\n");
    EXPECT_EQ(check_tcp_buffers(h.files()).level, severity::ok);
    h.write("/proc/sys/net/ipv4/tcp_wmem", "4096\t16384\t1048576\n");
    f = check_tcp_buffers(h.files());
    EXPECT_EQ(f.level, severity::warn);
    EXPECT_TRUE(mentions(f, "tcp_wmem max 1048576"));
}

TEST(check_busy_poll, matters_for_spinning_epoll_only) {
    fake_host h;
    h.write("/proc/sys/net/core/busy_poll", "0\n").write("/proc/sys/net/core/busy_read", "0\n");
    check_settings s;
    s.idle_strategy = "spin";
    host_facts uring;
    finding f = check_busy_poll(h.files(), uring, s);
    EXPECT_EQ(f.level, severity::ok);
    EXPECT_TRUE(mentions(f, "do not apply to the io_uring backend"));
    s.io_backend = "epoll";
    f = check_busy_poll(h.files(), uring, s);
    EXPECT_EQ(f.level, severity::warn);
    EXPECT_TRUE(mentions(f, "net.core.busy_poll=50"));
    h.write("/proc/sys/net/core/busy_poll", "50\n");
    EXPECT_EQ(check_busy_poll(h.files(), uring, s).level, severity::ok);
    s.idle_strategy = "backoff";
    h.write("/proc/sys/net/core/busy_poll", "0\n");
    EXPECT_EQ(check_busy_poll(h.files(), uring, s).level, severity::ok);
}

TEST(check_host, runs_every_check_once) {
    fake_host h;
    const auto all = check_host(h.files(), host_facts{}, check_settings{});
    std::vector<std::string> names;
    for (const finding& f : all) names.push_back(f.check);
    EXPECT_EQ(names,
              (std::vector<std::string>{"io_uring", "cpus", "cpu_isolation", "nic_irqs",
                                        "cpu_governor", "transparent_hugepages", "swap", "fd_limit",
                                        "somaxconn", "tcp_buffers", "busy_poll"}));
    for (const finding& f : all)
        EXPECT_EQ(f.level == severity::ok, f.fix.empty())
            << f.check << ": a fix exactly when not ok";
}
