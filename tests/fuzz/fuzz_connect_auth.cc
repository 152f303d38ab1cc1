// CONNECT authentication fuzz target. The input chooses a CONNECT (raw JSON,
// JSON built from fuzz-chosen credential fields, both merged, or fields set
// directly) and a nonce, then every fixed authenticator below judges it. Each
// verdict is compared with a small model of nats-server's rules: a token or
// password passes exactly when it equals the configured one, an nkey passes
// only with a signature of this nonce by that key (signatures made here with
// known seeds must pass, altered ones and other keys' must fail), and a
// passing result names a configured user, its account and its permissions.
// The same input's subjects and queue names go through a few compiled
// permission sets and are compared with a brute-force matcher.
//
// Layout: 4 header bytes (see `header`), then '\n'-separated pieces:
// nonce, raw JSON, user, pass, auth_token, nkey, sig, jwt, subject, queue,
// and a piece whose bytes pick subject tokens from a small alphabet.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <crypt.h>

#include <natrix/auth/authenticator.hh>
#include <natrix/auth/nkey.hh>
#include <natrix/auth/permissions.hh>
#include <natrix/config/security_options.hh>
#include <natrix/protocol/connect_options.hh>

using namespace natrix;
namespace nk = natrix::auth::nkey;

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

void check(bool ok, const char* what) {
    if (!ok) fail(what);
}

std::span<const std::uint8_t> bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

nk::keypair pair_from(std::uint8_t salt) {
    nk::key_bytes seed{};
    for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(i * 7 + salt);
    return nk::keypair::from_raw_seed(nk::raw_seed(nk::key_type::user, seed));
}

// A bcrypt hash of cost 4 from a fixed salt, so runs are reproducible.
std::string bcrypt4(const char* phrase) {
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    const char rbytes[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    if (!crypt_gensalt_rn("$2b$", 4, rbytes, sizeof rbytes, salt, sizeof salt)) fail("gensalt");
    auto data = std::make_unique<crypt_data>();
    const char* out = crypt_rn(phrase, salt, data.get(), sizeof(crypt_data));
    if (!out || out[0] == '*') fail("bcrypt");
    return out;
}

// --- the brute-force model of subjects and permissions ---

std::vector<std::string_view> split_dots(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = s.find('.', start);
        out.push_back(s.substr(start, dot == std::string_view::npos ? s.npos : dot - start));
        if (dot == std::string_view::npos) return out;
        start = dot + 1;
    }
}

// subjects::subject_matches as documented: text tokens, '*' any one token,
// '>' (last only) one or more; any empty token means no match.
bool ref_matches(std::string_view pattern, std::string_view literal) {
    const auto p = split_dots(pattern), l = split_dots(literal);
    for (auto t : p)
        if (t.empty()) return false;
    for (auto t : l)
        if (t.empty()) return false;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == ">" && i + 1 == p.size()) return l.size() > i;
        if (i >= l.size()) return false;
        if (p[i] != "*" && p[i] != l[i]) return false;
    }
    return p.size() == l.size();
}

bool ref_has_wildcard(std::string_view s) {
    for (auto t : split_dots(s))
        if (t == "*" || t == ">") return true;
    return false;
}

// nats-server's isSubsetMatchTokenized.
bool ref_subset(std::string_view subject, std::string_view test) {
    const auto tokens = split_dots(subject), t = split_dots(test);
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (i >= tokens.size()) return false;
        const std::string_view t2 = t[i];
        if (t2.empty()) return false;
        if (t2 == ">") return true;
        const std::string_view t1 = tokens[i];
        if (t1.empty() || t1 == ">") return false;
        if (t1 == "*") {
            if (t2 != "*") return false;
            continue;
        }
        if (t2 != "*" && t1 != t2) return false;
    }
    return tokens.size() == t.size();
}

struct ref_entry {
    std::string subject, queue;
};

