// Runs the natrix-keys binary as a user would, every subcommand with good and
// bad input, and cross-checks it with the library: what it signs verifies with
// nkey::verify, and what the library signs it verifies.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <natrix/auth/nkey.hh>

extern char** environ;

namespace {

namespace nk = natrix::auth::nkey;

// From nkeys (Go): FromRawSeed(PrefixByteUser, bytes 0..31) and its Sign("natrix").
const std::string go_seed = "SUAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H776Y";
const std::string go_pub = "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLKK";
const std::string go_sig =
    "ZNR-OG7t1wgTU_0Uz71xZq9KI28cXnWh0g9GxdpQOYpYKbMG7q259bIuH2zK_uBNklTIlu97dRcsPoJenrtsDQ";

struct result {
    int rc = -1;
    std::string out, err;
};

class natrix_keys : public ::testing::Test {
protected:
    void SetUp() override {
        const char* bin = std::getenv("NATRIX_KEYS_BIN");
        ASSERT_NE(bin, nullptr) << "NATRIX_KEYS_BIN is not set (meson test sets it)";
        bin_ = bin;
        char tmpl[] = "/tmp/natrix_keys_test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        std::error_code ec;
        if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    }

    std::string file(const std::string& name, const std::string& content) {
        const std::string path = dir_ + "/" + name;
        std::ofstream(path, std::ios::binary) << content;
        return path;
    }

    static std::string slurp(const std::string& path) {
        std::ifstream f(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    }

    // Runs natrix-keys ARGS with `input` on stdin.
    result run(const std::vector<std::string>& args, const std::string& input = "") {
        const std::string in = file("stdin", input), out = dir_ + "/stdout", err = dir_ + "/stderr";
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        std::vector<std::string> all{bin_};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : all) argv.push_back(a.data());
        argv.push_back(nullptr);
        result r;
        pid_t pid = 0;
        const int e = posix_spawn(&pid, bin_.c_str(), &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        EXPECT_EQ(e, 0);
        if (e != 0) return r;
        int status = 0;
        ::waitpid(pid, &status, 0);
        r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        r.out = slurp(out);
        r.err = slurp(err);
        return r;
    }

    static std::span<const std::uint8_t> view(const std::string& s) {
        return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
    }

    std::string bin_, dir_;
};

TEST_F(natrix_keys, help_and_usage_errors) {
    for (const char* h : {"--help", "-h", "help"}) {
        result r = run({h});
        EXPECT_EQ(r.rc, 0) << h;
        EXPECT_NE(r.out.find("usage: natrix-keys"), std::string::npos);
    }
    EXPECT_EQ(run({"sign", go_seed, "--help"}).rc, 0);

    const std::pair<std::vector<std::string>, const char*> usage_errors[] = {
        {{}, "no command given"},
        {{"frob"}, "unknown command 'frob'"},
        {{"gen"}, "gen: missing key type"},
        {{"gen", "user", "account"}, "gen: unexpected argument 'account'"},
        {{"pub"}, "pub: missing seed"},
        {{"pub", go_seed, "--json"}, "unknown option '--json' for pub"},
        {{"sign", go_seed, "--nonce", "a", "--file", "b"},
         "give only one of --nonce, --file and -"},
        {{"sign", go_seed, "--nonce"}, "--nonce needs a value"},
        {{"verify", go_pub}, "verify: missing signature"},
        {{"verify"}, "verify: missing public key and signature"},
        {{"validate"}, "validate: missing key"},
        {{"validate", "A", "B"}, "validate: unexpected argument 'B'"},
    };
    for (const auto& [args, message] : usage_errors) {
        result r = run(args);
        EXPECT_EQ(r.rc, 2) << message;
        EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("usage: natrix-keys"), std::string::npos);
    }
    result r = run({"gen", "seed"});
    EXPECT_EQ(r.rc, 2);
    EXPECT_NE(r.err.find("unknown key type 'seed'"), std::string::npos);
}

TEST_F(natrix_keys, gen_makes_working_pairs_of_each_type) {
    for (const char* type : {"user", "account", "operator", "server", "cluster"}) {
        result r = run({"gen", type});
        ASSERT_EQ(r.rc, 0) << r.err;
        std::istringstream lines(r.out);
        std::string seed_label, seed, pub_label, pub;
        lines >> seed_label >> seed >> pub_label >> pub;
        EXPECT_EQ(seed_label, "seed:");
        EXPECT_EQ(pub_label, "public:");
        auto kp = nk::keypair::from_seed(seed);
        ASSERT_TRUE(kp.ok()) << kp.error;
        EXPECT_EQ(nk::type_name(kp.value->type()), type);
        EXPECT_EQ(kp.value->public_key(), pub);

        result j = run({"gen", type, "--json"});
        ASSERT_EQ(j.rc, 0);
        // {"type":"user","seed":"SU...","public":"U..."}
        const std::string head = std::string("{\"type\":\"") + type + "\",\"seed\":\"";
        ASSERT_EQ(j.out.rfind(head, 0), 0u) << j.out;
        const std::string jseed = j.out.substr(head.size(), 58);
        const std::string mid = "\",\"public\":\"";
        ASSERT_EQ(j.out.substr(head.size() + 58, mid.size()), mid) << j.out;
        const std::string jpub = j.out.substr(head.size() + 58 + mid.size(), 56);
        EXPECT_EQ(j.out.substr(head.size() + 58 + mid.size() + 56), "\"}\n");
        auto jkp = nk::keypair::from_seed(jseed);
        ASSERT_TRUE(jkp.ok()) << jkp.error;
        EXPECT_EQ(jkp.value->public_key(), jpub);
    }
}

TEST_F(natrix_keys, pub_from_argument_seed_file_and_creds_file) {
    result r = run({"pub", go_seed});
    EXPECT_EQ(r.rc, 0);
    EXPECT_EQ(r.out, go_pub + "\n");

    EXPECT_EQ(run({"pub", "--seed-file", file("seed", go_seed + "\n")}).out, go_pub + "\n");
    EXPECT_EQ(run({"pub", "--seed-file=" + file("seed2", "  " + go_seed)}).out, go_pub + "\n");
    const std::string creds = "-----BEGIN NATS USER JWT-----\neyJ0eXAi.e30.c2ln\n"
                              "------END NATS USER JWT------\n\n"
                              "-----BEGIN USER NKEY SEED-----\n" +
                              go_seed + "\r\n------END USER NKEY SEED------\n";
    EXPECT_EQ(run({"pub", "--seed-file", file("user.creds", creds)}).out, go_pub + "\n");

    r = run({"pub", go_pub});
    EXPECT_EQ(r.rc, 1);
    EXPECT_EQ(r.err, "natrix-keys: invalid seed: this is a public key, not a seed\n");
    r = run({"pub", "--seed-file", dir_ + "/missing"});
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("cannot read"), std::string::npos);
    r = run({"pub", "--seed-file", file("empty", "\n\n")});
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("no seed found"), std::string::npos);
    r = run({"pub", go_seed.substr(0, 57) + "Z"});
    EXPECT_EQ(r.rc, 1);
    EXPECT_EQ(r.err, "natrix-keys: invalid seed: non-canonical base32 (padding bits set)\n");
    EXPECT_EQ(r.out, "");
}

