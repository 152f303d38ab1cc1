#include <cerrno>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

#include <sodium.h>

#include <natrix/auth/nkey.hh>

#include "cli.hh"

namespace natrix::keys_cli {

namespace nk = natrix::auth::nkey;

namespace {

// Reads a whole stream; false on a read error.
bool read_all(std::FILE* f, std::string& out) {
    char buf[1 << 16];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    const bool ok = !std::ferror(f);
    sodium_memzero(buf, sizeof buf); // may have held a seed
    return ok;
}

bool read_file(const std::string& path, std::string& out, std::string& why) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        why = std::strerror(errno);
        return false;
    }
    std::setvbuf(f, nullptr, _IONBF, 0); // no stdio buffer left holding a seed
    const bool ok = read_all(f, out);
    if (!ok) why = std::strerror(errno);
    std::fclose(f);
    return ok;
}

// Wipes the string it owns when destroyed: seeds and seed files.
struct secret {
    std::string text;
    ~secret() { nk::wipe(text); }
};

std::optional<nk::keypair> load_keypair(const invocation& inv, std::FILE* err) {
    secret file;
    std::string_view seed = inv.seed;
    if (!inv.seed_file.empty()) {
        std::string why;
        if (!read_file(inv.seed_file, file.text, why)) {
            std::fprintf(err, "natrix-keys: cannot read %s: %s\n", inv.seed_file.c_str(),
                         why.c_str());
            return std::nullopt;
        }
        seed = natrix::auth::nkey::seed_in_text(file.text);
        if (seed.empty()) {
            std::fprintf(err, "natrix-keys: no seed found in %s\n", inv.seed_file.c_str());
            return std::nullopt;
        }
    }
    auto kp = nk::keypair::from_seed(seed);
    if (!kp.ok()) {
        std::fprintf(err, "natrix-keys: invalid seed: %s\n", kp.error.c_str());
        return std::nullopt;
    }
    return kp.value;
}

// The bytes sign and verify work on.
bool load_message(const invocation& inv, std::FILE* in, std::string& msg, std::FILE* err) {
    switch (inv.source) {
    case input::nonce:
        msg = inv.source_arg;
        return true;
    case input::file: {
        std::string why;
        if (read_file(inv.source_arg, msg, why)) return true;
        std::fprintf(err, "natrix-keys: cannot read %s: %s\n", inv.source_arg.c_str(), why.c_str());
        return false;
    }
    case input::stdin_bytes:
        if (read_all(in, msg)) return true;
        std::fprintf(err, "natrix-keys: cannot read stdin: %s\n", std::strerror(errno));
        return false;
    }
    return false;
}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

int gen(const invocation& inv, std::FILE* out, std::FILE* err) {
    const auto type = nk::public_type_from_name(inv.type);
    if (!type) {
        std::fprintf(err,
                     "natrix-keys: unknown key type '%s' (user, account, operator, server, "
                     "cluster)\n",
                     inv.type.c_str());
        return 2;
    }
    const nk::keypair kp = nk::keypair::generate(*type);
    secret seed{kp.seed()};
    if (inv.json)
        std::fprintf(out, "{\"type\":\"%s\",\"seed\":\"%s\",\"public\":\"%s\"}\n", inv.type.c_str(),
                     seed.text.c_str(), kp.public_key().c_str());
    else
        std::fprintf(out, "seed: %s\npublic: %s\n", seed.text.c_str(), kp.public_key().c_str());
    return 0;
}

int pub(const invocation& inv, std::FILE* out, std::FILE* err) {
    const auto kp = load_keypair(inv, err);
    if (!kp) return 1;
    std::fprintf(out, "%s\n", kp->public_key().c_str());
    return 0;
}

int sign(const invocation& inv, std::FILE* in, std::FILE* out, std::FILE* err) {
    const auto kp = load_keypair(inv, err);
    if (!kp) return 1;
    std::string msg;
    if (!load_message(inv, in, msg, err)) return 1;
    std::fprintf(out, "%s\n", nk::base64url_encode(kp->sign(bytes_of(msg))).c_str());
    return 0;
}

int verify(const invocation& inv, std::FILE* in, std::FILE* out, std::FILE* err) {
    const auto pk = nk::decode_public(inv.key);
    if (!pk.ok()) {
        std::fprintf(err, "natrix-keys: invalid public key: %s\n", pk.error.c_str());
        return 1;
    }
    const auto sig = nk::decode_signature(inv.sig);
    if (!sig) {
        std::fprintf(err, "natrix-keys: invalid signature: not base64url or padded base64\n");
        return 1;
    }
    if (sig->size() != nk::signature_size) {
        std::fprintf(err,
                     "natrix-keys: invalid signature: %zu bytes, an Ed25519 signature has 64\n",
                     sig->size());
        return 1;
    }
    std::string msg;
    if (!load_message(inv, in, msg, err)) return 1;
    if (!nk::verify(inv.key, bytes_of(msg), *sig)) {
        std::fprintf(out, "invalid signature\n");
        return 1;
    }
    std::fprintf(out, "valid\n");
    return 0;
}

int validate(const invocation& inv, std::FILE* out, std::FILE* err) {
    const auto pk = nk::decode_public(inv.key);
    if (pk.ok()) {
        std::fprintf(out, "public %s key\n", std::string(nk::type_name(pk.value->type)).c_str());
        return 0;
    }
    const auto kp = nk::keypair::from_seed(inv.key);
    if (kp.ok()) {
        std::fprintf(out, "%s seed (public key %s)\n",
                     std::string(nk::type_name(kp.value->type())).c_str(),
                     kp.value->public_key().c_str());
        return 0;
    }
    // Report the error of what it most looks like.
    const bool seed_like =
        inv.key.size() != nk::public_key_chars && !inv.key.empty() && inv.key[0] == 'S';
    std::fprintf(err, "natrix-keys: invalid key: %s\n",
                 seed_like ? kp.error.c_str() : pk.error.c_str());
    return 1;
}

} // namespace

int run(const invocation& inv, std::FILE* in, std::FILE* out, std::FILE* err) {
    switch (inv.cmd) {
    case command::help:
        std::fputs(usage_text().c_str(), out);
        return 0;
    case command::gen:
        return gen(inv, out, err);
    case command::pub:
        return pub(inv, out, err);
    case command::sign:
        return sign(inv, in, out, err);
    case command::verify:
        return verify(inv, in, out, err);
    case command::validate:
        return validate(inv, out, err);
    }
    return 2;
}

} // namespace natrix::keys_cli
