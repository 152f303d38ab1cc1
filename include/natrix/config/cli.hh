#pragma once
// Command line, parsed the way nats-server's Go `flag` package does it:
// `-flag`, `--flag`, `-flag=value`, `--flag value`; boolean flags take no
// separate value (`-D=false` works, `-D false` does not); parsing stops at
// the first non-flag argument or `--`; a leftover `help` or `version`
// argument acts like the flag. Flags override the config file; with no -c,
// the built-in default config is used. Nothing here prints or exits: the
// caller (src/app) decides. Called once from main, on the main thread.
#include <string>
#include <vector>

#include <natrix/config/server_options.hh>

namespace natrix::config {

enum class cli_action {
    run,         // start the server with `options`
    test_config, // -t: the config is valid (or `error` says why); exit
    help,        // -h/--help/help: print usage_text(); exit 0
    version,     // -v/--version/version: print the version; exit 0
    check_host,  // --check-host: check the machine against the config; exit
};

struct load_result {
    server_options options;
    std::vector<config_warning> warnings; // unsupported keys/flags etc.: log them
    cli_action action = cli_action::run;
    // Empty on success. Otherwise a usage error ("flag provided but not
    // defined: -x") or the config errors, one per line, "file:line:col: msg".
    std::string error;
    bool usage_error = false; // error is about the command line: show usage_text()
    bool json = false;        // --json: check_host prints JSON
    bool ok() const noexcept { return error.empty(); }
};

// argv[0] is the program name and is skipped.
load_result load_server_options(int argc, char** argv);
// Arguments without the program name.
load_result load_server_options(const std::vector<std::string>& args);

std::string usage_text();

} // namespace natrix::config