std::vector<ref_entry> ref_split(const std::vector<std::string>& list) {
    std::vector<ref_entry> out;
    for (const std::string& s : list) {
        const std::size_t sp = s.find_first_of(" \t");
        if (sp == std::string::npos) {
            out.push_back({s, {}});
            continue;
        }
        const std::size_t q = s.find_first_not_of(" \t", sp);
        out.push_back({s.substr(0, sp), q == std::string::npos ? std::string() : s.substr(q)});
    }
    return out;
}

bool ref_publish(const config::permissions_option& o, std::string_view subject) {
    if (!o.publish) return true;
    if (o.publish->allow) {
        bool any = false;
        for (const auto& p : *o.publish->allow) any = any || ref_matches(p, subject);
        if (!any) return false;
    }
    for (const auto& p : o.publish->deny)
        if (ref_matches(p, subject)) return false;
    return true;
}

// nats-server's canSubscribe over a Sublist of the entries, with queueMatches.
bool ref_sub_list(const std::vector<ref_entry>& list, std::string_view subject,
                  std::string_view queue, bool deny) {
    bool plain = false, any_queue = false, queue_hit = false;
    for (const auto& e : list) {
        if (!ref_matches(e.subject, subject)) continue;
        if (e.queue.empty()) {
            plain = true;
        } else {
            any_queue = true;
            if (queue == e.queue || (ref_has_wildcard(e.queue) && ref_subset(queue, e.queue)))
                queue_hit = true;
        }
    }
    bool allowed = deny ? !plain : plain;
    if (!queue.empty() && any_queue) allowed = deny ? !queue_hit : queue_hit;
    return allowed;
}

bool ref_subscribe(const config::permissions_option& o, std::string_view subject,
                   std::string_view queue) {
    if (!o.subscribe) return true;
    bool allowed = true;
    // An empty allow list builds no Sublist in nats-server: everything passes.
    if (o.subscribe->allow && !o.subscribe->allow->empty())
        allowed = ref_sub_list(ref_split(*o.subscribe->allow), subject, queue, false);
    if (allowed && !o.subscribe->deny.empty())
        allowed = ref_sub_list(ref_split(o.subscribe->deny), subject, queue, true);
    return allowed;
}

bool ref_delivery_denied(const config::permissions_option& o, std::string_view literal) {
    if (!o.subscribe) return false;
    for (const auto& e : ref_split(o.subscribe->deny))
        if (e.queue.empty() && ref_matches(e.subject, literal)) return true;
    return false;
}

void compare_permissions(const config::permissions_option& cfg, const auth::permissions& p,
                         std::string_view subject, std::string_view queue) {
    check(p.publish_allowed(subject) == ref_publish(cfg, subject), "publish_allowed differs");
    check(p.subscribe_allowed(subject, queue) == ref_subscribe(cfg, subject, queue),
          "subscribe_allowed differs");
    check(p.subscribe_allowed(subject, {}) == ref_subscribe(cfg, subject, {}),
          "subscribe_allowed without queue differs");
    check(p.delivery_denied(subject) == ref_delivery_denied(cfg, subject),
          "delivery_denied differs");
    (void)p.needs_delivery_filter(subject);
}

// --- the fixed configuration ---

struct user_model {
    std::string name;      // password users
    std::string plaintext; // what the client must send
    bool bcrypt = false;
    std::string nkey; // nkey users
    std::string account;
    std::optional<config::permissions_option> perms;
};

config::permissions_option perms_bob() {
    config::permissions_option p;
    p.publish = config::subject_permission{std::vector<std::string>{"acme.>", "_INBOX.>", "svc.*"},
                                           {"acme.secret.*", "*.*.deny"}};
    p.subscribe = config::subject_permission{
        std::vector<std::string>{"acme.>", "jobs.* workers", "jobs.> w.*", "q.* >"},
        {"acme.secret.>", "jobs.high q1", "*.x"}};
    p.responses = config::response_permission{};
    return p;
}

