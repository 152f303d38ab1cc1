#pragma once
// Who may connect and what they may do, as written in the config file:
// `authorization {}`, `accounts {}` and `no_auth_user`, with nats-server's
// key names and checks (server/opts.go parseAuthorization, parseUsers,
// parseUserPermissions, parseAccounts). Plain data; the auth module compiles
// it into an authenticator. Control thread only.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace natrix::config {

// One direction (publish or subscribe) of a user's permissions. An absent
// allow list allows everything; a present one, even empty, allows only what
// it lists. Deny always wins. Subscribe entries may be "subject queue".
struct subject_permission {
    std::optional<std::vector<std::string>> allow;
    std::vector<std::string> deny;
    bool operator==(const subject_permission&) const = default;
};

// allow_responses: may publish to the reply subjects of requests received,
// at most max_msgs times each (<= 0: unlimited) within `expires`
// (<= 0: forever). nats-server's defaults are 1 and 2 minutes.
struct response_permission {
    int max_msgs = 1;
    std::chrono::nanoseconds expires = std::chrono::minutes(2);
    bool operator==(const response_permission&) const = default;
};

struct permissions_option {
    std::optional<subject_permission> publish;
    std::optional<subject_permission> subscribe;
    std::optional<response_permission> responses;
    bool operator==(const permissions_option&) const = default;
};

struct user_option {
    std::string user;     // empty for an NKey user
    std::string password; // plain or bcrypt
    std::string nkey;     // public user NKey ("U..."); empty for a password user
    std::string account;  // the account the user belongs to; empty: the global account
    std::optional<permissions_option> permissions;
    bool operator==(const user_option&) const = default;
};

enum class response_type { singleton, stream, chunked };

struct export_option {
    bool service = false; // else a stream
    std::string subject;
    std::vector<std::string> accounts; // who may import; empty: anyone
    response_type responses = response_type::singleton;
    std::chrono::nanoseconds response_threshold = std::chrono::minutes(2);
    bool operator==(const export_option&) const = default;
};

struct import_option {
    bool service = false; // else a stream
    std::string account;  // the exporting account
    std::string subject;  // the exported subject (or a subset of it)
    std::string to;       // local subject (service) or remapping (stream); may be empty
    std::string prefix;   // stream imports: prepended to the subject
    bool operator==(const import_option&) const = default;
};

struct account_option {
    std::string name;
    std::vector<export_option> exports;
    std::vector<import_option> imports;
    bool operator==(const account_option&) const = default;
};

// The name nats-server gives the account of users that belong to no other.
inline constexpr const char* global_account_name = "$G";

struct security_options {
    std::string user, password; // authorization { user, password }: the single user
    std::string token;
    // Every user of `authorization { users }` and of each account's `users`.
    std::vector<user_option> users;
    bool users_list = false; // a users list exists (even empty): users must authenticate
    std::string no_auth_user;
    std::vector<account_option> accounts; // declared accounts, without $G
    bool operator==(const security_options&) const = default;
};

} // namespace natrix::config
