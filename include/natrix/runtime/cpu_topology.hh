#pragma once
// CPU discovery and shard placement through hwloc. Used by the control
// thread at start-up; each shard thread then pins itself once.
#include <string>
#include <vector>

namespace natrix::runtime {

struct placement {
    std::vector<int> shard_cpus; // OS cpu index per shard
    std::string description;     // one line for the start-up log
    bool oversubscribed = false; // more shards than chosen cpus
};

// Plans `shards` shards (0 = one per usable cpu) over `cpus` (empty = every
// cpu this process may run on). Fails with a reason in *error when a
// requested cpu is not usable.
bool plan_placement(unsigned shards, const std::vector<int>& cpus, placement& out,
                    std::string* error);

// Pins the calling thread to one OS cpu. Returns false if the OS refused.
bool pin_current_thread(int cpu);

} // namespace natrix::runtime