config::permissions_option perms_k2() {
    config::permissions_option p;
    p.publish = config::subject_permission{std::vector<std::string>{}, {}}; // may publish nothing
    p.subscribe = config::subject_permission{std::vector<std::string>{}, {">"}};
    return p;
}

config::permissions_option perms_deny_only() {
    config::permissions_option p;
    p.publish = config::subject_permission{std::nullopt, {"a.*", "b.>", "*.x"}};
    p.subscribe = config::subject_permission{std::nullopt, {"a.b", "a.* g", "*.c g.>", "x"}};
    return p;
}

config::permissions_option perms_allow_only() {
    config::permissions_option p;
    p.publish = config::subject_permission{std::vector<std::string>{"*", "a.*.c", "a.>"}, {}};
    p.subscribe = config::subject_permission{std::vector<std::string>{"a.* q", "a.b", "*.* *"}, {}};
    return p;
}

struct world {
    nk::keypair k1 = pair_from(1); // configured, global account, no permissions
    nk::keypair k2 = pair_from(2); // configured, account OTHER, restricted
    nk::keypair k3 = pair_from(3); // not configured anywhere
    std::string carol_hash = bcrypt4("carolpw");
    std::string token_hash = bcrypt4("hashed-token");
    std::vector<user_model> users;
    std::vector<config::permissions_option> perm_cfgs;
    std::vector<std::unique_ptr<auth::permissions>> perm_sets;

    std::unique_ptr<auth::authenticator> open, token, bcrypt_token, single, users_list,
        users_no_auth, empty_list;
    config::security_options users_opts;

    world() {
        check(auth::is_bcrypt(carol_hash) && auth::is_bcrypt(token_hash), "bcrypt hashes");
        users = {
            {"alice", "alicepw", false, "", "", std::nullopt},
            {"bob", "bobpw", false, "", "ACME", perms_bob()},
            {"carol", "carolpw", true, "", "ACME", std::nullopt},
            {"", "", false, k1.public_key(), "", std::nullopt},
            {"", "", false, k2.public_key(), "OTHER", perms_k2()},
        };
        users_opts.users_list = true;
        for (const user_model& u : users) {
            config::user_option o;
            o.user = u.name;
            o.password = u.bcrypt ? carol_hash : u.plaintext;
            o.nkey = u.nkey;
            o.account = u.account;
            o.permissions = u.perms;
            users_opts.users.push_back(o);
        }
        config::account_option acme{"ACME", {}, {}};
        acme.exports.push_back({false,
                                "acme.public.>",
                                {},
                                config::response_type::singleton,
                                std::chrono::minutes(2)});
        acme.imports.push_back({true, "OTHER", "svc.time", "acme.time", ""});
        config::account_option other{"OTHER", {}, {}};
        other.exports.push_back(
            {true, "svc.>", {"ACME"}, config::response_type::stream, std::chrono::seconds(5)});
        other.imports.push_back({false, "ACME", "acme.public.>", "", "from.acme"});
        users_opts.accounts = {acme, other};

        std::vector<std::string> errors;
        open = std::make_unique<auth::authenticator>(config::security_options{}, &errors);
        config::security_options t;
        t.token = "s3cr3t-token";
        token = std::make_unique<auth::authenticator>(t, &errors);
        t.token = token_hash;
        bcrypt_token = std::make_unique<auth::authenticator>(t, &errors);
        config::security_options s;
        s.user = "alice";
        s.password = "alicepw";
        single = std::make_unique<auth::authenticator>(s, &errors);
        users_list = std::make_unique<auth::authenticator>(users_opts, &errors);
        config::security_options n = users_opts;
        n.no_auth_user = "alice";
        users_no_auth = std::make_unique<auth::authenticator>(n, &errors);
        config::security_options e;
        e.users_list = true;
        empty_list = std::make_unique<auth::authenticator>(e, &errors);
        if (!errors.empty()) {
            std::fprintf(stderr, "config error: %s\n", errors.front().c_str());
            fail("the fixed configuration is refused");
        }
        check(!open->required() && token->required() && single->required() &&
                  users_list->required() && empty_list->required(),
              "required()");
        check(users_list->uses_nonce() && !token->uses_nonce() && !single->uses_nonce(),
              "uses_nonce()");
        check(users_list->accounts().size() == 3, "accounts: $G, ACME, OTHER");
        const auth::result b = users_no_auth->bind_no_auth_user();
        check(b.ok && b.user == "alice" && b.account == auth::global_account && !b.perms,
              "bind_no_auth_user");
        check(!users_list->bind_no_auth_user().ok, "bind with no no_auth_user");

        perm_cfgs = {perms_bob(), perms_k2(), perms_deny_only(), perms_allow_only()};
        for (const auto& c : perm_cfgs) perm_sets.push_back(std::make_unique<auth::permissions>(c));
    }

