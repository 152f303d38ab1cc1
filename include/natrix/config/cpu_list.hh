#pragma once
// CPU lists as taskset(1) and the kernel write them: "0-3,6,8-9". Used by
// the `natrix { cpus }` option and the --cpus flag. Pure; any thread.
#include <string>
#include <string_view>
#include <vector>

namespace natrix::config {

// Highest CPU number accepted; a guard against typos like "0-40000".
inline constexpr int max_cpu_id = 4095;

// Appends the CPUs in list order to *out. Fails (reason in *error) on an
// empty list, bad syntax, a reversed range, a number above max_cpu_id or a
// CPU listed twice.
bool parse_cpu_list(std::string_view text, std::vector<int>* out, std::string* error);

} // namespace natrix::config
