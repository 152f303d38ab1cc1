#include "fail_closed.hh"

#include <algorithm>
#include <iterator>

namespace natrix::config::detail {

namespace {

struct fail_closed_key {
    std::string_view key;
    exposure what;
};

// nats-server's spellings and aliases (server/opts.go), plus trusted_operators
// (the Go option name, in case a config spells it so).
constexpr fail_closed_key top_level_keys[] = {
    {"operator", exposure::jwt},
    {"operators", exposure::jwt},
    {"roots", exposure::jwt},
    {"root", exposure::jwt},
    {"root_operators", exposure::jwt},
    {"root_operator", exposure::jwt},
    {"trusted_operators", exposure::jwt},
    {"trusted", exposure::jwt},
    {"trusted_keys", exposure::jwt},
    {"resolver", exposure::jwt},
    {"account_resolver", exposure::jwt},
    {"accounts_resolver", exposure::jwt},
    {"resolver_tls", exposure::jwt},
    {"resolver_preload", exposure::jwt},
    {"resolver_pinned_accounts", exposure::jwt},
    {"auth_callout", exposure::auth_callout},
};

// cluster {} and gateway {} are read (cluster_options.cc, gateway_options.cc),
// which refuse their tls themselves.
constexpr std::string_view inspected_sections[] = {"leafnodes", "leaf", "websocket", "ws", "mqtt"};

} // namespace

std::optional<exposure> fail_closed_top_level(std::string_view key) {
    for (const fail_closed_key& k : top_level_keys)
        if (k.key == key) return k.what;
    return std::nullopt;
}

bool is_inspected_section(std::string_view key) {
    return std::find(std::begin(inspected_sections), std::end(inspected_sections), key) !=
           std::end(inspected_sections);
}

std::optional<exposure> fail_closed_in_section(std::string_view key, bool direct_child) {
    if (key == "tls") return exposure::tls;
    if (direct_child && (key == "authorization" || key == "authentication"))
        return exposure::section_auth;
    return std::nullopt;
}

std::string refusal(std::string_view what, exposure e) {
    std::string_view why;
    switch (e) {
    case exposure::jwt:
        why = "decentralized JWT authentication would be disabled";
        break;
    case exposure::tls:
        why = "connections would be plain text, unencrypted and with no certificate checks";
        break;
    case exposure::auth_callout:
        why = "clients would be let in without asking the auth callout service";
        break;
    case exposure::section_auth:
        why = "those connections would not be authenticated";
        break;
    case exposure::connection_types:
        why = "every client is STANDARD, which this list does not allow, so the user would get "
              "in where nats-server refuses it";
        break;
    }
    return std::string(what) + " is not supported by natrix yet: " + std::string(why) +
           "; refusing to start";
}

} // namespace natrix::config::detail
