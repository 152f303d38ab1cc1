#include <cstdlib>
#include <cstring>

#include <sodium.h>

#include <natrix/auth/nkey.hh>

namespace natrix::auth::nkey {

namespace {

constexpr std::uint8_t k_prefix_seed = 18 << 3;
constexpr std::size_t k_public_raw_size = 1 + key_size + 2;
constexpr std::size_t k_seed_raw_size = 2 + key_size + 2;

void ensure_sodium() {
    // sodium_init is idempotent and thread-safe; randombytes needs it.
    static const bool ready = sodium_init() >= 0;
    if (!ready) std::abort();
}

std::optional<key_type> type_of_prefix(std::uint8_t p) noexcept {
    for (key_type t : {key_type::user, key_type::account, key_type::operator_, key_type::server,
                       key_type::cluster})
        if (prefix_byte(t) == p) return t;
    return std::nullopt;
}

std::string_view article(key_type t) {
    return t == key_type::account || t == key_type::operator_ ? "an " : "a ";
}

// All ones when lo <= x <= hi, else zero; no branches (x is 0..255).
unsigned in_range(int x, int lo, int hi) noexcept {
    return ~static_cast<unsigned>(((x - lo) | (hi - x)) >> 31);
}

// Validates every character and decodes into out[0, text.size()*5/8).
// Returns false for a bad character or non-zero padding bits; the caller
// checks the length. No branch depends on the characters.
bool b32_decode_into(std::string_view text, std::uint8_t* out) noexcept {
    unsigned bad = 0;
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t n = 0;
    for (char ch : text) {
        const int c = static_cast<unsigned char>(ch);
        const unsigned upper = in_range(c, 'A', 'Z');
        const unsigned digit = in_range(c, '2', '7');
        const unsigned v = (upper & static_cast<unsigned>(c - 'A')) |
                           (digit & static_cast<unsigned>(c - '2' + 26));
        bad |= ~(upper | digit) & 1u;
        acc = (acc << 5) | (v & 31u);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = static_cast<std::uint8_t>(acc >> bits);
        }
    }
    bad |= acc & ((1u << bits) - 1u); // padding bits must be zero
    return bad == 0;
}

bool b32_length_ok(std::size_t chars) noexcept {
    const std::size_t r = chars % 8;
    return r != 1 && r != 3 && r != 6;
}

std::size_t first_bad_b32(std::string_view text) noexcept {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) return i;
    }
    return text.size();
}

// Constant-time: the CRC of a seed is as secret as the seed.
bool crc_matches(const std::uint8_t* raw, std::size_t size) noexcept {
    const std::uint16_t crc = crc16({raw, size - 2});
    const std::uint8_t want[2] = {static_cast<std::uint8_t>(crc & 0xff),
                                  static_cast<std::uint8_t>(crc >> 8)};
    return sodium_memcmp(want, raw + size - 2, 2) == 0;
}

void put_crc(std::uint8_t* raw, std::size_t size) noexcept {
    const std::uint16_t crc = crc16({raw, size - 2});
    raw[size - 2] = static_cast<std::uint8_t>(crc & 0xff);
    raw[size - 1] = static_cast<std::uint8_t>(crc >> 8);
}

// Shared by decode_public and decode_seed; allocates nothing so verify()
// can be noexcept.
enum class status {
    ok,
    empty,
    bad_char,
    bad_length,
    noncanonical,
    bad_crc,
    bad_prefix,
    wrong_type,
    seed_bad_prefix,
    seed_bad_type
};

status decode_public_raw(std::string_view key, std::optional<key_type> expected, key_type* type,
                         key_bytes* out) noexcept {
    if (key.empty()) return status::empty;
    if (first_bad_b32(key) < key.size()) return status::bad_char;
    if (key.size() != public_key_chars) return status::bad_length;
    std::uint8_t raw[k_public_raw_size];
    if (!b32_decode_into(key, raw)) return status::noncanonical; // unreachable at 56 chars
    if (!crc_matches(raw, sizeof raw)) return status::bad_crc;
    const auto t = type_of_prefix(raw[0]);
    if (!t) return status::bad_prefix;
    if (expected && *expected != *t) {
        *type = *t;
        return status::wrong_type;
    }
    *type = *t;
    std::memcpy(out->data(), raw + 1, key_size);
    return status::ok;
}