TEST_F(natrix_keys, sign_reads_nonce_file_or_stdin_and_matches_go) {
    EXPECT_EQ(run({"sign", go_seed, "--nonce", "natrix"}).out, go_sig + "\n");
    EXPECT_EQ(run({"sign", go_seed, "--nonce=natrix"}).out, go_sig + "\n");
    EXPECT_EQ(run({"sign", go_seed, "--file", file("msg", "natrix")}).out, go_sig + "\n");
    EXPECT_EQ(run({"sign", go_seed, "-"}, "natrix").out, go_sig + "\n");
    EXPECT_EQ(run({"sign", go_seed}, "natrix").out, go_sig + "\n");
    EXPECT_EQ(run({"sign", "--seed-file", file("s", go_seed), "--nonce", "natrix"}).out,
              go_sig + "\n");

    // Binary payloads, NULs included, are signed byte for byte.
    std::string payload(3000, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
    result r = run({"sign", go_seed, "--file", file("bin", payload)});
    ASSERT_EQ(r.rc, 0);
    auto sig = nk::decode_signature(r.out.substr(0, r.out.size() - 1));
    ASSERT_TRUE(sig);
    EXPECT_TRUE(nk::verify(go_pub, view(payload), *sig));
    EXPECT_FALSE(nk::verify(go_pub, view(payload.substr(1)), *sig));

    r = run({"sign", go_pub, "--nonce", "x"});
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("invalid seed"), std::string::npos);
    r = run({"sign", go_seed, "--file", dir_ + "/missing"});
    EXPECT_EQ(r.rc, 1);
    EXPECT_EQ(r.out, "");
}

