// natrix-keys: make, inspect, sign with and verify NATS NKeys. See usage_text().
#include <cstdio>

#include "cli.hh"

int main(int argc, char** argv) {
    using namespace natrix::keys_cli;
    const parse_result parsed = parse_args(argc, argv);
    if (!parsed.ok()) {
        std::fprintf(stderr, "natrix-keys: %s\n\n%s", parsed.error.c_str(), usage_text().c_str());
        return 2;
    }
    const int rc = run(parsed.inv, stdin, stdout, stderr);
    if (std::fflush(stdout) != 0) return 1;
    return rc;
}
