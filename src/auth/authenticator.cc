#include <natrix/auth/authenticator.hh>

#include <crypt.h>
#include <sodium.h>

#include <algorithm>
#include <memory>

namespace natrix::auth {

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

bool equal_hashed(std::string_view a, std::string_view b) {
    // Hashing first makes the comparison independent of both lengths.
    unsigned char ha[crypto_generichash_BYTES], hb[crypto_generichash_BYTES];
    crypto_generichash(ha, sizeof ha, reinterpret_cast<const unsigned char*>(a.data()), a.size(),
                       nullptr, 0);
    crypto_generichash(hb, sizeof hb, reinterpret_cast<const unsigned char*>(b.data()), b.size(),
                       nullptr, 0);
    return sodium_memcmp(ha, hb, sizeof ha) == 0;
}

bool bcrypt_matches(const std::string& hash, const std::string& given) {
    // crypt_data is ~32 KiB: on the heap, one per call, so shards never share it.
    auto data = std::make_unique<crypt_data>();
    const char* out = crypt_rn(given.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
    if (!out || out[0] == '*') return false;
    return equal_hashed(out, hash);
}

} // namespace

bool is_bcrypt(std::string_view s) {
    if (s.size() < 3 || s[0] != '$' || s[1] != '2') return false;
    std::size_t i = 2;
    if (s[i] == 'a' || s[i] == 'b' || s[i] == 'x' || s[i] == 'y') ++i;
    return s.size() >= i + 4 && s[i] == '$' && digit(s[i + 1]) && digit(s[i + 2]) && s[i + 3] == '$';
}

bool secret_matches(std::string_view configured, std::string_view given) {
    if (is_bcrypt(configured)) {
        // crypt_rn takes C strings: an embedded NUL would truncate the phrase.
        if (given.find('\0') != std::string_view::npos) return false;
        return bcrypt_matches(std::string(configured), std::string(given));
    }
    return equal_hashed(configured, given);
}

authenticator::authenticator(auth_settings s) : s_(std::move(s)) {
    if (sodium_init() < 0) std::abort(); // cannot compare secrets safely without it
    // As nats-server's configureAuthorization: a users array (even empty), a
    // token, or a single user with a name.
    required_ = s_.users_list || !s_.token.empty() ||
                (!s_.users.empty() && !s_.users.front().name.empty());
}

result authenticator::check(const protocol::connect_options& o, bool use_no_auth_user) const {
    result r;
    if (!required_) {
        r.ok = true;
        return r;
    }
    if (s_.users_list) {
        std::string_view name = o.user;
        std::string_view pass = o.pass;
        // A CONNECT with no credentials at all stands for no_auth_user. Like
        // nats-server, that user's configured password is then compared with
        // itself: it passes when plain, and fails when it is a bcrypt hash.
        const bool bound = use_no_auth_user && name.empty() && pass.empty() &&
                           o.auth_token.empty() && !s_.no_auth_user.empty();
        if (bound) name = s_.no_auth_user;
        if (name.empty()) {
            r.reason = "no user name given";
            return r;
        }
        auto it = std::find_if(s_.users.begin(), s_.users.end(),
                               [&](const user_entry& u) { return u.name == name; });
        if (it == s_.users.end()) {
            r.reason = "unknown user \"" + std::string(name) + "\"";
            return r;
        }
        if (bound) pass = it->password;
        if (!secret_matches(it->password, pass)) {
            r.reason = "wrong password for user \"" + it->name + "\"";
            return r;
        }
        r.ok = true;
        r.user = it->name;
        return r;
    }
    if (!s_.token.empty()) {
        if (o.auth_token.empty()) {
            r.reason = "no token given";
        } else if (!secret_matches(s_.token, o.auth_token)) {
            r.reason = "wrong token";
        } else {
            r.ok = true;
        }
        return r;
    }
    const user_entry& u = s_.users.front();
    if (o.user != u.name) {
        r.reason = o.user.empty() ? "no user name given" : "unknown user \"" + o.user + "\"";
        return r;
    }
    if (!secret_matches(u.password, o.pass)) {
        r.reason = "wrong password for user \"" + u.name + "\"";
        return r;
    }
    r.ok = true;
    r.user = u.name;
    return r;
}

std::vector<std::string> authenticator::validate(const auth_settings& s) {
    std::vector<std::string> errs;
    if (s.users_list) {
        for (std::size_t i = 0; i < s.users.size(); ++i)
            for (std::size_t j = 0; j < i; ++j)
                if (s.users[i].name == s.users[j].name) {
                    errs.push_back("Duplicate user \"" + s.users[i].name + "\" detected");
                    break;
                }
    }
    if (!s.no_auth_user.empty()) {
        if (!s.users_list) {
            errs.push_back("no_auth_user: \"" + s.no_auth_user +
                           "\" present, but users/nkeys are not defined");
        } else if (std::none_of(s.users.begin(), s.users.end(), [&](const user_entry& u) {
                       return u.name == s.no_auth_user;
                   })) {
            errs.push_back("no_auth_user: \"" + s.no_auth_user +
                           "\" not present as user or nkey in authorization block or account "
                           "configuration");
        }
    }
    return errs;
}

} // namespace natrix::auth