    const user_model* password_user(std::string_view name) const {
        for (const user_model& u : users)
            if (u.nkey.empty() && u.name == name) return &u;
        return nullptr;
    }
    const user_model* nkey_user(std::string_view key) const {
        for (const user_model& u : users)
            if (!u.nkey.empty() && u.nkey == key) return &u;
        return nullptr;
    }
    const nk::keypair* pair_of(std::string_view pub) const {
        for (const nk::keypair* k : {&k1, &k2, &k3})
            if (k->public_key() == pub) return k;
        return nullptr;
    }
};

const world& the_world() {
    static const world w;
    return w;
}

// --- building the CONNECT ---

// Header bytes:
//  h0: bits 0-1 source (0 raw JSON, 1 built JSON, 2 raw then built merged,
//      3 fields set directly, any bytes); bit 2 use_no_auth_user; bit 3 fixed
//      nonce; bit 4 signature as padded standard base64; bit 5 upper-case
//      keys; bit 6 explicit nulls; bit 7 bcrypt allowed (with h3 & 15 == 15).
//  h1: which fields the built CONNECT has: user, pass, auth_token, nkey, sig,
//      jwt (bits 0-5).
//  h2: bits 0-1 user (piece, alice, bob, carol); 2-3 pass (piece, the
//      user's, another user's, piece appended to the user's); 4-5 nkey
//      (piece, k1, k2, k3); 6-7 sig (piece, by the nkey's pair, that one with
//      a flipped bit, by another pair).
//  h3: bits 0-3 gate bcrypt; bits 4-5 auth_token (piece, right token,
//      bcrypt token's phrase, piece); bits 5-7 pick the flipped bit.
struct header {
    std::uint8_t h[4] = {};
    int source() const { return h[0] & 3; }
    bool use_no_auth_user() const { return h[0] & 4; }
    bool fixed_nonce() const { return h[0] & 8; }
    bool std_base64() const { return h[0] & 16; }
    bool upper_keys() const { return h[0] & 32; }
    bool nulls() const { return h[0] & 64; }
    bool bcrypt_ok() const { return (h[0] & 128) && (h[3] & 15) == 15; }
    bool has(int field) const { return h[1] & (1u << field); }
    int user_sel() const { return h[2] & 3; }
    int pass_sel() const { return (h[2] >> 2) & 3; }
    int nkey_sel() const { return (h[2] >> 4) & 3; }
    int sig_sel() const { return (h[2] >> 6) & 3; }
    int token_sel() const { return (h[3] >> 4) & 3; }
};

enum piece_index {
    p_nonce,
    p_json,
    p_user,
    p_pass,
    p_token,
    p_nkey,
    p_sig,
    p_jwt,
    p_subject,
    p_queue,
    p_tokens,
    p_count
};

