#pragma once
// Client authentication for the `authorization` block, with nats-server
// 2.9.10's semantics: one token, one user/password, or a users list; each
// secret plain or bcrypt ($2a$/$2b$...). The client is only ever told
// "Authorization Violation"; the reason in `result` is for the server log.
//
// Built once by the control thread from the config, then immutable: every
// shard holds the same instance through a shared_ptr<const authenticator> and
// calls check() concurrently from its own thread. check() only reads members
// (bcrypt runs crypt_rn on a per-call buffer), so no locking is needed.
#include <natrix/protocol/connect_options.hh>

#include <string>
#include <string_view>
#include <vector>

namespace natrix::auth {

struct user_entry {
    std::string name;
    std::string password; // plain or bcrypt
};

struct auth_settings {
    std::string token;             // authorization { token }
    std::vector<user_entry> users; // the single user/password, or users: [...]
    bool users_list = false;       // users came from `users: [...]` (even empty)
    std::string no_auth_user;      // top-level no_auth_user; needs users_list
};

struct result {
    bool ok = false;
    std::string user;   // the user the connection is bound to ("" for a token)
    std::string reason; // why it failed, for the log only
};

class authenticator {
public:
    explicit authenticator(auth_settings s);

    // True when clients must authenticate (INFO auth_required).
    bool required() const noexcept { return required_; }
    // The user a client that sends no credentials is bound to; "" when none.
    // With it, ops before CONNECT are allowed too and bind the client to it
    // without a check (nats-server's parser).
    const std::string& no_auth_user() const noexcept { return s_.no_auth_user; }

    // Checks the credentials of a CONNECT (merged with any earlier one).
    // nats-server does not apply no_auth_user to a CONNECT that follows a
    // binding made before CONNECT: pass false for that case.
    result check(const protocol::connect_options& opts, bool use_no_auth_user = true) const;

    // Config-level mistakes nats-server refuses at start-up (duplicate
    // users, no_auth_user naming nobody); empty when fine.
    static std::vector<std::string> validate(const auth_settings& s);

private:
    auth_settings s_;
    bool required_ = false;
};

// nats-server's isBcrypt: "$2" + optional a/b/x/y + "$" + two digits + "$".
bool is_bcrypt(std::string_view secret);

// Compares a configured secret with what the client sent: bcrypt when the
// configured one is a bcrypt hash, else a constant-time comparison that also
// hides the length (both sides are hashed first).
bool secret_matches(std::string_view configured, std::string_view given);

} // namespace natrix::auth
