// Memory the shards touch must stay resident and unmoved: transparent huge
// pages in `always` mode stall on compaction, swap stalls on page-in.
#include <natrix/host_check/host_check.hh>

namespace natrix::host_check {

finding check_transparent_hugepages(const host_files& h) {
    finding r{"transparent_hugepages", severity::ok, "", ""};
    auto line = h.read_line("/sys/kernel/mm/transparent_hugepage/enabled");
    if (!line) {
        r.message = "transparent huge pages are not built into this kernel";
        return r;
    }
    const std::size_t open = line->find('['), close = line->find(']');
    const std::string mode = open != std::string::npos && close != std::string::npos && close > open
                                 ? line->substr(open + 1, close - open - 1)
                                 : *line;
    if (mode == "always") {
        r.level = severity::warn;
        r.message = "transparent huge pages: always (khugepaged and compaction stall the shards "
                    "at random)";
        r.fix = "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled, and "
                "transparent_hugepage=madvise on the kernel command line";
        return r;
    }
    r.message = "transparent huge pages: " + mode;
    return r;
}

finding check_swap(const host_files& h) {
    finding r{"swap", severity::ok, "", ""};
    int devices = 0;
    if (auto swaps = h.read("/proc/swaps")) {
        std::string_view s = *swaps;
        bool header = true;
        while (!s.empty()) {
            const std::size_t nl = s.find('\n');
            std::string_view line = s.substr(0, nl);
            s = nl == std::string_view::npos ? std::string_view{} : s.substr(nl + 1);
            if (header) {
                header = false;
                continue;
            }
            if (line.find_first_not_of(" \t\r") != std::string_view::npos) ++devices;
        }
    }
    const auto swappiness = h.read_integer("/proc/sys/vm/swappiness");
    if (devices == 0) {
        r.message = "no swap";
        return r;
    }
    const std::string sw = swappiness ? std::to_string(*swappiness) : std::string("unknown");
    if (swappiness && *swappiness <= 10) {
        r.message = std::to_string(devices) + " swap device(s), vm.swappiness " + sw;
        return r;
    }
    r.level = severity::warn;
    r.message = std::to_string(devices) + " swap device(s) with vm.swappiness " + sw +
                ": idle connections' buffers may be paged out";
    r.fix = "sysctl -w vm.swappiness=1 (persist in /etc/sysctl.d/), or swapoff -a";
    return r;
}

} // namespace natrix::host_check
