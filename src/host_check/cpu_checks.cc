// The cpus the shards run on: that they exist, and that the scheduler keeps
// everything else off them (isolcpus, nohz_full).
#include <algorithm>

#include <natrix/host_check/host_check.hh>

namespace natrix::host_check {

namespace {

std::vector<int> online_cpus(const host_files& h) {
    if (auto text = h.read("/sys/devices/system/cpu/online"))
        if (auto cpus = parse_kernel_cpu_list(*text)) return *cpus;
    return {};
}

std::vector<int> read_list(const host_files& h, const char* path) {
    if (auto text = h.read(path))
        if (auto cpus = parse_kernel_cpu_list(*text)) return *cpus;
    return {};
}

// A `key=` parameter's cpu list from /proc/cmdline: isolcpus takes flags
// before the list ("isolcpus=managed_irq,domain,2-3").
std::vector<int> cmdline_list(const host_files& h, std::string_view key) {
    auto cmdline = h.read("/proc/cmdline");
    if (!cmdline) return {};
    std::string_view s = *cmdline;
    std::vector<int> out;
    std::size_t pos = 0;
    while (pos < s.size()) {
        std::size_t end = s.find_first_of(" \t\n", pos);
        if (end == std::string_view::npos) end = s.size();
        std::string_view word = s.substr(pos, end - pos);
        pos = end + 1;
        if (word.size() <= key.size() || word.substr(0, key.size()) != key ||
            word[key.size()] != '=')
            continue;
        std::string_view value = word.substr(key.size() + 1);
        // Drop leading flags (words without digits).
        while (!value.empty() && !(value[0] >= '0' && value[0] <= '9')) {
            const std::size_t comma = value.find(',');
            value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
        }
        if (auto cpus = parse_kernel_cpu_list(value))
            out.insert(out.end(), cpus->begin(), cpus->end());
    }
    return out;
}

bool contains(const std::vector<int>& v, int x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

} // namespace

std::vector<int> shard_cpus(const host_files& h, const check_settings& s) {
    if (!s.cpus.empty()) {
        std::vector<int> c = s.cpus;
        std::sort(c.begin(), c.end());
        return c;
    }
    return online_cpus(h);
}

finding check_cpus_exist(const host_files& h, const check_settings& s) {
    finding r{"cpus", severity::ok, "", ""};
    const std::vector<int> online = online_cpus(h);
    if (s.cpus.empty()) {
        r.message = "no cpus configured: shards run on every allowed core (" +
                    (online.empty() ? std::string("online cpus unknown")
                                    : "online: " + format_cpu_list(online)) +
                    ")";
        return r;
    }
    if (online.empty()) {
        r.level = severity::warn;
        r.message =
            "cannot read /sys/devices/system/cpu/online to check cpus " + format_cpu_list(s.cpus);
        r.fix = "mount sysfs, or check the cpus by hand with lscpu";
        return r;
    }
    std::vector<int> missing;
    for (int c : s.cpus)
        if (!contains(online, c)) missing.push_back(c);
    if (!missing.empty()) {
        r.level = severity::fail;
        r.message = "configured cpus " + format_cpu_list(missing) +
                    " do not exist or are offline (online: " + format_cpu_list(online) +
                    "): natrix will refuse to start";
        r.fix = "set natrix { cpus } to online cpus, or bring them online "
                "(echo 1 > /sys/devices/system/cpu/cpuN/online)";
        return r;
    }
    r.message = "configured cpus " + format_cpu_list(s.cpus) + " are online";
    return r;
}

finding check_cpu_isolation(const host_files& h, const check_settings& s) {
    finding r{"cpu_isolation", severity::ok, "", ""};
    std::vector<int> isolated = read_list(h, "/sys/devices/system/cpu/isolated");
    std::vector<int> nohz = read_list(h, "/sys/devices/system/cpu/nohz_full");
    for (int c : cmdline_list(h, "isolcpus")) isolated.push_back(c);
    for (int c : cmdline_list(h, "nohz_full")) nohz.push_back(c);
    if (s.cpus.empty()) {
        r.level = severity::warn;
        r.message = "no cpus configured: the shards share their cores with everything else";
        r.fix = "reserve cores for natrix: boot with isolcpus=managed_irq,domain,LIST "
                "nohz_full=LIST rcu_nocbs=LIST and set natrix { cpus: LIST }";
        return r;
    }
    std::vector<int> plain;
    for (int c : s.cpus)
        if (!contains(isolated, c) && !contains(nohz, c)) plain.push_back(c);
    const std::string list = format_cpu_list(s.cpus);
    if (plain.empty()) {
        r.message = "cpus " + list + " are isolated (isolcpus: " +
                    (isolated.empty() ? std::string("none") : format_cpu_list(isolated)) +
                    ", nohz_full: " + (nohz.empty() ? std::string("none") : format_cpu_list(nohz)) +
                    ")";
        return r;
    }
    r.level = severity::warn;
    r.message = "cpus " + format_cpu_list(plain) +
                " are not isolated: the scheduler puts other tasks and timer ticks on them";
    r.fix = "add isolcpus=managed_irq,domain," + list + " nohz_full=" + list +
            " rcu_nocbs=" + list +
            " to GRUB_CMDLINE_LINUX in /etc/default/grub, update-grub, reboot";
    return r;
}

} // namespace natrix::host_check
