#pragma once
// Settings natrix does not implement and that, ignored, would let clients in
// unauthenticated, let them do more than the config allows, or carry traffic
// in plain text. They are errors, never warnings: natrix refuses to start
// rather than run more open than the operator asked (fail closed,
// docs/decisions/0010-fail-closed-security-keys.md). Every refusal text is
// made here, in one wording. Internal to the config module.
#include <optional>
#include <string>
#include <string_view>

namespace natrix::config::detail {

// What ignoring the setting would open.
enum class exposure {
    jwt,              // operator, resolver, trusted keys: decentralized JWT authentication
    tls,              // tls {}: encryption and certificate checks
    auth_callout,     // the external authorization service
    section_auth,     // authorization {} of gateway, leafnodes, websocket, mqtt
    connection_types, // a user held to connection types other than STANDARD
};

// The exposure of a top-level key (lowercased) that must fail closed.
std::optional<exposure> fail_closed_top_level(std::string_view key);

// Blocks natrix ignores as a whole (with a warning) but inspects first:
// gateway, leafnodes (leaf), websocket (ws), mqtt. (cluster is read, and
// refuses its tls itself.)
bool is_inspected_section(std::string_view key);

// The exposure of a key (lowercased) inside such a block: `tls` at any
// depth, `authorization`/`authentication` directly in it.
std::optional<exposure> fail_closed_in_section(std::string_view key, bool direct_child);

// "<what> is not supported by natrix yet: <what it would open>; refusing to
// start". `what` names the setting: "'operator'", "'cluster.tls'", "flag -tls".
std::string refusal(std::string_view what, exposure e);

} // namespace natrix::config::detail
