#pragma once
// natrix-keys: command-line parsing and the commands themselves, kept out of
// main() so that the binary stays a thin shell around them.
#include <cstdio>
#include <string>

namespace natrix::keys_cli {

enum class command { help, gen, pub, sign, verify, validate };

// Where sign and verify read the signed bytes from.
enum class input { stdin_bytes, nonce, file };

struct invocation {
    command cmd = command::help;
    std::string type;      // gen: user | account | operator | server | cluster
    bool json = false;     // gen --json
    std::string seed;      // pub, sign: the seed itself
    std::string seed_file; // pub, sign: --seed-file
    std::string key;       // verify: public key; validate: any key
    std::string sig;       // verify
    input source = input::stdin_bytes;
    std::string source_arg; // --nonce text or --file path
};

struct parse_result {
    invocation inv;
    std::string error; // a usage error: print it with the usage, exit 2
    bool ok() const noexcept { return error.empty(); }
};

// argv[0] is the program name.
parse_result parse_args(int argc, const char* const* argv);
std::string usage_text();

// Runs a parsed command; returns the exit status: 0 done, 1 invalid key,
// failed verification or unreadable input.
int run(const invocation& inv, std::FILE* in, std::FILE* out, std::FILE* err);

} // namespace natrix::keys_cli
