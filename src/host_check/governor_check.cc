// The shards' cores should run at full clock: another governor ramps up
// only after load arrives, which costs the first messages of every burst.
#include <natrix/host_check/host_check.hh>

namespace natrix::host_check {

finding check_cpu_governor(const host_files& h, const check_settings& s) {
    finding r{"cpu_governor", severity::ok, "", ""};
    const std::vector<int> cpus = shard_cpus(h, s);
    std::vector<int> slow, seen;
    std::string governor;
    for (int c : cpus) {
        auto g = h.read_line("/sys/devices/system/cpu/cpu" + std::to_string(c) +
                             "/cpufreq/scaling_governor");
        if (!g) continue;
        seen.push_back(c);
        if (*g != "performance") {
            slow.push_back(c);
            governor = *g;
        }
    }
    if (seen.empty()) {
        r.message = "no cpufreq governor (a VM, or frequency scaling off): nothing to set";
        return r;
    }
    if (slow.empty()) {
        r.message = "cpus " + format_cpu_list(seen) + " use the performance governor";
        return r;
    }
    r.level = severity::warn;
    r.message = "cpus " + format_cpu_list(slow) + " use the " + governor +
                " governor: the clock ramps up only after load arrives";
    r.fix = "cpupower frequency-set -g performance (package linux-cpupower), or echo performance "
            "> /sys/devices/system/cpu/cpuN/cpufreq/scaling_governor at boot";
    return r;
}

} // namespace natrix::host_check