TEST_F(natrix_keys, verify_accepts_what_the_library_signs_in_both_base64_forms) {
    const nk::keypair kp = nk::keypair::generate(nk::key_type::user);
    const std::string nonce = nk::generate_nonce();
    const nk::signature sig = kp.sign(view(nonce));
    const std::string url = nk::base64url_encode(sig);
    std::string std_form = url;
    for (char& c : std_form) c = c == '-' ? '+' : c == '_' ? '/' : c;
    std_form += "==";

    result r;
    for (const std::string& s : {url, std_form}) {
        r = run({"verify", kp.public_key(), s, "--nonce", nonce});
        EXPECT_EQ(r.rc, 0) << s << r.err;
        EXPECT_EQ(r.out, "valid\n");
        EXPECT_EQ(run({"verify", kp.public_key(), s, "-"}, nonce).out, "valid\n");
        EXPECT_EQ(run({"verify", kp.public_key(), s, "--file", file("n", nonce)}).rc, 0);
    }
    // A signature that starts with "--" is still the signature: find one.
    std::string dash_msg, dash_sig;
    for (int i = 0; i < 200000 && dash_sig.empty(); ++i) {
        const std::string m = "message " + std::to_string(i);
        const std::string s = nk::base64url_encode(kp.sign(view(m)));
        if (s.rfind("--", 0) == 0) {
            dash_msg = m;
            dash_sig = s;
        }
    }
    ASSERT_FALSE(dash_sig.empty());
    r = run({"verify", kp.public_key(), dash_sig, "--nonce", dash_msg});
    EXPECT_EQ(r.rc, 0) << r.err;
    EXPECT_EQ(r.out, "valid\n");
    EXPECT_EQ(run({"sign", go_seed, "--", "--nonce", "x"}).rc, 2); // "--": positionals follow
    r = run({"verify", kp.public_key(), url, "--nonce", nonce + "x"});
    EXPECT_EQ(r.rc, 1);
    EXPECT_EQ(r.out, "invalid signature\n");
    EXPECT_EQ(run({"verify", go_pub, url, "--nonce", nonce}).rc, 1);

    r = run({"verify", go_seed, url, "--nonce", nonce});
    EXPECT_EQ(r.rc, 1);
    EXPECT_EQ(r.err, "natrix-keys: invalid public key: this is a seed, not a public key\n");
    r = run({"verify", kp.public_key(), url + "==", "--nonce", nonce});
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("not base64url or padded base64"), std::string::npos);
    r = run({"verify", kp.public_key(), url.substr(0, 84), "--nonce", nonce});
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("63 bytes, an Ed25519 signature has 64"), std::string::npos);
}

TEST_F(natrix_keys, what_it_signs_the_library_verifies) {
    result g = run({"gen", "account"});
    ASSERT_EQ(g.rc, 0);
    const std::string seed = g.out.substr(6, 58);
    const std::string pub = g.out.substr(6 + 58 + 9, 56);
    const std::string nonce = nk::generate_nonce();
    result s = run({"sign", seed, "--nonce", nonce});
    ASSERT_EQ(s.rc, 0);
    const std::string sig = s.out.substr(0, s.out.size() - 1);
    EXPECT_EQ(sig.size(), 86u);
    EXPECT_TRUE(nk::verify_nonce(pub, nonce, sig));
    EXPECT_FALSE(nk::verify_nonce(pub, nonce.substr(1), sig));
    EXPECT_EQ(run({"verify", pub, sig, "--nonce", nonce}).rc, 0);
}

TEST_F(natrix_keys, validate_names_the_key_or_the_error) {
    const std::pair<const char*, const char*> good[] = {
        {"UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLKK", "public user key\n"},
        {"AAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3QPZV", "public account key\n"},
        {"OAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3QZVT", "public operator key\n"},
        {"NAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RSWB", "public server key\n"},
        {"CAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3R53J", "public cluster key\n"},
        {"SUAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H776Y",
         "user seed (public key UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLKK)\n"},
        {"SOAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H2AJA",
         "operator seed (public key OAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3QZVT)\n"},
    };
    for (auto [key, says] : good) {
        result r = run({"validate", key});
        EXPECT_EQ(r.rc, 0) << key;
        EXPECT_EQ(r.out, says);
    }

    std::string crc = go_pub;
    crc[30] = crc[30] == 'Q' ? 'R' : 'Q';
    std::string seed_crc = go_seed;
    seed_crc[30] = seed_crc[30] == 'Q' ? 'R' : 'Q';
    const std::pair<std::string, const char*> bad[] = {
        {"", "empty key"},
        {crc, "checksum mismatch"},
        {seed_crc, "checksum mismatch"},
        {go_pub.substr(0, 50), "wrong length: 50 characters, a public key has 56"},
        {go_seed.substr(0, 50), "wrong length: 50 characters, a seed has 58"},
        {go_pub + "AB", "wrong length: 58 characters, a public key has 56"},
        {"uab2cb576phbbpq5odorrz2lycmwpzgwgcn2kdk7dxoimzaskuy3rlkk",
         "invalid base32 character at offset 0"},
        {go_seed.substr(0, 57) + "Z", "non-canonical base32 (padding bits set)"},
    };
    for (const auto& [key, why] : bad) {
        result r = run({"validate", key});
        EXPECT_EQ(r.rc, 1) << key;
        EXPECT_EQ(r.out, "");
        EXPECT_EQ(r.err, std::string("natrix-keys: invalid key: ") + why + "\n") << key;
    }
}

} // namespace
