#pragma once
// Read access to the machine's /proc and /sys through a root directory, so
// that tests can hand `natrix --check-host` a fake tree ("/" in production).
// Paths are absolute as on the host ("/proc/swaps"); nothing is written.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace natrix::host_check {

class host_files {
public:
    explicit host_files(std::string root = "/");

    const std::string& root() const noexcept { return root_; }
    // The whole file, or nullopt when it is missing or unreadable.
    std::optional<std::string> read(std::string_view path) const;
    // The file's first line without surrounding whitespace.
    std::optional<std::string> read_line(std::string_view path) const;
    // The file as an integer (first token), nullopt when absent or not a number.
    std::optional<long long> read_integer(std::string_view path) const;
    // Entry names in a directory, sorted; empty when it is missing.
    std::vector<std::string> list(std::string_view dir) const;

private:
    std::string full(std::string_view path) const;
    std::string root_;
};

// A CPU list as the kernel writes it ("0-3,8,10-11", possibly empty).
// Returns nullopt on bad syntax; the list comes back sorted and unique.
std::optional<std::vector<int>> parse_kernel_cpu_list(std::string_view text);
// "2-3,8" for {2,3,8}.
std::string format_cpu_list(const std::vector<int>& cpus);

} // namespace natrix::host_check