status decode_seed_raw(std::string_view seed, key_type* type, key_bytes* out) noexcept {
    if (seed.empty()) return status::empty;
    if (first_bad_b32(seed) < seed.size()) return status::bad_char;
    if (seed.size() != seed_chars) return status::bad_length;
    std::uint8_t raw[k_seed_raw_size];
    status s = status::ok;
    if (!b32_decode_into(seed, raw)) {
        s = status::noncanonical;
    } else if (!crc_matches(raw, sizeof raw)) {
        s = status::bad_crc;
    } else if ((raw[0] & 0xf8) != k_prefix_seed) {
        s = status::seed_bad_prefix;
    } else {
        const auto t = type_of_prefix(static_cast<std::uint8_t>((raw[0] & 7) << 5 | raw[1] >> 3));
        if (!t) {
            s = status::seed_bad_type;
        } else {
            *type = *t;
            std::memcpy(out->data(), raw + 2, key_size);
        }
    }
    sodium_memzero(raw, sizeof raw);
    return s;
}

std::string describe(status s, std::string_view key, std::optional<key_type> expected, key_type got,
                     bool want_seed) {
    switch (s) {
    case status::ok:
        return {};
    case status::empty:
        return "empty key";
    case status::bad_char:
        return "invalid base32 character at offset " + std::to_string(first_bad_b32(key));
    case status::bad_length: {
        // Name the likely mix-up instead of only the count.
        key_type t{};
        key_bytes scratch{};
        if (!want_seed && decode_seed_raw(key, &t, &scratch) == status::ok) {
            sodium_memzero(scratch.data(), scratch.size());
            return "this is a seed, not a public key";
        }
        if (want_seed && decode_public_raw(key, std::nullopt, &t, &scratch) == status::ok)
            return "this is a public key, not a seed";
        return "wrong length: " + std::to_string(key.size()) + " characters, " +
               (want_seed ? "a seed has 58" : "a public key has 56");
    }
    case status::noncanonical:
        return "non-canonical base32 (padding bits set)";
    case status::bad_crc:
        return "checksum mismatch";
    case status::bad_prefix: {
        // Only a public key's length gets here: its bytes are not secret.
        std::uint8_t raw[k_public_raw_size];
        b32_decode_into(key, raw);
        static constexpr char hex[] = "0123456789abcdef";
        return std::string("not a public key type (prefix byte 0x") + hex[raw[0] >> 4] +
               hex[raw[0] & 15] + ")";
    }
    case status::wrong_type:
        return "expected " + std::string(article(*expected)) + std::string(type_name(*expected)) +
               " key, got " + std::string(article(got)) + std::string(type_name(got)) + " key";
    case status::seed_bad_prefix:
        return "not a seed (the prefix is not 'S')";
    case status::seed_bad_type:
        return "seed of an unknown key type";
    }
    return "invalid key";
}

// Decodes RFC 4648 base64 the way Go's encoding/base64 does without Strict():
// CR and LF are skipped, padding bits ignored. `padded`: StdEncoding rules
// (length a multiple of 4, up to two trailing '='); else RawURLEncoding rules.
// Writes at most `cap` bytes; false when the input is invalid or too long.
bool b64_decode_into(std::string_view text, bool url, bool padded, std::uint8_t* out,
                     std::size_t cap, std::size_t* len) noexcept {
    const char c62 = url ? '-' : '+';
    const char c63 = url ? '_' : '/';
    std::size_t chars = 0, pads = 0;
    for (char c : text) {
        if (c == '\r' || c == '\n') continue;
        if (c == '=') {
            if (!padded) return false;
            ++pads;
            ++chars;
            continue;
        }
        if (pads) return false; // data after padding
        ++chars;
    }
    if (padded ? (chars % 4 != 0 || pads > 2) : chars % 4 == 1) return false;
    const std::size_t data_chars = chars - pads;
    if (data_chars * 6 / 8 > cap) return false;
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t n = 0;
    for (char c : text) {
        unsigned v;
        if (c >= 'A' && c <= 'Z')
            v = static_cast<unsigned>(c - 'A');
        else if (c >= 'a' && c <= 'z')
            v = static_cast<unsigned>(c - 'a' + 26);
        else if (c >= '0' && c <= '9')
            v = static_cast<unsigned>(c - '0' + 52);
        else if (c == c62)
            v = 62;
        else if (c == c63)
            v = 63;
        else if (c == '\r' || c == '\n' || c == '=')
            continue;
        else
            return false;
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = static_cast<std::uint8_t>(acc >> bits);
        }
    }
    *len = n;
    return true;
}

