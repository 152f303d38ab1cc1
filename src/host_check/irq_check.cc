// The network card's interrupts should land on cores the shards do not use:
// an IRQ on a shard's core steals it for the softirq work.
#include <algorithm>

#include <natrix/host_check/host_check.hh>

namespace natrix::host_check {

namespace {

struct irq {
    int number = 0;
    std::string name; // the device column of /proc/interrupts
};

// Interface names of real devices (those with a device link); lo never.
std::vector<std::string> interfaces(const host_files& h) {
    std::vector<std::string> out;
    for (const std::string& n : h.list("/sys/class/net"))
        if (n != "lo" && n != "bonding_masters") out.push_back(n);
    return out;
}

std::vector<irq> interrupts(const host_files& h) {
    std::vector<irq> out;
    auto text = h.read("/proc/interrupts");
    if (!text) return out;
    std::string_view s = *text;
    while (!s.empty()) {
        const std::size_t nl = s.find('\n');
        std::string_view line = s.substr(0, nl);
        s = nl == std::string_view::npos ? std::string_view{} : s.substr(nl + 1);
        std::size_t i = line.find_first_not_of(' ');
        const std::size_t colon = line.find(':');
        if (i == std::string_view::npos || colon == std::string_view::npos || colon <= i) continue;
        std::string_view num = line.substr(i, colon - i);
        if (num.find_first_not_of("0123456789") != std::string_view::npos) continue; // NMI, LOC...
        std::size_t end = line.find_last_not_of(" \t\r");
        std::size_t start = line.find_last_of(" \t", end);
        irq q;
        q.number = std::stoi(std::string(num));
        q.name = std::string(line.substr(start + 1, end - start));
        out.push_back(std::move(q));
    }
    return out;
}

bool nic_name(const std::string& name, const std::vector<std::string>& ifaces) {
    for (const std::string& i : ifaces)
        if (name.find(i) != std::string::npos) return true;
    // virtio-net queues ("virtio0-input.0"), Mellanox completion vectors.
    return name.find("-input.") != std::string::npos ||
           name.find("-output.") != std::string::npos || name.rfind("mlx5_comp", 0) == 0;
}

} // namespace

finding check_nic_irqs(const host_files& h, const check_settings& s) {
    finding r{"nic_irqs", severity::ok, "", ""};
    const std::vector<std::string> ifaces = interfaces(h);
    std::vector<int> nic;
    for (const std::string& i : ifaces)
        for (const std::string& n : h.list("/sys/class/net/" + i + "/device/msi_irqs"))
            if (n.find_first_not_of("0123456789") == std::string::npos) nic.push_back(std::stoi(n));
    for (const irq& q : interrupts(h))
        if (nic_name(q.name, ifaces)) nic.push_back(q.number);
    std::sort(nic.begin(), nic.end());
    nic.erase(std::unique(nic.begin(), nic.end()), nic.end());
    if (s.cpus.empty()) {
        r.message = "no cpus configured: the shards share every core with the NIC's interrupts";
        return r;
    }
    if (nic.empty()) {
        r.message = "no NIC interrupts found (loopback only, or a NIC without its own IRQs)";
        return r;
    }
    std::vector<int> bad_irqs, bad_cpus;
    for (int n : nic) {
        auto text = h.read("/proc/irq/" + std::to_string(n) + "/smp_affinity_list");
        if (!text) continue;
        auto cpus = parse_kernel_cpu_list(*text);
        if (!cpus) continue;
        bool hit = false;
        for (int c : *cpus)
            if (std::find(s.cpus.begin(), s.cpus.end(), c) != s.cpus.end()) {
                hit = true;
                bad_cpus.push_back(c);
            }
        if (hit) bad_irqs.push_back(n);
    }
    if (bad_irqs.empty()) {
        r.message = std::to_string(nic.size()) + " NIC interrupts, none on the shards' cpus " +
                    format_cpu_list(s.cpus);
        return r;
    }
    r.level = severity::warn;
    r.message = "NIC interrupts " + format_cpu_list(bad_irqs) + " may run on the shards' cpus " +
                format_cpu_list(bad_cpus);
    r.fix = "move them: for each IRQ, echo HOUSEKEEPING_CPUS > /proc/irq/N/smp_affinity_list; "
            "with irqbalance, set IRQBALANCE_BANNED_CPULIST=" +
            format_cpu_list(s.cpus) +
            " in /etc/default/irqbalance (isolcpus=managed_irq does it for managed IRQs)";
    return r;
}

} // namespace natrix::host_check
