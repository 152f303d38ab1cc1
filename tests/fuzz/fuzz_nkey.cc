// NKey fuzz target. Any bytes, read as a key, a signature or a message, must
// decode or fail with a reason, never crash. What decodes re-encodes to the
// same text (keys are canonical) or the same bytes (signatures, where Go's
// leniency is kept); the branch-free base32 and CRC agree with plain table
// versions; a signature verifies exactly when every part matches.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/auth/nkey.hh>

using namespace natrix::auth::nkey;

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

void check(bool ok, const char* what) {
    if (!ok) fail(what);
}

// Reference CRC-16/XMODEM, as nkeys computes it (table-free but bit by bit
// with branches).
std::uint16_t crc_ref(std::string_view s) {
    std::uint16_t crc = 0;
    for (unsigned char b : s) {
        crc ^= static_cast<std::uint16_t>(b << 8);
        for (int i = 0; i < 8; ++i)
            crc = (crc & 0x8000) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                                 : static_cast<std::uint16_t>(crc << 1);
    }
    return crc;
}

std::string b32_ref(std::string_view s) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (unsigned char b : s) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out += alphabet[(acc >> bits) & 31];
        }
    }
    if (bits) out += alphabet[(acc << (5 - bits)) & 31];
    return out;
}

const keypair& fixed_pair() {
    static const keypair kp = [] {
        key_bytes seed{};
        for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(i * 3);
        return keypair::from_raw_seed(raw_seed(key_type::user, seed));
    }();
    return kp;
}

std::span<const std::uint8_t> bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    // Encodings against the references.
    check(crc16(bytes(text)) == crc_ref(text), "crc16 differs from the reference");
    const std::string enc = base32_encode(bytes(text));
    check(enc == b32_ref(text), "base32_encode differs from the reference");
    auto back = base32_decode(enc);
    check(back && back->size() == size && (size == 0 || std::memcmp(back->data(), data, size) == 0),
          "base32 round trip");
    if (auto d = base32_decode(text)) check(base32_encode(*d) == text, "base32 not canonical");
    const std::string url = base64url_encode(bytes(text));
    auto url_back = decode_signature(url);
    check(url_back && url_back->size() == size &&
              (size == 0 || std::memcmp(url_back->data(), data, size) == 0),
          "base64url round trip");

    // Public keys.
    auto pub = decode_public(text);
    if (pub.ok()) {
        check(text.size() == public_key_chars, "public key length");
        check(encode_public(pub.value->type, pub.value->key) == text, "public key re-encodes");
        check(decode_public(text, pub.value->type).ok(), "public key with its own type");
        const key_type other =
            pub.value->type == key_type::user ? key_type::account : key_type::user;
        check(!decode_public(text, other).ok(), "public key with another type");
    } else {
        check(!pub.error.empty(), "public key error says why");
    }

    // Seeds: canonical, re-encode exactly, and never quoted in errors.
    auto seed = decode_seed(text);
    if (seed.ok()) {
        check(text.size() == seed_chars, "seed length");
        check(encode_seed(seed.value->type, seed.value->bytes) == text, "seed re-encodes");
        const keypair kp = keypair::from_raw_seed(*seed.value);
        auto p = decode_public(kp.public_key(), seed.value->type);
        check(p.ok(), "a seed's public key decodes");
        check(kp.seed() == text, "keypair gives its seed back");
        check(!pub.ok(), "a string is not both a seed and a public key");
    } else {
        check(!seed.error.empty(), "seed error says why");
        // Errors are lower-case prose: a run of key characters would be a quote.
        const bool keyish =
            size >= 8 &&
            text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == std::string_view::npos;
        if (keyish) check(seed.error.find(text) == std::string::npos, "seed error quotes it");
    }

    // Signatures: Go's lenient decoding, so compare bytes, not text.
    auto sig = decode_signature(text);
    if (sig) {
        auto again = decode_signature(base64url_encode(*sig));
        check(again && *again == *sig, "signature bytes round trip");
        check(sig->size() <= size * 3 / 4 + 2, "signature longer than its text allows");
    }
    const keypair& kp = fixed_pair();
    const std::string& kp_pub = kp.public_key();
    // verify_nonce is decode + verify, whatever the text.
    const bool vn = verify_nonce(kp_pub, "nonce", text);
    check(vn == (sig && verify(kp_pub, bytes("nonce"), *sig)), "verify_nonce consistent");

    // The input as a message: its signature verifies, any change does not.
    const signature s = kp.sign(bytes(text));
    check(verify(kp_pub, bytes(text), s), "own signature verifies");
    check(verify_nonce(kp_pub, text, base64url_encode(s)), "own signature as text verifies");
    if (size > 0) {
        signature t = s;
        t[data[0] % signature_size] ^= static_cast<std::uint8_t>(1u << (data[size - 1] % 8));
        check(!verify(kp_pub, bytes(text), t), "altered signature verifies");
        std::string m(text);
        m[data[0] % size] ^= 1;
        check(!verify(kp_pub, bytes(m), s), "altered message verifies");
    }
    // The input as a public key and a signature at once: must not crash.
    (void)verify(text, bytes(text), bytes(text));
    return 0;
}
