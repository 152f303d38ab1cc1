#include <algorithm>
#include <memory>
#include <set>

#include <hwloc.h>
#include <sched.h>

#include <natrix/runtime/cpu_topology.hh>

namespace natrix::runtime {

namespace {

struct topology_deleter {
    void operator()(hwloc_topology* t) const { hwloc_topology_destroy(t); }
};
using topology_ptr = std::unique_ptr<hwloc_topology, topology_deleter>;

topology_ptr load_topology() {
    hwloc_topology_t t = nullptr;
    if (hwloc_topology_init(&t) != 0) return nullptr;
    topology_ptr owned(t);
    if (hwloc_topology_load(t) != 0) return nullptr;
    return owned;
}

} // namespace

bool plan_placement(unsigned shards, const std::vector<int>& cpus, placement& out,
                    std::string* error) {
    // The cpus we may run on: the affinity mask we were started with
    // (taskset, cgroups), as the kernel reports it.
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    std::vector<int> usable;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &allowed)) usable.push_back(c);
    }
    topology_ptr topo = load_topology();
    int cores = 0, pus = 0, packages = 0;
    if (topo) {
        cores = hwloc_get_nbobjs_by_type(topo.get(), HWLOC_OBJ_CORE);
        pus = hwloc_get_nbobjs_by_type(topo.get(), HWLOC_OBJ_PU);
        packages = hwloc_get_nbobjs_by_type(topo.get(), HWLOC_OBJ_PACKAGE);
        if (usable.empty()) {
            hwloc_const_cpuset_t set = hwloc_topology_get_allowed_cpuset(topo.get());
            int id;
            hwloc_bitmap_foreach_begin(id, set) usable.push_back(id);
            hwloc_bitmap_foreach_end();
        }
    }
    if (usable.empty()) usable.push_back(0);

    std::vector<int> chosen;
    if (cpus.empty()) {
        chosen = usable;
    } else {
        std::set<int> ok(usable.begin(), usable.end());
        for (int c : cpus) {
            if (!ok.count(c)) {
                if (error) *error = "cpu " + std::to_string(c) + " is not usable by this process";
                return false;
            }
            chosen.push_back(c);
        }
    }
    const unsigned n = shards ? shards : static_cast<unsigned>(chosen.size());
    out.shard_cpus.clear();
    for (unsigned i = 0; i < n; ++i) out.shard_cpus.push_back(chosen[i % chosen.size()]);
    out.oversubscribed = n > chosen.size();

    std::string d = "topology: " + std::to_string(packages) + " package(s), " +
                    std::to_string(cores) + " core(s), " + std::to_string(pus) + " PU(s), " +
                    std::to_string(usable.size()) + " usable; " + std::to_string(n) +
                    " shard(s) on cpus [";
    for (unsigned i = 0; i < n; ++i) d += (i ? "," : "") + std::to_string(out.shard_cpus[i]);
    d += "]";
    if (out.oversubscribed) d += " (more shards than cpus: shards share cpus)";
    out.description = std::move(d);
    return true;
}

bool pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0;
}

} // namespace natrix::runtime
