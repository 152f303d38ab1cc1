#pragma once
// Accounts: isolated subject namespaces, and what they share through
// exports and imports (nats-server accounts.go). Account 0 is the global
// account $G, home of users that name no account.
//
// Built once from the config by the control thread, then immutable and
// shared by every shard (shared_ptr<const account_set>); shards look up
// imports on their publish path without locking.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/auth/subject_transform.hh>
#include <natrix/config/security_options.hh>

namespace natrix::auth {

using account_id = std::uint16_t;
inline constexpr account_id global_account = 0;

// Kept by the exporting account: a message published there on a subject
// `subject` matches also reaches `importer`, as `map.apply(subject)`.
struct stream_route {
    account_id importer = 0;
    std::string subject;
    subject_transform map;
};

// Kept by the importing account: a message published there on a subject
// `local` matches also goes to `exporter` as `map.apply(subject)`, with its
// reply mapped back through a private _R_ subject.
struct service_route {
    account_id exporter = 0;
    std::string local;
    subject_transform map;
    config::response_type responses = config::response_type::singleton;
    std::chrono::nanoseconds threshold = std::chrono::minutes(2);
};

struct account {
    std::string name;
    account_id id = 0;
    std::vector<stream_route> stream_exports;   // who imports my streams
    std::vector<service_route> service_imports; // services I import
    bool exports_services = false;              // responders here may answer _R_ replies
};

class account_set {
public:
    account_set(); // only $G
    // Errors (unknown accounts, bad transforms) go to *errors; the config
    // module already checked authorization of imports.
    explicit account_set(const std::vector<config::account_option>& accounts,
                         std::vector<std::string>* errors = nullptr);

    std::size_t size() const noexcept { return accounts_.size(); }
    const account& at(account_id id) const noexcept { return accounts_[id]; }
    std::optional<account_id> find(std::string_view name) const noexcept;
    // True when some account imports or exports anything: publish must look.
    bool any_routes() const noexcept { return any_routes_; }

private:
    std::vector<account> accounts_;
    bool any_routes_ = false;
};

} // namespace natrix::auth