// Latin-1 to UTF-8, so any bytes make a JSON string that simdjson accepts.
std::string to_utf8(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            out += static_cast<char>(0xc0 | (c >> 6));
            out += static_cast<char>(0x80 | (c & 0x3f));
        }
    }
    return out;
}

void json_string(std::string& out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    out += '"';
}

std::string std_base64(std::span<const std::uint8_t> b) {
    std::string s = nk::base64url_encode(b);
    for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (s.size() % 4) s += '=';
    return s;
}

// What the input asks for, and what we know about the signature we made.
struct credentials {
    std::string user, pass, token, nkey, sig, jwt;
    enum class sig_kind { fuzz, right, flipped, wrong_key } kind = sig_kind::fuzz;
};

credentials choose(const world& w, const header& hd, const std::vector<std::string_view>& pc,
                   std::string_view nonce) {
    credentials c;
    static const char* const names[] = {nullptr, "alice", "bob", "carol"};
    c.user = hd.user_sel() == 0 ? std::string(pc[p_user]) : names[hd.user_sel()];
    const user_model* u = w.password_user(c.user);
    const std::string own = u ? u->plaintext : "nobody";
    switch (hd.pass_sel()) {
    case 0:
        c.pass = pc[p_pass];
        break;
    case 1:
        c.pass = own;
        break;
    case 2:
        c.pass = own == "alicepw" ? "bobpw" : "alicepw";
        break;
    default:
        c.pass = own + std::string(pc[p_pass]);
        break;
    }
    switch (hd.token_sel()) {
    case 1:
        c.token = "s3cr3t-token";
        break;
    case 2:
        c.token = "hashed-token";
        break;
    default:
        c.token = pc[p_token];
        break;
    }
    const nk::keypair* signer = &w.k1;
    switch (hd.nkey_sel()) {
    case 0:
        c.nkey = pc[p_nkey];
        break;
    case 1:
        signer = &w.k1;
        break;
    case 2:
        signer = &w.k2;
        break;
    default:
        signer = &w.k3;
        break;
    }
    if (hd.nkey_sel() != 0) c.nkey = signer->public_key();
    if (hd.sig_sel() == 0) {
        c.sig = pc[p_sig];
        return c;
    }
    const nk::keypair& by = hd.sig_sel() == 3 ? (signer == &w.k3 ? w.k2 : w.k3) : *signer;
    nk::signature s = by.sign(bytes(nonce));
    if (hd.sig_sel() == 2) {
        const std::size_t pos = (hd.h[3] * 31u + hd.h[2]) % nk::signature_size;
        s[pos] ^= static_cast<std::uint8_t>(1u << (hd.h[3] >> 5));
    }
    c.sig = hd.std_base64() ? std_base64(s) : nk::base64url_encode(s);
    // With a fuzz-chosen nkey the verdict is left to plain verification.
    if (hd.nkey_sel() != 0)
        c.kind = hd.sig_sel() == 1   ? credentials::sig_kind::right
                 : hd.sig_sel() == 2 ? credentials::sig_kind::flipped
                                     : credentials::sig_kind::wrong_key;
    return c;
}

std::string build_json(const header& hd, const credentials& c) {
    static const char* const lower[] = {"user", "pass", "auth_token", "nkey", "sig", "jwt"};
    static const char* const upper[] = {"USER", "Pass", "Auth_Token", "NKEY", "Sig", "JWT"};
    const std::string* values[] = {&c.user, &c.pass, &c.token, &c.nkey, &c.sig, &c.jwt};
    std::string json = "{\"verbose\":false,\"pedantic\":false,\"protocol\":1";
    if (hd.nulls()) json += ",\"name\":null,\"user\":null,\"account\":null";
    for (int f = 0; f < 6; ++f) {
        if (!hd.has(f)) continue;
        json += ',';
        json_string(json, hd.upper_keys() ? upper[f] : lower[f]);
        json += ':';
        json_string(json, to_utf8(*values[f]));
    }
    json += '}';
    return json;
}

