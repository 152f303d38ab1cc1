#pragma once
// A fake machine for the host checks: a scratch directory standing in for
// "/", where a test writes only the /proc and /sys files it is about.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <natrix/host_check/host_files.hh>

namespace natrix::host_check::test {

class fake_host {
public:
    fake_host() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "natrix-host-XXXXXX").string();
        char* p = ::mkdtemp(tmpl.data());
        root_ = p ? p : "";
    }
    ~fake_host() {
        std::error_code ec;
        if (!root_.empty()) std::filesystem::remove_all(root_, ec);
    }
    fake_host(const fake_host&) = delete;
    fake_host& operator=(const fake_host&) = delete;

    // Writes `text` at the absolute host path `path` ("/proc/swaps").
    fake_host& write(const std::string& path, const std::string& text) {
        std::filesystem::path full = root_ + path;
        std::filesystem::create_directories(full.parent_path());
        std::ofstream(full, std::ios::binary) << text;
        return *this;
    }
    fake_host& mkdir(const std::string& path) {
        std::filesystem::create_directories(root_ + path);
        return *this;
    }

    const std::string& root() const { return root_; }
    host_files files() const { return host_files(root_); }

private:
    std::string root_;
};

} // namespace natrix::host_check::test
