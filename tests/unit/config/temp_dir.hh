#pragma once
// A scratch directory for config files, removed with everything in it.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace natrix::config::test {

class temp_dir {
public:
    temp_dir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "natrix-config-XXXXXX").string();
        char* p = ::mkdtemp(tmpl.data());
        path_ = p ? p : "";
    }
    ~temp_dir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::string& path() const { return path_; }

    // Writes `text` to `name` (relative to the directory, parents created);
    // returns the full path.
    std::string write(const std::string& name, const std::string& text) const {
        std::filesystem::path full = std::filesystem::path(path_) / name;
        std::filesystem::create_directories(full.parent_path());
        std::ofstream(full, std::ios::binary) << text;
        return full.string();
    }

private:
    std::string path_;
};

} // namespace natrix::config::test