// --- judging ---

struct expectation {
    bool known = false; // the model's verdict is exact
    bool ok = false;
    std::string user;
    const user_model* model = nullptr;
};

// NATRIX_FUZZ_TRACE=1: print every verdict (for reading a reproducer).
bool tracing() {
    static const bool on = std::getenv("NATRIX_FUZZ_TRACE") != nullptr;
    return on;
}

void check_result(const world& w, const auth::authenticator& a, const auth::result& r,
                  const expectation& e, const protocol::connect_options& o, std::string_view nonce,
                  std::string_view subject, std::string_view queue) {
    if (tracing())
        std::fprintf(stderr, "  ok=%d model=%s user=\"%s\" account=%u perms=%d reason=%s\n", r.ok,
                     e.known ? (e.ok ? "ok" : "fail") : "?", r.user.c_str(), unsigned(r.account),
                     bool(r.perms), r.reason.c_str());
    check(r.account < a.accounts().size(), "result.account out of range");
    check(r.ok == r.reason.empty(), "a failure says why, a success does not");
    if (e.known) {
        if (r.ok != e.ok) {
            std::fprintf(stderr, "expected ok=%d, got ok=%d (%s)\n", e.ok, r.ok, r.reason.c_str());
            fail("verdict differs from the model");
        }
    }
    if (!r.ok) {
        check(!r.perms, "a failure carries no permissions");
        return;
    }
    if (e.known) check(r.user == e.user, "the user bound differs from the model");
    const user_model* m = nullptr;
    if (!r.user.empty()) {
        m = r.user[0] == 'U' && r.user.size() == nk::public_key_chars ? w.nkey_user(r.user)
                                                                      : w.password_user(r.user);
        check(m != nullptr, "a passing CONNECT names a user that is not configured");
        check(&a != w.token.get() && &a != w.bcrypt_token.get() && &a != w.open.get(),
              "token and open authenticators bind no user");
    } else {
        check(!r.perms && r.account == auth::global_account, "anonymous pass with a binding");
        return;
    }
    if (e.model) check(m == e.model, "bound to another user than the model's");
    const std::optional<auth::account_id> acc =
        m->account.empty() ? std::optional<auth::account_id>(auth::global_account)
                           : a.accounts().find(m->account);
    check(acc && *acc == r.account, "bound to the wrong account");
    check(bool(r.perms) == m->perms.has_value(), "permissions present iff configured");
    if (r.perms) compare_permissions(*m->perms, *r.perms, subject, queue);
    if (!m->nkey.empty()) {
        // The signature that let it in verifies under that key and no other.
        check(o.nkey == m->nkey, "nkey user bound without its key in CONNECT");
        const auto sig = nk::decode_signature(o.sig);
        check(sig && nk::verify(m->nkey, bytes(nonce), *sig), "passed without a valid signature");
        for (const nk::keypair* k : {&w.k1, &w.k2, &w.k3})
            if (k->public_key() != m->nkey)
                check(!k->verify(bytes(nonce), *sig), "one signature verifies under two keys");
    } else {
        check(!m->bcrypt || o.pass == m->plaintext || (o.user.empty() && o.pass.empty()),
              "bcrypt user passed with another password");
    }
}

