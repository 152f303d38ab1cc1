#include "cli.hh"

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace natrix::keys_cli {

namespace {

struct command_name {
    command cmd;
    std::string_view name;
};

constexpr command_name commands[] = {{command::gen, "gen"},
                                     {command::pub, "pub"},
                                     {command::sign, "sign"},
                                     {command::verify, "verify"},
                                     {command::validate, "validate"}};

bool is_help(std::string_view a) {
    return a == "-h" || a == "--help" || a == "help";
}

// Splits "--name=value" so both spellings work.
std::pair<std::string_view, std::optional<std::string_view>> split_option(std::string_view a) {
    const auto eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string_view::npos) return {a, std::nullopt};
    return {a.substr(0, eq), a.substr(eq + 1)};
}

} // namespace

std::string usage_text() {
    return "usage: natrix-keys COMMAND ...\n"
           "\n"
           "NATS NKeys (Ed25519), compatible with nats-server and the nk tool.\n"
           "\n"
           "  gen TYPE [--json]                 new seed and public key; TYPE is user, account,\n"
           "                                    operator, server or cluster\n"
           "  pub (SEED | --seed-file F)        the public key of a seed\n"
           "  sign (SEED | --seed-file F) [--nonce TEXT | --file F | -]\n"
           "                                    base64url signature of the nonce's characters or\n"
           "                                    the bytes of F or of stdin (the default)\n"
           "  verify PUBLIC SIG [--nonce TEXT | --file F | -]\n"
           "                                    checks SIG (base64url, or padded standard base64,\n"
           "                                    as nats-server accepts) over the same input\n"
           "  validate KEY                      names the kind of key, or what is wrong with it\n"
           "\n"
           "A seed file holds the seed alone or is a .creds file. Seeds are secrets: prefer\n"
           "--seed-file to a seed on the command line, which other users can see in ps.\n"
           "\n"
           "Exit status: 0 done; 1 invalid key, failed verification or unreadable file;\n"
           "2 usage error.\n";
}

parse_result parse_args(int argc, const char* const* argv) {
    parse_result r;
    invocation& inv = r.inv;
    std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.empty()) {
        r.error = "no command given";
        return r;
    }
    if (is_help(args[0])) return r;

    bool known = false;
    for (const auto& c : commands)
        if (c.name == args[0]) {
            inv.cmd = c.cmd;
            known = true;
        }
    if (!known) {
        r.error = "unknown command '" + std::string(args[0]) + "'";
        return r;
    }
    const std::string_view name = args[0];

    std::vector<std::string_view> positional;
    bool have_input = false;
    auto set_input = [&](input kind, std::string_view arg) {
        if (have_input) {
            r.error = name == "sign" || name == "verify" ? "give only one of --nonce, --file and -"
                                                         : std::string(name) + " reads no input";
            return;
        }
        have_input = true;
        inv.source = kind;
        inv.source_arg = arg;
    };
    for (std::size_t i = 1; i < args.size() && r.error.empty(); ++i) {
        auto [opt, inline_value] = split_option(args[i]);
        auto value = [&, opt = opt,
                      inline_value = inline_value]() -> std::optional<std::string_view> {
            if (inline_value) return inline_value;
            if (i + 1 < args.size()) return args[++i];
            r.error = std::string(opt) + " needs a value";
            return std::nullopt;
        };
        const bool io_command = inv.cmd == command::sign || inv.cmd == command::verify;
        if (opt == "-h" || opt == "--help") {
            inv = invocation{}; // help, whatever came before
            return r;
        } else if (opt == "--json" && inv.cmd == command::gen && !inline_value) {
            inv.json = true;
        } else if (opt == "--seed-file" && (inv.cmd == command::pub || inv.cmd == command::sign)) {
            if (auto v = value()) inv.seed_file = *v;
        } else if (opt == "--nonce" && io_command) {
            if (auto v = value()) set_input(input::nonce, *v);
        } else if (opt == "--file" && io_command) {
            if (auto v = value()) set_input(input::file, *v);
        } else if (opt == "-" && io_command) {
            set_input(input::stdin_bytes, "");
        } else if (opt == "--" && !inline_value) {
            positional.insert(positional.end(), args.begin() + static_cast<long>(i) + 1,
                              args.end());
            break;
        } else if (inv.cmd == command::verify && positional.size() == 1) {
            // A base64url signature may start with '-' (even "--"): the
            // argument after the public key is the signature, verbatim.
            positional.push_back(args[i]);
        } else if (opt.size() > 1 && opt[0] == '-') {
            r.error = "unknown option '" + std::string(opt) + "' for " + std::string(name);
        } else {
            positional.push_back(args[i]);
        }
    }
    if (!r.error.empty()) return r;

    auto want = [&](std::size_t n, const char* what) {
        if (positional.size() < n)
            r.error = std::string(name) + ": missing " + what;
        else if (positional.size() > n)
            r.error =
                std::string(name) + ": unexpected argument '" + std::string(positional[n]) + "'";
        return r.error.empty();
    };
    switch (inv.cmd) {
    case command::gen:
        if (want(1, "key type (user, account, operator, server or cluster)"))
            inv.type = positional[0];
        break;
    case command::pub:
    case command::sign:
        if (!inv.seed_file.empty()) {
            want(0, "");
        } else if (want(1, "seed (or --seed-file F)")) {
            inv.seed = positional[0];
        }
        break;
    case command::verify:
        if (want(2, positional.empty() ? "public key and signature" : "signature")) {
            inv.key = positional[0];
            inv.sig = positional[1];
        }
        break;
    case command::validate:
        if (want(1, "key")) inv.key = positional[0];
        break;
    case command::help:
        break;
    }
    return r;
}

} // namespace natrix::keys_cli
