#include <algorithm>
#include <memory>

#include <crypt.h>
#include <sodium.h>

#include <natrix/auth/authenticator.hh>
#include <natrix/auth/nkey.hh>

namespace natrix::auth {

namespace {

bool digit(char c) {
    return c >= '0' && c <= '9';
}

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
    return s.size() >= i + 4 && s[i] == '$' && digit(s[i + 1]) && digit(s[i + 2]) &&
           s[i + 3] == '$';
}

bool secret_matches(std::string_view configured, std::string_view given) {
    if (is_bcrypt(configured)) {
        // crypt_rn takes C strings: an embedded NUL would truncate the phrase.
        if (given.find('\0') != std::string_view::npos) return false;
        return bcrypt_matches(std::string(configured), std::string(given));
    }
    return equal_hashed(configured, given);
}

authenticator::authenticator(const config::security_options& s, std::vector<std::string>* errors)
    : token_(s.token)
    , users_list_(s.users_list)
    , no_auth_user_(s.no_auth_user)
    , accounts_(std::make_shared<const account_set>(s.accounts, errors)) {
    if (sodium_init() < 0) std::abort(); // cannot compare secrets safely without it
    if (users_list_) {
        for (const config::user_option& u : s.users) {
            user_record r{u.user, u.password, u.nkey, global_account, nullptr};
            if (!u.account.empty()) {
                const std::optional<account_id> a = accounts_->find(u.account);
                if (!a) {
                    if (errors)
                        errors->push_back("user's account \"" + u.account + "\" is not defined");
                    continue;
                }
                r.account = *a;
            }
            if (u.permissions) r.perms = std::make_shared<const permissions>(*u.permissions);
            if (!u.nkey.empty()) {
                if (!nkey::decode_public(u.nkey, nkey::key_type::user).ok()) {
                    if (errors)
                        errors->push_back("Not a valid public nkey for a user: \"" + u.nkey + "\"");
                    continue;
                }
                nkey_users_ = true;
            }
            users_.push_back(std::move(r));
        }
    } else if (!s.user.empty() || !s.password.empty()) {
        users_.push_back(user_record{s.user, s.password, {}, global_account, nullptr});
        single_user_ = true;
    }
    // As nats-server's configureAuthorization: a users array (even empty), a
    // token, or a single user with a name.
    required_ = users_list_ || !token_.empty() || (single_user_ && !users_.front().name.empty());
}

const authenticator::user_record* authenticator::find_user(std::string_view name) const noexcept {
    for (const user_record& u : users_)
        if (u.nkey.empty() && u.name == name) return &u;
    return nullptr;
}

const authenticator::user_record* authenticator::find_nkey(std::string_view key) const noexcept {
    for (const user_record& u : users_)
        if (!u.nkey.empty() && u.nkey == key) return &u;
    return nullptr;
}

result authenticator::accept(const user_record& u, auth_method how) const {
    result r;
    r.ok = true;
    r.method = how;
    r.user = u.nkey.empty() ? u.name : u.nkey;
    r.account = u.account;
    r.perms = u.perms;
    return r;
}

result authenticator::check_certificate(const std::vector<std::string>& identities) const {
    for (const std::string& id : identities)
        if (const user_record* u = find_user(id)) return accept(*u, auth_method::certificate);
    result r;
    r.reason = identities.empty()
                   ? "client certificate has no identity to map"
                   : "no user matches the client certificate (" + identities.front() +
                         (identities.size() > 1 ? ", ..." : "") + ")";
    return r;
}

result authenticator::bind_no_auth_user() const {
    const user_record* u = find_user(no_auth_user_);
    if (!u) u = find_nkey(no_auth_user_);
    if (!u) {
        result r;
        r.reason = "no_auth_user \"" + no_auth_user_ + "\" is not a user";
        return r;
    }
    return accept(*u, auth_method::no_auth_user);
}

bool authenticator::expensive(const protocol::connect_options& o, bool use_no_auth_user) const {
    if (!required_ || !token_.empty()) return !token_.empty() && is_bcrypt(token_);
    if (nkey_users_ && !o.nkey.empty()) return false;
    std::string_view name = o.user;
    if (use_no_auth_user && name.empty() && o.pass.empty() && o.auth_token.empty())
        name = no_auth_user_;
    const user_record* u = single_user_ ? &users_.front() : find_user(name);
    return u && is_bcrypt(u->password);
}

const authenticator::user_record*
authenticator::unchanged_password_user(const protocol::connect_options& o,
                                       const authenticator* previous, auth_method method,
                                       std::string_view authenticated_as) const noexcept {
    // Only a password login, for the very name it logged in as, may skip the
    // check: an NKey client's CONNECT may name a user it never proved.
    if (!previous || method != auth_method::password || !required_ || !previous->required_ ||
        !token_.empty() || !previous->token_.empty() || (!o.nkey.empty() && nkey_users_))
        return nullptr;
    const std::string_view name = authenticated_as;
    const user_record* now = single_user_ ? &users_.front() : find_user(name);
    const user_record* before =
        previous->single_user_ ? &previous->users_.front() : previous->find_user(name);
    if (now && before && now->name == name && before->name == name &&
        now->password == before->password && is_bcrypt(now->password))
        return now; // verified against this very hash at CONNECT
    return nullptr;
}

result authenticator::recheck(const protocol::connect_options& o, std::string_view nonce,
                              bool use_no_auth_user, const authenticator* previous,
                              auth_method method, std::string_view authenticated_as) const {
    if (const user_record* u = unchanged_password_user(o, previous, method, authenticated_as))
        return accept(*u, auth_method::password);
    return check(o, nonce, use_no_auth_user);
}

bool authenticator::recheck_expensive(const protocol::connect_options& o, bool use_no_auth_user,
                                      const authenticator* previous, auth_method method,
                                      std::string_view authenticated_as) const {
    return !unchanged_password_user(o, previous, method, authenticated_as) &&
           expensive(o, use_no_auth_user);
}

result authenticator::check(const protocol::connect_options& o, std::string_view nonce,
                            bool use_no_auth_user) const {
    result r;
    if (!required_) {
        r.ok = true;
        return r;
    }
    if (users_list_) {
        // NKey users first, as nats-server: a CONNECT with an nkey is judged
        // by its signature of this connection's nonce.
        if (nkey_users_ && !o.nkey.empty()) {
            const user_record* u = find_nkey(o.nkey);
            if (!u) {
                r.reason = "unknown nkey \"" + o.nkey + "\"";
                return r;
            }
            if (o.sig.empty()) {
                r.reason = "nkey \"" + o.nkey + "\" sent no signature";
                return r;
            }
            if (!nkey::verify_nonce(o.nkey, nonce, o.sig)) {
                r.reason = "signature of nkey \"" + o.nkey + "\" does not verify the nonce";
                return r;
            }
            return accept(*u, auth_method::nkey);
        }
        std::string_view name = o.user;
        std::string_view pass = o.pass;
        // A CONNECT with no credentials at all stands for no_auth_user. Like
        // nats-server, that user's configured password is then compared with
        // itself: it passes when plain, and fails when it is a bcrypt hash.
        const bool bound = use_no_auth_user && name.empty() && pass.empty() &&
                           o.auth_token.empty() && !no_auth_user_.empty();
        if (bound) name = no_auth_user_;
        if (name.empty()) {
            r.reason = "no user name given";
            return r;
        }
        const user_record* u = find_user(name);
        if (!u) {
            r.reason = "unknown user \"" + std::string(name) + "\"";
            return r;
        }
        if (bound) pass = u->password;
        if (!secret_matches(u->password, pass)) {
            r.reason = "wrong password for user \"" + u->name + "\"";
            return r;
        }
        return accept(*u, bound ? auth_method::no_auth_user : auth_method::password);
    }
    if (!token_.empty()) {
        if (o.auth_token.empty()) {
            r.reason = "no token given";
        } else if (!secret_matches(token_, o.auth_token)) {
            r.reason = "wrong token";
        } else {
            r.ok = true;
            r.method = auth_method::token;
        }
        return r;
    }
    const user_record& u = users_.front();
    if (o.user != u.name) {
        r.reason = o.user.empty() ? "no user name given" : "unknown user \"" + o.user + "\"";
        return r;
    }
    if (!secret_matches(u.password, o.pass)) {
        r.reason = "wrong password for user \"" + u.name + "\"";
        return r;
    }
    return accept(u, auth_method::password);
}

} // namespace natrix::auth
