#pragma once
// Client authentication for `authorization {}` and `accounts {}` with
// nats-server 2.9.10's semantics: one token, one user/password, or a users
// list whose entries are user/password (plain or bcrypt $2a$/$2b$...) or
// NKey users who sign the INFO nonce with Ed25519. A passing CONNECT binds
// the client to a user, that user's account and permissions. The client is
// only ever told "Authorization Violation"; `result::reason` is for the log.
//
// Built by the control thread from the config (again on reload), then
// immutable: shards share it through shared_ptr<const authenticator> and
// call check() concurrently; check() only reads members, so no locking.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/auth/accounts.hh>
#include <natrix/auth/permissions.hh>
#include <natrix/config/security_options.hh>
#include <natrix/protocol/connect_options.hh>

namespace natrix::auth {

// How a client proved who it is.
enum class auth_method : std::uint8_t { none, token, password, nkey, no_auth_user, certificate };

struct result {
    bool ok = false;
    auth_method method = auth_method::none;
    std::string user;                         // who ("" for a token); an NKey user's key
    account_id account = global_account;      // where the client's subjects live
    std::shared_ptr<const permissions> perms; // null: may do anything
    std::string reason;                       // why it failed, for the log only
};

class authenticator {
public:
    // Errors in the settings (bad NKeys, transforms) go to *errors when
    // given; the config module reports the nats-server-compatible ones.
    explicit authenticator(const config::security_options& s,
                           std::vector<std::string>* errors = nullptr);

    // True when clients must authenticate (INFO auth_required).
    bool required() const noexcept { return required_; }
    // True when some user is an NKey user: INFO then carries a nonce.
    bool uses_nonce() const noexcept { return nkey_users_; }
    // The user a client that sends no credentials is bound to; "" when none.
    // With it, ops before CONNECT are allowed too and bind the client to it
    // without a check (nats-server's parser): see bind_no_auth_user().
    const std::string& no_auth_user() const noexcept { return no_auth_user_; }
    result bind_no_auth_user() const;

    const account_set& accounts() const noexcept { return *accounts_; }
    std::shared_ptr<const account_set> shared_accounts() const noexcept { return accounts_; }

    // Checks the credentials of a CONNECT (merged with any earlier one);
    // `nonce` is the one this connection's INFO carried. nats-server does not
    // apply no_auth_user to a CONNECT that follows a binding made before
    // CONNECT: pass false for that case.
    result check(const protocol::connect_options& opts, std::string_view nonce = {},
                 bool use_no_auth_user = true) const;
    // After a reload: judges a connected client again. A client that logged
    // in with a password as `authenticated_as`, whose bcrypt hash is the same
    // in `previous` and here, is not re-verified: a reload costs bcrypt time
    // only for the users it changed.
    result recheck(const protocol::connect_options& opts, std::string_view nonce,
                   bool use_no_auth_user, const authenticator* previous, auth_method method,
                   std::string_view authenticated_as) const;
    // True when recheck() with these arguments would run bcrypt.
    bool recheck_expensive(const protocol::connect_options& opts, bool use_no_auth_user,
                           const authenticator* previous, auth_method method,
                           std::string_view authenticated_as) const;
    // tls { verify_and_map }: the first configured user named by one of the
    // client certificate's identities (emails, DNS names, URIs, then the
    // subject DN: brief §3.2), with that user's account and permissions.
    result check_certificate(const std::vector<std::string>& identities) const;
    // True when check() would verify a bcrypt hash (tens of milliseconds):
    // callers on a latency-sensitive thread run it elsewhere.
    bool expensive(const protocol::connect_options& opts, bool use_no_auth_user = true) const;

private:
    struct user_record {
        std::string name;     // empty for an NKey user
        std::string password; // plain or bcrypt
        std::string nkey;
        account_id account = global_account;
        std::shared_ptr<const permissions> perms;
    };
    const user_record* find_user(std::string_view name) const noexcept;
    // The user a reload need not verify again (see recheck); null otherwise.
    const user_record* unchanged_password_user(const protocol::connect_options& opts,
                                               const authenticator* previous, auth_method method,
                                               std::string_view authenticated_as) const noexcept;
    const user_record* find_nkey(std::string_view key) const noexcept;
    result accept(const user_record& u, auth_method how) const;

    std::vector<user_record> users_;
    std::string token_;
    bool users_list_ = false;
    bool single_user_ = false;
    bool required_ = false;
    bool nkey_users_ = false;
    std::string no_auth_user_;
    std::shared_ptr<const account_set> accounts_;
};

// nats-server's isBcrypt: "$2" + optional a/b/x/y + "$" + two digits + "$".
bool is_bcrypt(std::string_view secret);

// Compares a configured secret with what the client sent: bcrypt when the
// configured one is a bcrypt hash, else a constant-time comparison that also
// hides the length (both sides are hashed first).
bool secret_matches(std::string_view configured, std::string_view given);

} // namespace natrix::auth
