// natrix entry point. Until the engine lands this binary only validates that
// its configuration file can be read, then exits; see README's status table.
#include <natrix/util/log.hh>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace {
constexpr const char* k_usage = "usage: natrix [-c FILE] [--help] [--version]\n";
}

int main(int argc, char** argv) {
    std::string config_path;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::fputs(k_usage, stdout);
            return 0;
        }
        if (a == "-v" || a == "--version") {
            std::puts("natrix version 0.1.0");
            return 0;
        }
        if ((a == "-c" || a == "--config") && i + 1 < argc) {
            config_path = argv[++i];
            continue;
        }
        std::fprintf(stderr, "natrix: unknown argument '%s'\n%s", a.c_str(), k_usage);
        return 2;
    }
    if (!config_path.empty()) {
        std::ifstream in(config_path);
        if (!in) {
            std::fprintf(stderr, "natrix: cannot read config file '%s': %s\n", config_path.c_str(),
                         std::strerror(errno));
            return 1;
        }
    }
    LOG_INF("natrix 0.1.0: configuration '%s' read; the broker engine is not built yet, exiting",
            config_path.empty() ? "(built-in)" : config_path.c_str());
    return 0;
}