// The model for a users list (nats-server's processClientOrLeafAuthentication).
expectation model_users(const world& w, const auth::authenticator& a,
                        const protocol::connect_options& o, std::string_view nonce,
                        const credentials& made, bool use_no_auth) {
    expectation e;
    if (a.uses_nonce() && !o.nkey.empty()) {
        e.model = w.nkey_user(o.nkey);
        e.user = o.nkey;
        if (!e.model || o.sig.empty()) {
            e.known = true;
            return e;
        }
        if (o.sig == made.sig && o.nkey == made.nkey && made.kind != credentials::sig_kind::fuzz) {
            e.known = true;
            e.ok = made.kind == credentials::sig_kind::right;
            return e;
        }
        // A fuzz-made signature: consistent with plain verification.
        e.known = true;
        e.ok = nk::verify_nonce(o.nkey, nonce, o.sig);
        return e;
    }
    std::string name = o.user;
    std::string pass = o.pass;
    const bool bound = use_no_auth && name.empty() && pass.empty() && o.auth_token.empty() &&
                       !a.no_auth_user().empty();
    if (bound) name = a.no_auth_user();
    e.known = true;
    e.model = w.password_user(name);
    if (!e.model || name.empty()) return e;
    e.user = name;
    if (bound) {
        // The configured password compared with itself: a plain one passes,
        // a bcrypt hash is not the hash of itself.
        e.ok = !e.model->bcrypt;
        return e;
    }
    e.ok = pass == e.model->plaintext;
    return e;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const world& w = the_world();
    header hd;
    const std::size_t hn = size < 4 ? size : 4;
    std::memcpy(hd.h, data, hn);
    const std::string_view rest(reinterpret_cast<const char*>(data) + hn, size - hn);
    std::vector<std::string_view> pc;
    for (std::size_t start = 0; pc.size() < p_count;) {
        const std::size_t nl = rest.find('\n', start);
        if (start > rest.size()) {
            pc.emplace_back();
            continue;
        }
        pc.push_back(rest.substr(start, nl == std::string_view::npos ? rest.npos : nl - start));
        start = nl == std::string_view::npos ? rest.size() + 1 : nl + 1;
    }
    const std::string_view nonce =
        hd.fixed_nonce() ? std::string_view("kT7hHWd6Yw5XJjo") : pc[p_nonce];

    // The subject: the raw piece, or one assembled from a small alphabet so
    // that the permission patterns are often hit.
    static const char* const alphabet[] = {"a",    "b", "c", "acme",  "secret", "jobs",
                                           "high", "x", "*", ">",     "_INBOX", "svc",
                                           "deny", "q", "",  "public"};
    std::string subject(pc[p_subject]);
    if (!pc[p_tokens].empty()) {
        subject.clear();
        for (std::size_t i = 0; i < pc[p_tokens].size() && i < 8; ++i) {
            if (i) subject += '.';
            subject += alphabet[static_cast<unsigned char>(pc[p_tokens][i]) & 15];
        }
    }
    const std::string_view queue = pc[p_queue];
    for (std::size_t i = 0; i < w.perm_sets.size(); ++i)
        compare_permissions(w.perm_cfgs[i], *w.perm_sets[i], subject, queue);

    // The CONNECT.
    credentials made = choose(w, hd, pc, nonce);
    made.jwt = pc[p_jwt];
    protocol::connect_options o;
    std::string error;
    if (hd.source() == 0 || hd.source() == 2)
        (void)protocol::parse_connect_options(pc[p_json], o, &error);
    if (hd.source() == 1 || hd.source() == 2) {
        const std::string json = build_json(hd, made);
        protocol::connect_options built = o;
        check(protocol::parse_connect_options(json, built, &error), "a built CONNECT must parse");
        const std::string* values[] = {&made.user, &made.pass, &made.token,
                                       &made.nkey, &made.sig,  &made.jwt};
        const std::string* got[] = {&built.user, &built.pass, &built.auth_token,
                                    &built.nkey, &built.sig,  &built.jwt};
        for (int f = 0; f < 6; ++f) {
            if (hd.has(f)) {
                check(*got[f] == to_utf8(*values[f]), "a built field reads back changed");
            } else {
                // Absent keys keep what the earlier CONNECT set; so does null.
                const std::string* before[] = {&o.user, &o.pass, &o.auth_token,
                                               &o.nkey, &o.sig,  &o.jwt};
                check(*got[f] == *before[f], "an absent field changed");
            }
        }
        check(!built.verbose && !built.pedantic && built.protocol == 1, "built flags");
        o = std::move(built);
    }
    if (hd.source() == 3) {
        // Any bytes at all, NUL included: what the JSON layer cannot carry.
        if (hd.has(0)) o.user = made.user;
        if (hd.has(1)) o.pass = made.pass;
        if (hd.has(2)) o.auth_token = made.token;
        if (hd.has(3)) o.nkey = made.nkey;
        if (hd.has(4)) o.sig = made.sig;
        if (hd.has(5)) o.jwt = made.jwt;
    }
    const bool use_no_auth = hd.use_no_auth_user();
    if (tracing())
        std::fprintf(stderr,
                     "user=\"%s\" pass=\"%s\" token=\"%s\" nkey=\"%s\" sig=\"%s\" nonce=\"%.*s\"\n",
                     o.user.c_str(), o.pass.c_str(), o.auth_token.c_str(), o.nkey.c_str(),
                     o.sig.c_str(), int(nonce.size()), nonce.data());

    auto judge = [&](const auth::authenticator& a, const expectation& e, bool may_bcrypt) {
        const bool slow = a.expensive(o, use_no_auth);
        check(may_bcrypt || !slow, "expensive() for an authenticator without bcrypt");
        if (slow && !hd.bcrypt_ok()) return;
        const auth::result r = a.check(o, nonce, use_no_auth);
        check_result(w, a, r, e, o, nonce, subject, queue);
        if (!slow) {
            const auth::result again = a.check(o, nonce, use_no_auth);
            check(again.ok == r.ok && again.user == r.user && again.account == r.account &&
                      again.perms == r.perms,
                  "check() is not deterministic");
        }
    };

    expectation anyone;
    anyone.known = true;
    anyone.ok = true;
    judge(*w.open, anyone, false);

    expectation tok;
    tok.known = true;
    tok.ok = o.auth_token == "s3cr3t-token";
    judge(*w.token, tok, false);
    tok.ok = o.auth_token == "hashed-token";
    judge(*w.bcrypt_token, tok, true);

    expectation single;
    single.known = true;
    single.ok = o.user == "alice" && o.pass == "alicepw";
    single.user = "alice";
    single.model = w.password_user("alice");
    judge(*w.single, single, false);

    judge(*w.users_list, model_users(w, *w.users_list, o, nonce, made, use_no_auth), true);
    judge(*w.users_no_auth, model_users(w, *w.users_no_auth, o, nonce, made, use_no_auth), true);
    expectation nobody;
    nobody.known = true;
    judge(*w.empty_list, nobody, false);

    // Known-good and known-bad signatures of this nonce, whatever the input
    // chose: the right pair passes, a flipped bit or another pair fails.
    protocol::connect_options n;
    n.nkey = w.k2.public_key();
    nk::signature s = w.k2.sign(bytes(nonce));
    n.sig = hd.std_base64() ? std_base64(s) : nk::base64url_encode(s);
    auth::result r = w.users_list->check(n, nonce, use_no_auth);
    check(r.ok && r.user == n.nkey && r.perms, "a right signature fails");
    check(r.account == *w.users_list->accounts().find("OTHER"), "nkey user's account");
    s[(hd.h[3] + hd.h[1]) % nk::signature_size] ^= static_cast<std::uint8_t>(1u << (hd.h[2] & 7));
    n.sig = nk::base64url_encode(s);
    check(!w.users_list->check(n, nonce, use_no_auth).ok, "a flipped signature passes");
    n.sig = nk::base64url_encode(w.k3.sign(bytes(nonce)));
    check(!w.users_list->check(n, nonce, use_no_auth).ok, "another key's signature passes");
    n.nkey = w.k3.public_key();
    check(!w.users_list->check(n, nonce, use_no_auth).ok, "an unconfigured key passes");
    return 0;
}