// nats-server: base64.RawURLEncoding, falling back to base64.StdEncoding.
bool signature_into(std::string_view text, std::uint8_t* out, std::size_t cap,
                    std::size_t* len) noexcept {
    return b64_decode_into(text, true, false, out, cap, len) ||
           b64_decode_into(text, false, true, out, cap, len);
}

} // namespace

std::uint8_t prefix_byte(key_type t) noexcept {
    switch (t) {
    case key_type::user:
        return 20 << 3;
    case key_type::account:
        return 0;
    case key_type::operator_:
        return 14 << 3;
    case key_type::server:
        return 13 << 3;
    case key_type::cluster:
        return 2 << 3;
    case key_type::seed:
        return k_prefix_seed;
    }
    return 0xff;
}

std::string_view type_name(key_type t) noexcept {
    switch (t) {
    case key_type::user:
        return "user";
    case key_type::account:
        return "account";
    case key_type::operator_:
        return "operator";
    case key_type::server:
        return "server";
    case key_type::cluster:
        return "cluster";
    case key_type::seed:
        return "seed";
    }
    return "unknown";
}

std::optional<key_type> public_type_from_name(std::string_view name) noexcept {
    for (key_type t : {key_type::user, key_type::account, key_type::operator_, key_type::server,
                       key_type::cluster})
        if (type_name(t) == name) return t;
    return std::nullopt;
}

bool is_public_type(key_type t) noexcept {
    switch (t) {
    case key_type::user:
    case key_type::account:
    case key_type::operator_:
    case key_type::server:
    case key_type::cluster:
        return true;
    case key_type::seed:
        break;
    }
    return false;
}

std::uint16_t crc16(std::span<const std::uint8_t> data) noexcept {
    std::uint32_t crc = 0;
    for (std::uint8_t b : data) {
        crc ^= static_cast<std::uint32_t>(b) << 8;
        for (int i = 0; i < 8; ++i) crc = ((crc << 1) ^ (0x1021u & (0u - (crc >> 15)))) & 0xffff;
    }
    return static_cast<std::uint16_t>(crc);
}

std::string base32_encode(std::span<const std::uint8_t> data) {
    std::string out;
    out.reserve((data.size() * 8 + 4) / 5); // exact: no reallocation leaves copies of a seed
    std::uint32_t acc = 0;
    int bits = 0;
    auto put = [&out](unsigned v) {
        // 'A'+v, or '2'+(v-26) from v = 26 on, without a table lookup.
        const int iv = static_cast<int>(v);
        out.push_back(static_cast<char>('A' + iv + (((25 - iv) >> 31) & ('2' - 26 - 'A'))));
    };
    for (std::uint8_t b : data) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            put((acc >> bits) & 31u);
        }
    }
    if (bits > 0) put((acc << (5 - bits)) & 31u);
    return out;
}

std::optional<std::vector<std::uint8_t>> base32_decode(std::string_view text) {
    if (!b32_length_ok(text.size())) return std::nullopt;
    std::vector<std::uint8_t> out(text.size() * 5 / 8);
    if (!b32_decode_into(text, out.data())) return std::nullopt;
    return out;
}

std::string base64url_encode(std::span<const std::uint8_t> data) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((data.size() * 8 + 5) / 6);
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::uint8_t b : data) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(alphabet[(acc >> bits) & 63u]);
        }
    }
    if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 63u]);
    return out;
}

std::optional<std::vector<std::uint8_t>> decode_signature(std::string_view text) {
    std::vector<std::uint8_t> out(text.size() * 6 / 8 + 1);
    std::size_t n = 0;
    if (!signature_into(text, out.data(), out.size(), &n)) return std::nullopt;
    out.resize(n);
    return out;
}

raw_seed::~raw_seed() {
    sodium_memzero(bytes.data(), bytes.size());
}

decoded<public_key> decode_public(std::string_view key, std::optional<key_type> expected) {
    decoded<public_key> r;
    public_key pk;
    const status s = decode_public_raw(key, expected, &pk.type, &pk.key);
    if (s == status::ok)
        r.value = pk;
    else
        r.error = describe(s, key, expected, pk.type, false);
    return r;
}

