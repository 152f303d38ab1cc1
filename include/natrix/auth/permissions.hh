#pragma once
// A user's publish/subscribe permissions, compiled from the config with
// nats-server 2.9's semantics (client.go canSubscribe, pubAllowedFullCheck,
// checkDenySub): an allow list, when present, admits only what it matches;
// deny always wins; subscribe entries may name a queue group.
//
// Immutable once built and shared (shared_ptr<const permissions>) by every
// connection of the user on every shard: all methods are const and read
// only, so shards call them concurrently without locking. Per-connection
// state (publish cache, reply allowances) lives in the connection.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/config/security_options.hh>

namespace natrix::auth {

class permissions {
public:
    explicit permissions(const config::permissions_option& o);

    // The static publish rules exist (allow and/or deny): PUB must be checked.
    bool restricts_publish() const noexcept { return pub_allow_.has_value() || !pub_deny_.empty(); }
    // allow/deny only; reply allowances are the caller's (see responses()).
    bool publish_allowed(std::string_view subject) const noexcept;

    // SUB subject (may hold wildcards) with an optional queue group.
    bool subscribe_allowed(std::string_view subject, std::string_view queue) const noexcept;
    // A wildcard SUB that covers a denied subject: its deliveries must be
    // filtered with delivery_denied().
    bool needs_delivery_filter(std::string_view subject) const noexcept;
    bool delivery_denied(std::string_view literal_subject) const noexcept;

    // allow_responses, if granted.
    const std::optional<config::response_permission>& responses() const noexcept {
        return responses_;
    }

private:
    struct entry {
        std::string subject;
        std::string queue; // empty: a plain entry
    };
    static std::vector<entry> split_entries(const std::vector<std::string>& list);

    std::optional<std::vector<std::string>> pub_allow_;
    std::vector<std::string> pub_deny_;
    std::optional<std::vector<entry>> sub_allow_;
    std::vector<entry> sub_deny_;
    std::optional<config::response_permission> responses_;
};

} // namespace natrix::auth
