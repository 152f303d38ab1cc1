// authorization {}, accounts {} and their cross-checks, as nats-server's
// opts.go reads them (parseAuthorization, parseUsers, parseUserPermissions,
// parseAccounts, parseExportStreamOrService, parseImportStreamOrService).
#include <algorithm>
#include <cmath>
#include <set>

#include <natrix/config/security_options.hh>
#include <natrix/subjects/subject.hh>

#include "options_mapper.hh"

namespace natrix::config::detail {

namespace {

bool plaintext(const std::string& p) {
    return !p.empty() && p.rfind("$2", 0) != 0;
}

// nats-server's checkPermSubjectArray: a subject, or "subject queue".
std::string bad_permission_subject(const std::string& s) {
    if (subjects::is_valid_subject(s)) return {};
    const std::size_t sp = s.find_first_of(" \t");
    if (sp == std::string::npos) return s;
    const std::string subject = s.substr(0, sp);
    std::size_t q = s.find_first_not_of(" \t", sp);
    if (q == std::string::npos || s.find_first_of(" \t", q) != std::string::npos) return s;
    return subjects::is_valid_subject(subject) ? std::string() : subject;
}

} // namespace

void mapper::authorization_block(const std::string& key, const map_entry& e) {
    if (!e.val.is_map()) {
        type_error(key, e.val, "a map");
        return;
    }
    security_options& s = o_.security;
    std::vector<user_option> users;
    bool has_users = false;
    std::optional<permissions_option> defaults;
    for (const map_entry& x : e.val.as_map()) {
        const std::string k = lowered(x.key);
        if (k == "timeout") {
            auth_timeout(x.val, &o_.auth_timeout);
        } else if (k == "user" || k == "username") {
            get_string(x.key, x.val, &s.user);
        } else if (k == "pass" || k == "password") {
            get_string(x.key, x.val, &s.password);
        } else if (k == "token") {
            get_string(x.key, x.val, &s.token);
        } else if (k == "users") {
            has_users = users_list(x.val, "", &users);
        } else if (k == "default_permission" || k == "default_permissions" || k == "permissions") {
            defaults = permissions(x.val);
        } else if (k == "auth_callout") {
            refuse("'" + key + "." + x.key + "'", x.key_pos, exposure::auth_callout);
        } else {
            unknown(x.key, x);
        }
    }
    if (defaults)
        for (user_option& u : users)
            if (!u.permissions) u.permissions = defaults;
    // nats-server's checks, reported at the block (opts.go).
    if ((!s.user.empty() || !s.password.empty()) && !s.token.empty()) {
        error(e.key_pos, "Cannot have a user/pass and token");
        return;
    }
    if (has_users && !s.user.empty()) {
        error(e.key_pos, "Can not have a single user/pass and a users array");
        return;
    }
    if (has_users && !s.token.empty()) {
        error(e.key_pos, "Can not have a token and a users array");
        return;
    }
    for (std::size_t i = 0; i < users.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (!users[i].user.empty() && users[i].user == users[j].user) {
                error(e.key_pos, "Duplicate user \"" + users[i].user + "\" detected");
                return;
            }
    bool plain = plaintext(s.password);
    for (const user_option& u : users) plain = plain || plaintext(u.password);
    if (plain) warn(key, e.key_pos, "Plaintext passwords detected, use nkeys or bcrypt");
    if (has_users) s.users_list = true;
    for (user_option& u : users) s.users.push_back(std::move(u));
}

void mapper::auth_timeout(const value& v, duration* out) {
    // nats-server takes seconds as an integer or float; a duration string is
    // accepted too.
    duration d{};
    if (v.is_integer() || v.is_float()) {
        double secs = v.is_integer() ? static_cast<double>(v.as_integer()) : v.as_float();
        if (!(secs >= 0 && secs <= 86400.0 * 365)) {
            error(v.pos(), "authorization timeout must be between 0 and one year of seconds");
            return;
        }
        d = duration(static_cast<std::int64_t>(std::llround(secs * 1e9)));
    } else if (v.is_string()) {
        std::string why;
        if (!parse_go_duration(v.as_string(), &d, &why)) {
            error(v.pos(), "error parsing authorization timeout: " + why);
            return;
        }
        if (d.count() < 0) {
            error(v.pos(), "authorization timeout must not be negative");
            return;
        }
    } else {
        type_error("timeout", v, "a number of seconds");
        return;
    }
    *out = d.count() == 0 ? duration(std::chrono::seconds(2)) : d;
}

// users: [ {user, password, permissions} | {nkey, permissions} ... ].
bool mapper::users_list(const value& v, const std::string& account, std::vector<user_option>* out) {
    if (!v.is_array()) {
        type_error("users", v, "an array");
        return false;
    }
    for (const value& u : v.as_array()) {
        if (!u.is_map()) {
            type_error("users", u, "a map");
            continue;
        }
        user_option entry;
        entry.account = account;
        const map_entry* types = nullptr;
        for (const map_entry& x : u.as_map()) {
            const std::string k = lowered(x.key);
            if (k == "user" || k == "username") {
                get_string(x.key, x.val, &entry.user);
            } else if (k == "pass" || k == "password") {
                get_string(x.key, x.val, &entry.password);
            } else if (k == "nkey") {
                get_string(x.key, x.val, &entry.nkey);
            } else if (k == "permission" || k == "permissions" || k == "authorization") {
                entry.permissions = permissions(x.val);
            } else if (k == "allowed_connection_types" || k == "connection_types" ||
                       k == "clients") {
                types = &x; // judged once the user's name is known
            } else {
                unknown(x.key, x);
            }
        }
        if (entry.nkey.empty() && entry.user.empty()) {
            error(u.pos(), "User entry requires a user");
            continue;
        }
        if (!entry.nkey.empty()) {
            // A public user key: 'U' and 56 base32 characters. The auth module
            // checks the checksum when it compiles the users.
            if (entry.nkey.size() != 56 || entry.nkey[0] != 'U') {
                error(u.pos(), "Not a valid public nkey for a user");
                continue;
            }
            if (!entry.user.empty() || !entry.password.empty()) {
                error(u.pos(), "Nkey users do not take usernames or passwords");
                continue;
            }
        }
        if (types)
            connection_types(*types,
                             (account.empty() ? "authorization" : "accounts." + account) +
                                 ".users." + types->key,
                             entry);
        out->push_back(std::move(entry));
    }
    return true;
}

// natrix has STANDARD clients only. A list that allows them changes
// nothing (ignored with a warning); one that does not would let the user in
// where nats-server refuses it, so it is refused.
void mapper::connection_types(const map_entry& x, const std::string& path, const user_option& u) {
    std::vector<const value*> items;
    if (x.val.is_array()) {
        for (const value& t : x.val.as_array()) items.push_back(&t);
    } else {
        items.push_back(&x.val);
    }
    bool standard = items.empty(); // nats-server: an empty list allows every type
    for (const value* t : items) {
        if (!t->is_string()) {
            type_error(x.key, *t, "a connection type such as \"STANDARD\"");
            return;
        }
        standard = standard || lowered(t->as_string()) == "standard";
    }
    if (!standard) {
        const std::string& who = u.nkey.empty() ? u.user : u.nkey;
        refuse("'" + x.key + "' of user \"" + who + "\"", x.key_pos, exposure::connection_types);
        return;
    }
    ignore("users", path, x.key_pos,
           "'" + x.key + "' is not supported by natrix yet; every client is STANDARD");
}

std::optional<permissions_option> mapper::permissions(const value& v) {
    if (!v.is_map()) {
        error(v.pos(),
              "Expected permissions to be a map/struct, got " + std::string(kind_name(v.kind())));
        return std::nullopt;
    }
    permissions_option p;
    for (const map_entry& x : v.as_map()) {
        const std::string k = lowered(x.key);
        if (k == "pub" || k == "publish" || k == "import") {
            p.publish = subject_permissions(x.key, x.val);
        } else if (k == "sub" || k == "subscribe" || k == "export") {
            p.subscribe = subject_permissions(x.key, x.val);
        } else if (k == "publish_allow_responses" || k == "allow_responses") {
            if (x.val.is_bool()) {
                if (x.val.as_bool()) p.responses = response_permission{};
            } else {
                p.responses = allow_responses(x.val);
            }
        } else if (!x.used_as_variable) {
            error(x.key_pos, "Unknown field \"" + x.key + "\" parsing permissions");
        }
    }
    // Responses alone turn off the blanket publish allow (parseUserPermissions).
    if (p.responses) {
        if (!p.publish) p.publish = subject_permission{};
        if (!p.publish->allow) p.publish->allow.emplace();
    }
    return p;
}

std::optional<subject_permission> mapper::subject_permissions(const std::string& key,
                                                              const value& v) {
    subject_permission p;
    if (!v.is_map()) {
        // Old style: a subject or a list of them is the allow list.
        std::vector<std::string> allow;
        if (!permission_subjects(key, v, &allow)) return std::nullopt;
        p.allow = std::move(allow);
        return p;
    }
    if (v.as_map().empty()) return std::nullopt; // nats-server: no restriction
    for (const map_entry& x : v.as_map()) {
        const std::string k = lowered(x.key);
        if (k == "allow") {
            std::vector<std::string> allow;
            if (permission_subjects(x.key, x.val, &allow)) p.allow = std::move(allow);
        } else if (k == "deny") {
            permission_subjects(x.key, x.val, &p.deny);
        } else if (!x.used_as_variable) {
            error(x.key_pos,
                  "Unknown field name \"" + x.key +
                      "\" parsing subject permissions, only 'allow' or 'deny' are permitted");
        }
    }
    return p;
}

bool mapper::permission_subjects(const std::string& key, const value& v,
                                 std::vector<std::string>* out) {
    std::vector<std::string> list;
    if (v.is_string()) {
        list.push_back(v.as_string());
    } else if (v.is_array()) {
        for (const value& s : v.as_array()) {
            if (!s.is_string()) {
                error(s.pos(), "Subject in permissions array cannot be cast to string");
                return false;
            }
            list.push_back(s.as_string());
        }
    } else {
        error(v.pos(),
              "'" + key +
                  "': expected subject permissions to be a subject, or array of subjects, got " +
                  std::string(kind_name(v.kind())));
        return false;
    }
    for (const std::string& s : list) {
        const std::string bad = bad_permission_subject(s);
        if (!bad.empty()) {
            error(v.pos(), "subject \"" + bad + "\" is not a valid subject");
            return false;
        }
    }
    *out = std::move(list);
    return true;
}

std::optional<response_permission> mapper::allow_responses(const value& v) {
    if (!v.is_map()) {
        error(v.pos(), "error parsing response permissions, expected a boolean or a map");
        return std::nullopt;
    }
    response_permission r;
    for (const map_entry& x : v.as_map()) {
        const std::string k = lowered(x.key);
        if (k == "max" || k == "max_msgs" || k == "max_messages" || k == "max_responses") {
            std::int64_t n = 0;
            // Negative means unlimited; 0 keeps the default.
            if (get_range(x.key, x.val, INT32_MIN, INT32_MAX, &n) && n != 0)
                r.max_msgs = static_cast<int>(n);
        } else if (k == "expires" || k == "expiration" || k == "ttl") {
            if (!x.val.is_string()) {
                error(x.val.pos(), "error parsing expires, not a duration string");
                return std::nullopt;
            }
            duration d{};
            std::string why;
            if (!parse_go_duration(x.val.as_string(), &d, &why)) {
                error(x.val.pos(), "error parsing expires: " + why);
                return std::nullopt;
            }
            if (d.count() != 0) r.expires = d;
        } else if (!x.used_as_variable) {
            error(x.key_pos, "Unknown field \"" + x.key + "\" parsing permissions");
        }
    }
    return r;
}

void mapper::accounts_block(const map_entry& e) {
    const value& v = e.val;
    accounts_pos_ = e.key_pos;
    security_options& s = o_.security;
    auto declare = [&](const std::string& name, const position& pos) -> account_option* {
        if (name == global_account_name) {
            error(pos, "\"" + name + "\" is a Reserved Account");
            return nullptr;
        }
        for (const account_option& a : s.accounts)
            if (a.name == name) {
                error(pos, "Duplicate Account Entry: " + name);
                return nullptr;
            }
        s.accounts.push_back(account_option{name, {}, {}});
        return &s.accounts.back();
    };
    if (v.is_array()) {
        for (const value& n : v.as_array()) {
            if (!n.is_string()) {
                type_error("accounts", n, "an account name");
                continue;
            }
            declare(n.as_string(), n.pos());
        }
        return;
    }
    if (!v.is_map()) {
        type_error("accounts", v, "a map or an array of names");
        return;
    }
    for (const map_entry& ae : v.as_map()) {
        if (ae.used_as_variable) continue;
        if (!ae.val.is_map()) {
            error(ae.key_pos, "Expected map entries for accounts");
            continue;
        }
        account_option* a = declare(ae.key, ae.key_pos);
        if (!a) continue;
        std::vector<user_option> users;
        std::optional<permissions_option> defaults;
        for (const map_entry& x : ae.val.as_map()) {
            const std::string k = lowered(x.key);
            if (k == "users") {
                users_list(x.val, a->name, &users);
            } else if (k == "exports") {
                account_exports(x.val, a);
            } else if (k == "imports") {
                account_imports(x.val, a);
            } else if (k == "default_permissions") {
                defaults = permissions(x.val);
            } else if (k == "nkey" || k == "jetstream" || k == "mappings" || k == "maps" ||
                       k == "limits") {
                ignore("accounts", "accounts." + ae.key + "." + x.key, x.key_pos,
                       "accounts." + ae.key + "." + x.key +
                           " is not supported by natrix yet; ignored");
            } else {
                unknown(x.key, x);
            }
        }
        if (!users.empty()) s.users_list = true;
        for (user_option& u : users) {
            if (!u.permissions) u.permissions = defaults;
            s.users.push_back(std::move(u));
        }
    }
}

bool mapper::account_exports(const value& v, account_option* a) {
    if (!v.is_array()) {
        type_error("exports", v, "an array");
        return false;
    }
    for (const value& item : v.as_array()) {
        if (!item.is_map()) {
            error(item.pos(), "Export Items should be a map with type entry, got " +
                                  std::string(kind_name(item.kind())));
            continue;
        }
        export_option ex;
        bool stream = false, service = false, rt_seen = false, thresh_seen = false;
        for (const map_entry& x : item.as_map()) {
            const std::string k = lowered(x.key);
            if (k == "stream" || k == "service") {
                if (stream || service) {
                    error(x.key_pos, "Detected " + k + " but already saw a " +
                                         std::string(stream ? "stream" : "service"));
                    continue;
                }
                if (!get_string(x.key, x.val, &ex.subject)) continue;
                (k == "stream" ? stream : service) = true;
                if (!subjects::is_valid_subject(ex.subject))
                    error(x.val.pos(),
                          "Error adding " + k + " export \"" + ex.subject + "\": invalid subject");
            } else if (k == "response" || k == "response_type") {
                std::string t;
                if (rt_seen) {
                    error(x.key_pos, "Duplicate response type definition");
                    continue;
                }
                rt_seen = true;
                if (!get_string(x.key, x.val, &t)) continue;
                t = lowered(t);
                if (t == "single" || t == "singleton")
                    ex.responses = response_type::singleton;
                else if (t == "stream")
                    ex.responses = response_type::stream;
                else if (t == "chunk" || t == "chunked")
                    ex.responses = response_type::chunked;
                else
                    error(x.val.pos(), "Unknown response type: \"" + x.val.as_string() + "\"");
            } else if (k == "threshold" || k == "response_threshold" || k == "response_max_time" ||
                       k == "response_time") {
                if (thresh_seen) {
                    error(x.key_pos, "Duplicate response threshold detected");
                    continue;
                }
                thresh_seen = true;
                duration d{};
                std::string why;
                if (!x.val.is_string() || !parse_go_duration(x.val.as_string(), &d, &why) ||
                    d.count() <= 0) {
                    error(x.val.pos(),
                          "Expected response threshold to be a parseable time duration");
                    continue;
                }
                ex.response_threshold = d;
            } else if (k == "accounts") {
                if (!x.val.is_array()) {
                    type_error("accounts", x.val, "an array of account names");
                    continue;
                }
                for (const value& n : x.val.as_array())
                    if (n.is_string())
                        ex.accounts.push_back(n.as_string());
                    else
                        type_error("accounts", n, "an account name");
            } else if (k == "latency" || k == "account_token_position") {
                ignore("accounts", "accounts." + a->name + ".exports." + x.key, x.key_pos,
                       "exports." + x.key + " is not supported by natrix yet; ignored");
            } else {
                unknown(x.key, x);
            }
        }
        if (!stream && !service) {
            error(item.pos(), "Export Items should be a map with type entry");
            continue;
        }
        if (stream && (rt_seen || thresh_seen)) {
            error(item.pos(), "Detected response directive on non-service");
            continue;
        }
        ex.service = service;
        a->exports.push_back(std::move(ex));
    }
    return true;
}

bool mapper::account_imports(const value& v, account_option* a) {
    if (!v.is_array()) {
        type_error("imports", v, "an array");
        return false;
    }
    for (const value& item : v.as_array()) {
        if (!item.is_map()) {
            error(item.pos(), "Import Items should be a map with type entry, got " +
                                  std::string(kind_name(item.kind())));
            continue;
        }
        import_option im;
        bool stream = false, service = false;
        for (const map_entry& x : item.as_map()) {
            const std::string k = lowered(x.key);
            if (k == "stream" || k == "service") {
                if (stream || service) {
                    error(x.key_pos, "Detected " + k + " but already saw a " +
                                         std::string(stream ? "stream" : "service"));
                    continue;
                }
                if (!x.val.is_map()) {
                    error(x.val.pos(), std::string(k == "stream" ? "Stream" : "Service") +
                                           " entry should be an account map, got " +
                                           std::string(kind_name(x.val.kind())));
                    continue;
                }
                for (const map_entry& y : x.val.as_map()) {
                    const std::string yk = lowered(y.key);
                    if (yk == "account")
                        get_string(y.key, y.val, &im.account);
                    else if (yk == "subject")
                        get_string(y.key, y.val, &im.subject);
                    else
                        unknown(y.key, y);
                }
                if (im.account.empty() || im.subject.empty()) {
                    error(x.key_pos, "Expect an account name and a subject");
                    continue;
                }
                (k == "stream" ? stream : service) = true;
            } else if (k == "prefix") {
                get_string(x.key, x.val, &im.prefix);
            } else if (k == "to") {
                get_string(x.key, x.val, &im.to);
            } else if (k == "share") {
                bool b = false;
                get_bool(x.key, x.val, &b); // latency sharing: nothing to share yet
            } else {
                unknown(x.key, x);
            }
        }
        if (!stream && !service) {
            error(item.pos(), "Import Items should be a map with type entry");
            continue;
        }
        if (stream && !im.prefix.empty() && !im.to.empty()) {
            error(item.pos(), "Stream import can not have a 'prefix' and a 'to' property");
            continue;
        }
        if (!im.prefix.empty() && !subjects::is_literal(im.prefix)) {
            error(item.pos(), "Error adding stream import \"" + im.subject +
                                  "\": stream import prefix can not contain wildcard tokens");
            continue;
        }
        if (!subjects::is_valid_subject(im.subject) ||
            (!im.to.empty() && !subjects::is_valid_subject(im.to))) {
            error(item.pos(), "Error adding " + std::string(stream ? "stream" : "service") +
                                  " import \"" + im.subject + "\": invalid subject");
            continue;
        }
        im.service = service;
        a->imports.push_back(std::move(im));
    }
    return true;
}

// Checks that need the whole file: users unique across accounts, imports
// that name an account and an export that allows them, no_auth_user.
void mapper::check_security(const position& root) {
    const position& where = accounts_pos_.file ? accounts_pos_ : root;
    security_options& s = o_.security;
    const bool account_users = std::any_of(s.users.begin(), s.users.end(),
                                           [](const user_option& u) { return !u.account.empty(); });
    if (account_users && !s.user.empty())
        error(where, "Can not have a single user/pass and accounts");
    if (account_users && !s.token.empty()) error(where, "Can not have a token and accounts");
    std::set<std::string> seen;
    for (const user_option& u : s.users) {
        const std::string& id = u.nkey.empty() ? u.user : u.nkey;
        if (!seen.insert(id).second)
            error(where, std::string(u.nkey.empty() ? "Duplicate user" : "Duplicate nkey") + " \"" +
                             id + "\" detected");
    }
    auto find = [&](const std::string& name) -> const account_option* {
        for (const account_option& a : s.accounts)
            if (a.name == name) return &a;
        return nullptr;
    };
    for (const account_option& a : s.accounts) {
        for (const export_option& ex : a.exports)
            for (const std::string& n : ex.accounts)
                if (!find(n))
                    error(where, "\"" + n + "\" account not defined for " +
                                     (ex.service ? "service" : "stream") + " export");
        for (const import_option& im : a.imports) {
            const char* kind = im.service ? "service" : "stream";
            const account_option* from = find(im.account);
            if (!from) {
                error(where, "\"" + im.account + "\" account not defined for " + kind + " import");
                continue;
            }
            // The import must fall inside an export of the same kind that is
            // public or names the importer.
            bool ok = false;
            for (const export_option& ex : from->exports) {
                if (ex.service != im.service) continue;
                const bool covered = im.service
                                         ? subjects::is_subset_match(im.subject, ex.subject) ||
                                               subjects::is_subset_match(ex.subject, im.subject)
                                         : subjects::is_subset_match(im.subject, ex.subject);
                if (!covered) continue;
                ok = ex.accounts.empty() ||
                     std::find(ex.accounts.begin(), ex.accounts.end(), a.name) != ex.accounts.end();
                break;
            }
            if (!ok)
                error(where, "Error adding " + std::string(kind) + " import \"" + im.subject +
                                 "\": " + kind + " import not authorized");
        }
    }
    bool plain = false;
    for (const user_option& u : s.users)
        if (!u.account.empty()) plain = plain || plaintext(u.password);
    if (plain) warn("accounts", where, "Plaintext passwords detected, use nkeys or bcrypt");
}

} // namespace natrix::config::detail
