#pragma once
// NATS NKeys, as github.com/nats-io/nkeys 0.3 writes them: an Ed25519 public
// key or seed framed as base32(prefix || bytes || crc16) with the standard
// RFC 4648 alphabet and no padding; the CRC is CRC-16/XMODEM (poly 0x1021,
// init 0) stored little-endian. A public key is 56 characters: one prefix
// byte names its type (U user, A account, O operator, N server, C cluster).
// A seed is 58 characters: the seed prefix (S) and the public type share its
// first two bytes, so a user seed starts "SU".
//
// Where Go's decoder is lax we are strict; every string an encoder produces is
// accepted, and what we accept nkeys accepts too. We refuse: newlines inside a
// key, non-zero padding bits in a seed's last character, a key of any other
// length (Go 1.19 drops a dangling 1, 3 or 6 character tail), and a public
// key whose payload is not 32 bytes (nats-server would panic in Verify).
//
// Ed25519 is libsodium's, which refuses small-order and non-canonical public
// keys and R values that Go's crypto/ed25519 lets through: no honest key or
// signature is affected.
//
// Everything here is stateless and callable from any thread; nothing throws
// except std::bad_alloc.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace natrix::auth::nkey {

// The public types, then `seed`, which only classifies a key string.
enum class key_type : std::uint8_t { user, account, operator_, server, cluster, seed };

inline constexpr std::size_t key_size = 32;       // Ed25519 public key, and seed
inline constexpr std::size_t signature_size = 64; // Ed25519 signature
inline constexpr std::size_t public_key_chars = 56;
inline constexpr std::size_t seed_chars = 58;
inline constexpr std::size_t nonce_raw_size = 11; // nats-server's nonceRawLen
inline constexpr std::size_t nonce_chars = 15;    // base64url of 11 bytes, no padding

using key_bytes = std::array<std::uint8_t, key_size>;
using signature = std::array<std::uint8_t, signature_size>;

// The prefix byte (its top five bits are the first base32 character).
std::uint8_t prefix_byte(key_type t) noexcept;
// "user", "account", "operator", "server", "cluster", "seed".
std::string_view type_name(key_type t) noexcept;
// The inverse of type_name for the public types; nullopt otherwise.
std::optional<key_type> public_type_from_name(std::string_view name) noexcept;
bool is_public_type(key_type t) noexcept;

// --- the encodings, exposed for tests and tools ---

// CRC-16/XMODEM, computed without tables so a seed's bytes leave no cache trace.
std::uint16_t crc16(std::span<const std::uint8_t> data) noexcept;
// RFC 4648 base32, standard alphabet, no padding.
std::string base32_encode(std::span<const std::uint8_t> data);
// The inverse, canonical only: upper-case alphabet, a length that an encoder
// can produce (not 1, 3 or 6 mod 8) and zero padding bits; nullopt otherwise.
// Branch-free over the characters (seeds pass through here).
std::optional<std::vector<std::uint8_t>> base32_decode(std::string_view text);
// RFC 4648 base64url without padding (signatures, nonces).
std::string base64url_encode(std::span<const std::uint8_t> data);
// A signature as nats-server reads CONNECT's `sig`: base64url without padding,
// else standard base64 with padding. Like Go's decoders, CR and LF are skipped
// and padding bits are ignored. nullopt when neither decodes.
std::optional<std::vector<std::uint8_t>> decode_signature(std::string_view text);

// --- keys ---

// A value, or why there is none. `error` is a sentence fragment suitable for
// "invalid key: <error>"; it never repeats the key (it may be a secret).
template <class T>
struct decoded {
    std::optional<T> value;
    std::string error;
    bool ok() const noexcept { return value.has_value(); }
};

struct public_key {
    key_type type = key_type::user;
    key_bytes key{};
};

// A decoded seed: the public type it makes and the raw Ed25519 seed, wiped
// when destroyed.
struct raw_seed {
    key_type type = key_type::user;
    key_bytes bytes{};

    raw_seed() = default;
    raw_seed(key_type t, const key_bytes& b) noexcept
        : type(t)
        , bytes(b) {}
    raw_seed(const raw_seed&) = default;
    raw_seed& operator=(const raw_seed&) = default;
    ~raw_seed();
};

// Decodes a public key. With `expected`, the key must be of that type;
// without, any public type is accepted (nkeys.FromPublicKey).
decoded<public_key> decode_public(std::string_view key,
                                  std::optional<key_type> expected = std::nullopt);
// Decodes a seed (nkeys.DecodeSeed), checking that it names a public type.
decoded<raw_seed> decode_seed(std::string_view seed);

// The string forms; "" when `type` is not a public type.
std::string encode_public(key_type type, const key_bytes& key);
std::string encode_seed(key_type type, const key_bytes& seed);

// An Ed25519 key pair made from a seed. The secret half is wiped when
// destroyed; copies are independent and wiped too.
class keypair {
public:
    // From an encoded seed ("SU...").
    static decoded<keypair> from_seed(std::string_view seed);
    static keypair from_raw_seed(const raw_seed& seed);
    // A fresh pair from libsodium's CSPRNG. `type` must be a public type.
    static keypair generate(key_type type);

    keypair(const keypair&) = default;
    keypair& operator=(const keypair&) = default;
    ~keypair();

    key_type type() const noexcept { return type_; }
    // The encoded public key ("U...").
    const std::string& public_key() const noexcept { return public_; }
    // The encoded seed: a secret; wipe the copy when done (nkey::wipe).
    std::string seed() const;

    signature sign(std::span<const std::uint8_t> message) const noexcept;
    bool verify(std::span<const std::uint8_t> message,
                std::span<const std::uint8_t> sig) const noexcept;

private:
    keypair() = default;
    key_type type_ = key_type::user;
    std::array<std::uint8_t, 64> secret_{}; // libsodium's: seed || public key
    std::string public_;
};

// Verifies an Ed25519 signature with an encoded public key of any type.
// False for a malformed key or a signature that is not 64 bytes.
bool verify(std::string_view public_key, std::span<const std::uint8_t> message,
            std::span<const std::uint8_t> sig) noexcept;

// nats-server's CONNECT check for an nkey user: `sig` (base64url, or padded
// standard base64) must be the key's signature of the nonce's ASCII bytes.
bool verify_nonce(std::string_view public_key, std::string_view nonce,
                  std::string_view sig) noexcept;

// A fresh nonce for INFO: 11 random bytes as 15 base64url characters.
std::string generate_nonce();

// The seed in a seed file's text: the whole (trimmed) content, or in a
// .creds file the first line that looks like a seed; empty when none.
// The view points into `text`.
std::string_view seed_in_text(std::string_view text) noexcept;

// Overwrites a string holding a secret before it is freed.
void wipe(std::string& secret) noexcept;

} // namespace natrix::auth::nkey
