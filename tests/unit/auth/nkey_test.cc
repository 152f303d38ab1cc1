#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <natrix/auth/nkey.hh>

namespace {

using namespace natrix::auth::nkey;

std::vector<std::uint8_t> bytes(std::string_view s) {
    return {s.begin(), s.end()};
}

std::span<const std::uint8_t> view(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

key_bytes counting_seed() {
    key_bytes b;
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i);
    return b;
}

// Made by github.com/nats-io/nkeys 0.3.0 (Go): FromRawSeed(prefix, bytes 0..31),
// then Seed(), PublicKey() and Sign("natrix") as base64.RawURLEncoding.
struct go_vector {
    key_type type;
    const char* seed;
    const char* pub;
};
constexpr go_vector go_vectors[] = {
    {key_type::user, "SUAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H776Y",
     "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLKK"},
    {key_type::account, "SAAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4HYMHI",
     "AAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3QPZV"},
    {key_type::operator_, "SOAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H2AJA",
     "OAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3QZVT"},
    {key_type::server, "SNAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H2D5U",
     "NAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RSWB"},
    {key_type::cluster, "SCAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4HYO7Q",
     "CAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3R53J"},
};
constexpr const char* go_sig_natrix =
    "ZNR-OG7t1wgTU_0Uz71xZq9KI28cXnWh0g9GxdpQOYpYKbMG7q259bIuH2zK_uBNklTIlu97dRcsPoJenrtsDQ";

const std::string user_seed = go_vectors[0].seed;
const std::string user_pub = go_vectors[0].pub;
const std::string account_pub = go_vectors[1].pub;

constexpr key_type public_types[] = {key_type::user, key_type::account, key_type::operator_,
                                     key_type::server, key_type::cluster};

TEST(nkey, crc16_is_xmodem) {
    EXPECT_EQ(crc16(view("123456789")), 0x31c3); // the CRC catalogue's check value
    EXPECT_EQ(crc16(view("")), 0);
}

TEST(nkey, base32_rfc4648_vectors) {
    const std::pair<const char*, const char*> v[] = {{"", ""},
                                                     {"f", "MY"},
                                                     {"fo", "MZXQ"},
                                                     {"foo", "MZXW6"},
                                                     {"foob", "MZXW6YQ"},
                                                     {"fooba", "MZXW6YTB"},
                                                     {"foobar", "MZXW6YTBOI"}};
    for (auto [plain, enc] : v) {
        EXPECT_EQ(base32_encode(view(plain)), enc);
        auto d = base32_decode(enc);
        ASSERT_TRUE(d) << enc;
        EXPECT_EQ(*d, bytes(plain));
    }
}

TEST(nkey, base32_decode_is_canonical_only) {
    EXPECT_FALSE(base32_decode("MZ"));      // padding bit set ("f" is MY)
    EXPECT_FALSE(base32_decode("mzxw6"));   // lower case
    EXPECT_FALSE(base32_decode("MZXW6="));  // padding
    EXPECT_FALSE(base32_decode("MZXW\n6")); // newline
    EXPECT_FALSE(base32_decode("MZXW1"));   // not in the alphabet
    EXPECT_FALSE(base32_decode("A"));       // lengths no encoder makes
    EXPECT_FALSE(base32_decode("AAA"));
    EXPECT_FALSE(base32_decode("AAAAAA"));
    EXPECT_TRUE(base32_decode("AAAAAAA"));
}

TEST(nkey, base64url_encoding) {
    EXPECT_EQ(base64url_encode(view("")), "");
    EXPECT_EQ(base64url_encode(view("f")), "Zg");
    EXPECT_EQ(base64url_encode(view("fo")), "Zm8");
    EXPECT_EQ(base64url_encode(view("foobar")), "Zm9vYmFy");
    const std::uint8_t hi[] = {0xfb, 0xff};
    EXPECT_EQ(base64url_encode(hi), "-_8");
}

TEST(nkey, signature_text_decodes_as_nats_server_does) {
    using v = std::vector<std::uint8_t>;
    EXPECT_EQ(decode_signature("-_8"), v({0xfb, 0xff}));  // RawURLEncoding
    EXPECT_EQ(decode_signature("+/8="), v({0xfb, 0xff})); // StdEncoding fallback
    EXPECT_EQ(decode_signature("QQ"), v({'A'}));
    EXPECT_EQ(decode_signature("QR"), v({'A'})); // padding bits ignored, as Go
    EXPECT_EQ(decode_signature("QQ=="), v({'A'}));
    EXPECT_EQ(decode_signature("QQ\r\n=="), v({'A'})); // Go skips CR and LF
    EXPECT_EQ(decode_signature(""), v());
    EXPECT_FALSE(decode_signature("+/8"));  // standard alphabet needs padding
    EXPECT_FALSE(decode_signature("-_8=")); // URL alphabet takes no padding
    EXPECT_FALSE(decode_signature("QQ="));
    EXPECT_FALSE(decode_signature("Q"));
    EXPECT_FALSE(decode_signature("Q==="));
    EXPECT_FALSE(decode_signature("QQ==QQ=="));
    EXPECT_FALSE(decode_signature("QQ Q"));
}

TEST(nkey, go_vectors_match) {
    for (const auto& g : go_vectors) {
        SCOPED_TRACE(g.seed);
        EXPECT_EQ(encode_seed(g.type, counting_seed()), g.seed);
        auto s = decode_seed(g.seed);
        ASSERT_TRUE(s.ok()) << s.error;
        EXPECT_EQ(s.value->type, g.type);
        EXPECT_EQ(s.value->bytes, counting_seed());

        auto kp = keypair::from_seed(g.seed);
        ASSERT_TRUE(kp.ok()) << kp.error;
        EXPECT_EQ(kp.value->public_key(), g.pub);
        EXPECT_EQ(kp.value->type(), g.type);
        EXPECT_EQ(kp.value->seed(), g.seed);
        // Ed25519 is deterministic: the same bytes as Go's.
        EXPECT_EQ(base64url_encode(kp.value->sign(view("natrix"))), go_sig_natrix);
        EXPECT_TRUE(verify_nonce(g.pub, "natrix", go_sig_natrix));

        auto p = decode_public(g.pub, g.type);
        ASSERT_TRUE(p.ok()) << p.error;
        EXPECT_EQ(p.value->type, g.type);
        EXPECT_EQ(encode_public(p.value->type, p.value->key), g.pub);
        EXPECT_EQ(g.pub[0], base32_encode(std::vector<std::uint8_t>{prefix_byte(g.type)})[0]);
    }
}

// Seed and public key pairs stated in the NATS projects' own tests: a .creds
// file and the `sub`/`iss` of JWTs signed with these seeds.
TEST(nkey, nats_test_keys_match) {
    const std::pair<const char*, const char*> pairs[] = {
        // nkeys creds_utils_test.go: credsSeed and its JWT's sub
        {"SUAOTBNEUHZDFJT3EUMELT7MQTP24JF3XVCXQNDSCU74G5IU6VAJBKH5LI",
         "UDE6WTGLTTPCRJRJCKBJRGVNZTLIVR7LEEELR4CYWWWBKJS7XYIKXDUU"},
        // nats.go nats_test.go: oSeed/aSeed/uSeed and the iss/sub of aJWT, uJWT
        {"SOAL7GTNI66CTVVNXBNQMG6V2HTDRWC3HGEP7D2OUTWNWSNYZDXWFOX4SU",
         "OD2W2I4MVRA5TGZLZ2AG6ZHGVL3OTKFWQJFIX4TNBER23E6P46S345YY"},
        {"SAAASUPRY3ONU4GJR7J5RUVYRUFZXG56F4WEXELLLORQ65AEPSMIFTOJGE",
         "AAPQJQUPKVXGW5CZH5G2HFJULYSKDELAZRVWJA26VDZO7WSBUNIYRFNQ"},
        {"SUAMK2FG4MI6UE3ACF3FK3OIQBCEIEZV7NSWFFEW63UXMRLFM2XLAXK4GY",
         "UAT6BWCSCWLUKJT6K6MBJJOEOTXZ5AJDOYKNEVRFC7VNO6OA43N4TRNO"},
    };
    for (auto [seed, pub] : pairs) {
        auto kp = keypair::from_seed(seed);
        ASSERT_TRUE(kp.ok()) << kp.error;
        EXPECT_EQ(kp.value->public_key(), pub);
    }
}

// nats.go's aJWT, signed by its operator. Version 1 JWTs (header alg
// "ed25519") sign the base64url payload chunk alone.
constexpr const char* a_jwt_payload =
    "eyJqdGkiOiJLWjZIUVRXRlY3WkRZSFo3NklRNUhPM0pINDVRNUdJS0JNMzJTSENQVUJNNk5PNkU3TUhRIiwiaWF0Ij"
    "oxNTQ0MDcxODg5LCJpc3MiOiJPRDJXMkk0TVZSQTVUR1pMWjJBRzZaSEdWTDNPVEtGV1FKRklYNFROQkVSMjNFNlA0"
    "NlMzNDVZWSIsInN1YiI6IkFBUFFKUVVQS1ZYR1c1Q1pINUcySEZKVUxZU0tERUxBWlJWV0pBMjZWRFpPN1dTQlVOSV"
    "lSRk5RIiwidHlwZSI6ImFjY291bnQiLCJuYXRzIjp7ImxpbWl0cyI6eyJzdWJzIjotMSwiY29ubiI6LTEsImltcG9y"
    "dHMiOi0xLCJleHBvcnRzIjotMSwiZGF0YSI6LTEsInBheWxvYWQiOi0xLCJ3aWxkY2FyZHMiOnRydWV9fX0";
constexpr const char* a_jwt_sig =
    "8o35JPQgvhgFT84Bi2Z-zAeSiLrzzEZn34sgr1DIBEDTwa-EEiMhvTeos9cvXxoZVCCadqZxAWVwS6paAMj8Bg";

TEST(nkey, jwt_signature_from_nats_go_verifies_and_reproduces) {
    const char* op_pub = "OD2W2I4MVRA5TGZLZ2AG6ZHGVL3OTKFWQJFIX4TNBER23E6P46S345YY";
    auto sig = decode_signature(a_jwt_sig);
    ASSERT_TRUE(sig);
    EXPECT_TRUE(verify(op_pub, view(a_jwt_payload), *sig));
    EXPECT_FALSE(verify(account_pub, view(a_jwt_payload), *sig));
    std::string altered = a_jwt_payload;
    altered.back() = 'A';
    EXPECT_FALSE(verify(op_pub, view(altered), *sig));

    auto kp = keypair::from_seed("SOAL7GTNI66CTVVNXBNQMG6V2HTDRWC3HGEP7D2OUTWNWSNYZDXWFOX4SU");
    ASSERT_TRUE(kp.ok());
    EXPECT_EQ(base64url_encode(kp.value->sign(view(a_jwt_payload))), a_jwt_sig);
}

TEST(nkey, generated_keys_round_trip) {
    for (key_type t : public_types) {
        std::set<std::string> seen;
        for (int i = 0; i < 20; ++i) {
            keypair kp = keypair::generate(t);
            std::string seed = kp.seed();
            EXPECT_EQ(seed.size(), seed_chars);
            EXPECT_EQ(seed[0], 'S');
            EXPECT_EQ(seed[1], kp.public_key()[0]);
            EXPECT_EQ(kp.public_key().size(), public_key_chars);
            EXPECT_TRUE(seen.insert(seed).second);

            auto s = decode_seed(seed);
            ASSERT_TRUE(s.ok()) << s.error;
            EXPECT_EQ(s.value->type, t);
            EXPECT_EQ(encode_seed(t, s.value->bytes), seed);
            auto again = keypair::from_seed(seed);
            ASSERT_TRUE(again.ok());
            EXPECT_EQ(again.value->public_key(), kp.public_key());

            auto p = decode_public(kp.public_key());
            ASSERT_TRUE(p.ok()) << p.error;
            EXPECT_EQ(p.value->type, t);
            EXPECT_EQ(encode_public(t, p.value->key), kp.public_key());

            const auto msg = bytes("message " + std::to_string(i));
            const signature sig = kp.sign(msg);
            EXPECT_TRUE(kp.verify(msg, sig));
            EXPECT_TRUE(verify(kp.public_key(), msg, sig));
            wipe(seed);
            EXPECT_TRUE(seed.empty());
        }
    }
}

TEST(nkey, type_names_and_prefixes) {
    const char* first = "UAONC";
    for (std::size_t i = 0; i < std::size(public_types); ++i) {
        key_type t = public_types[i];
        EXPECT_TRUE(is_public_type(t));
        EXPECT_EQ(public_type_from_name(type_name(t)), t);
        EXPECT_EQ(encode_public(t, counting_seed())[0], first[i]);
        EXPECT_EQ(encode_seed(t, counting_seed()).substr(0, 2), std::string("S") + first[i]);
    }
    EXPECT_FALSE(is_public_type(key_type::seed));
    EXPECT_EQ(type_name(key_type::operator_), "operator");
    EXPECT_FALSE(public_type_from_name("seed"));
    EXPECT_FALSE(public_type_from_name("User"));
    EXPECT_EQ(encode_public(key_type::seed, counting_seed()), "");
    EXPECT_EQ(encode_seed(key_type::seed, counting_seed()), "");
    EXPECT_EQ(prefix_byte(key_type::seed), 18 << 3);
    EXPECT_EQ(prefix_byte(key_type::account), 0);
}

TEST(nkey, public_key_errors) {
    EXPECT_EQ(decode_public("").error, "empty key");
    EXPECT_EQ(decode_public(user_pub, key_type::account).error,
              "expected an account key, got a user key");
    EXPECT_EQ(decode_public(account_pub, key_type::user).error,
              "expected a user key, got an account key");
    EXPECT_EQ(decode_public(user_pub.substr(0, 55)).error,
              "wrong length: 55 characters, a public key has 56");
    EXPECT_EQ(decode_public(user_pub + "A").error,
              "wrong length: 57 characters, a public key has 56");
    EXPECT_EQ(decode_public(user_seed).error, "this is a seed, not a public key");

    std::string lower = user_pub;
    lower[10] = 'a';
    EXPECT_EQ(decode_public(lower).error, "invalid base32 character at offset 10");
    for (char bad : {'0', '1', '8', '9', '=', ' ', '\n', '\0'}) {
        std::string k = user_pub;
        k[20] = bad;
        EXPECT_EQ(decode_public(k).error, "invalid base32 character at offset 20") << int(bad);
    }
    // Every single-character change is caught by the CRC.
    for (std::size_t i = 1; i < user_pub.size(); ++i) {
        std::string k = user_pub;
        k[i] = k[i] == 'Q' ? 'R' : 'Q';
        EXPECT_EQ(decode_public(k).error, "checksum mismatch") << i;
    }
    // A well-formed key whose prefix is not a public type: nkeys' private key prefix.
    std::vector<std::uint8_t> raw{15 << 3};
    raw.resize(33, 7);
    const std::uint16_t crc = crc16(raw);
    raw.push_back(static_cast<std::uint8_t>(crc & 0xff));
    raw.push_back(static_cast<std::uint8_t>(crc >> 8));
    const std::string priv = base32_encode(raw);
    ASSERT_EQ(priv.size(), 56u);
    EXPECT_EQ(priv[0], 'P');
    EXPECT_EQ(decode_public(priv).error, "not a public key type (prefix byte 0x78)");
    EXPECT_FALSE(verify(priv, view("x"), std::vector<std::uint8_t>(64)));
}

TEST(nkey, seed_errors) {
    EXPECT_EQ(decode_seed("").error, "empty key");
    EXPECT_EQ(decode_seed(user_pub).error, "this is a public key, not a seed");
    EXPECT_EQ(decode_seed(user_seed.substr(0, 57)).error,
              "wrong length: 57 characters, a seed has 58");
    EXPECT_EQ(decode_seed("su" + user_seed.substr(2)).error,
              "invalid base32 character at offset 0");
    // The last character carries two padding bits ('Y' = 11000); Go ignores them.
    ASSERT_EQ(user_seed.back(), 'Y');
    EXPECT_EQ(decode_seed(user_seed.substr(0, 57) + "Z").error,
              "non-canonical base32 (padding bits set)");
    std::string k = user_seed;
    k[30] = k[30] == 'Q' ? 'R' : 'Q';
    EXPECT_EQ(decode_seed(k).error, "checksum mismatch");

    auto framed = [](std::uint8_t b0, std::uint8_t b1) {
        std::vector<std::uint8_t> raw{b0, b1};
        raw.resize(34, 9);
        const std::uint16_t crc = crc16(raw);
        raw.push_back(static_cast<std::uint8_t>(crc & 0xff));
        raw.push_back(static_cast<std::uint8_t>(crc >> 8));
        return base32_encode(raw);
    };
    EXPECT_EQ(decode_seed(framed(prefix_byte(key_type::user), 0)).error,
              "not a seed (the prefix is not 'S')");
    // Seed prefix, but the public type is the private-key prefix.
    const std::uint8_t p = 15 << 3;
    EXPECT_EQ(decode_seed(framed(static_cast<std::uint8_t>(18 << 3 | p >> 5),
                                 static_cast<std::uint8_t>((p & 31) << 3)))
                  .error,
              "seed of an unknown key type");
    // Errors never quote the seed.
    EXPECT_EQ(decode_seed(user_seed.substr(0, 57) + "Z").error.find(user_seed.substr(2, 20)),
              std::string::npos);
    EXPECT_FALSE(keypair::from_seed(user_pub).ok());
    EXPECT_EQ(keypair::from_seed(user_pub).error, "this is a public key, not a seed");
}

TEST(nkey, signatures_verify_only_when_everything_matches) {
    auto kp = keypair::from_seed(user_seed);
    ASSERT_TRUE(kp.ok());
    const auto msg = bytes("the nonce");
    signature sig = kp.value->sign(msg);
    EXPECT_TRUE(verify(user_pub, msg, sig));

    auto other_msg = msg;
    other_msg[0] ^= 1;
    EXPECT_FALSE(verify(user_pub, other_msg, sig));
    EXPECT_FALSE(kp.value->verify(other_msg, sig));
    signature bad = sig;
    bad[10] ^= 0x40;
    EXPECT_FALSE(verify(user_pub, msg, bad));
    EXPECT_FALSE(verify("UD466L6EBCM3YY5HEGHJANNTN4LSKTSUXTH7RILHCKEQMQHTBNLHJJXT", msg, sig));
    EXPECT_FALSE(verify(user_pub, msg, std::span<const std::uint8_t>(sig).first(63)));
    EXPECT_FALSE(verify(user_pub.substr(1), msg, sig));
    // The type is not part of what is signed: the account key made from the
    // same seed bytes is the same Ed25519 key (so it is in nkeys too).
    EXPECT_TRUE(verify(account_pub, msg, sig));
}

TEST(nkey, nonce_signatures_in_both_base64_forms) {
    // Signed with nkeys (Go) by nats-server's test user seed (nkey_test.go).
    const char* pub = "UD466L6EBCM3YY5HEGHJANNTN4LSKTSUXTH7RILHCKEQMQHTBNLHJJXT";
    const char* nonce = "abcdefghijklmno";
    const std::string url =
        "EtZ1butheoxys4wjk9deIy9D5YD0PLgg-D-tOMnzafX9wl0SlV91Ps_wq1uJbflDh58F0tpK7vYlDdbKRBmECQ";
    const std::string std_padded =
        "EtZ1butheoxys4wjk9deIy9D5YD0PLgg+D+tOMnzafX9wl0SlV91Ps/wq1uJbflDh58F0tpK7vYlDdbKRBmECQ==";
    auto kp = keypair::from_seed("SUAKYRHVIOREXV7EUZTBHUHL7NUMHPMAS7QMDU3GTIUWEI5LDNOXD43IZY");
    ASSERT_TRUE(kp.ok());
    EXPECT_EQ(kp.value->public_key(), pub);

    EXPECT_TRUE(verify_nonce(pub, nonce, url));
    EXPECT_TRUE(verify_nonce(pub, nonce, std_padded));
    EXPECT_FALSE(verify_nonce(pub, nonce, url + "=="));               // URL form takes no padding
    EXPECT_FALSE(verify_nonce(pub, nonce, std_padded.substr(0, 86))); // standard form needs it
    EXPECT_FALSE(verify_nonce(pub, "abcdefghijklmnp", url));
    EXPECT_FALSE(verify_nonce(user_pub, nonce, url));
    EXPECT_FALSE(verify_nonce(pub, nonce, url.substr(0, 84)));
    EXPECT_FALSE(verify_nonce(pub, nonce, ""));
    EXPECT_FALSE(verify_nonce("", nonce, url));
    EXPECT_FALSE(verify_nonce("garbage", nonce, url));
}

TEST(nkey, nonces_are_15_url_characters_of_11_random_bytes) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        const std::string n = generate_nonce();
        EXPECT_EQ(n.size(), nonce_chars);
        EXPECT_EQ(n.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789-_"),
                  std::string::npos)
            << n;
        auto raw = decode_signature(n);
        ASSERT_TRUE(raw);
        EXPECT_EQ(raw->size(), nonce_raw_size);
        EXPECT_EQ(base64url_encode(*raw), n);
        seen.insert(n);
    }
    EXPECT_EQ(seen.size(), 100u);
}

} // namespace