decoded<raw_seed> decode_seed(std::string_view seed) {
    decoded<raw_seed> r;
    r.value.emplace();
    const status s = decode_seed_raw(seed, &r.value->type, &r.value->bytes);
    if (s != status::ok) {
        r.value.reset();
        r.error = describe(s, seed, std::nullopt, key_type::seed, true);
    }
    return r;
}

std::string encode_public(key_type type, const key_bytes& key) {
    if (!is_public_type(type)) return {};
    std::uint8_t raw[k_public_raw_size];
    raw[0] = prefix_byte(type);
    std::memcpy(raw + 1, key.data(), key_size);
    put_crc(raw, sizeof raw);
    return base32_encode(raw);
}

std::string encode_seed(key_type type, const key_bytes& seed) {
    if (!is_public_type(type)) return {};
    const std::uint8_t p = prefix_byte(type);
    std::uint8_t raw[k_seed_raw_size];
    raw[0] = static_cast<std::uint8_t>(k_prefix_seed | p >> 5);
    raw[1] = static_cast<std::uint8_t>((p & 31) << 3);
    std::memcpy(raw + 2, seed.data(), key_size);
    put_crc(raw, sizeof raw);
    std::string out = base32_encode(raw);
    sodium_memzero(raw, sizeof raw);
    return out;
}

keypair::~keypair() {
    sodium_memzero(secret_.data(), secret_.size());
}

keypair keypair::from_raw_seed(const raw_seed& seed) {
    keypair kp;
    kp.type_ = seed.type;
    key_bytes pk;
    crypto_sign_seed_keypair(pk.data(), kp.secret_.data(), seed.bytes.data());
    kp.public_ = encode_public(seed.type, pk);
    return kp;
}

decoded<keypair> keypair::from_seed(std::string_view seed) {
    decoded<keypair> r;
    decoded<raw_seed> s = decode_seed(seed);
    if (s.ok())
        r.value = from_raw_seed(*s.value);
    else
        r.error = std::move(s.error);
    return r;
}

keypair keypair::generate(key_type type) {
    if (!is_public_type(type)) std::abort(); // a programming error, not input
    ensure_sodium();
    raw_seed s;
    s.type = type;
    randombytes_buf(s.bytes.data(), s.bytes.size());
    return from_raw_seed(s);
}

std::string keypair::seed() const {
    key_bytes raw;
    std::memcpy(raw.data(), secret_.data(), key_size); // libsodium keeps the seed first
    std::string out = encode_seed(type_, raw);
    sodium_memzero(raw.data(), raw.size());
    return out;
}

signature keypair::sign(std::span<const std::uint8_t> message) const noexcept {
    signature sig{};
    crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
    return sig;
}

bool keypair::verify(std::span<const std::uint8_t> message,
                     std::span<const std::uint8_t> sig) const noexcept {
    return sig.size() == signature_size &&
           crypto_sign_verify_detached(sig.data(), message.data(), message.size(),
                                       secret_.data() + key_size) == 0;
}

bool verify(std::string_view public_key, std::span<const std::uint8_t> message,
            std::span<const std::uint8_t> sig) noexcept {
    key_type t{};
    key_bytes pk;
    if (decode_public_raw(public_key, std::nullopt, &t, &pk) != status::ok) return false;
    return sig.size() == signature_size &&
           crypto_sign_verify_detached(sig.data(), message.data(), message.size(), pk.data()) == 0;
}

bool verify_nonce(std::string_view public_key, std::string_view nonce,
                  std::string_view sig) noexcept {
    std::uint8_t raw[signature_size];
    std::size_t n = 0;
    if (!signature_into(sig, raw, sizeof raw, &n) || n != signature_size) return false;
    return verify(public_key, {reinterpret_cast<const std::uint8_t*>(nonce.data()), nonce.size()},
                  {raw, n});
}

std::string generate_nonce() {
    ensure_sodium();
    std::uint8_t raw[nonce_raw_size];
    randombytes_buf(raw, sizeof raw);
    return base64url_encode(raw);
}

void wipe(std::string& secret) noexcept {
    if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
    secret.clear();
}

namespace {

std::string_view trim(std::string_view s) noexcept {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

} // namespace

std::string_view seed_in_text(std::string_view text) noexcept {
    const std::string_view all = trim(text);
    if (all.find('\n') == std::string_view::npos) return all;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const std::string_view line = trim(text.substr(0, nl));
        if (line.size() == seed_chars && line[0] == 'S') return line;
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    }
    return {};
}

} // namespace natrix::auth::nkey
