#pragma once
// The bookkeeping of stream and service imports on one shard: which import
// routes a subject published in an account triggers (cached), and the private
// reply subjects that lead a service response back to its requester. It
// decides nothing about delivery: the router publishes what it answers.
//
// Lives on a shard; only its thread touches it (the router's member).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/auth/accounts.hh>
#include <natrix/broker/message.hh>
#include <natrix/config/security_options.hh>
#include <natrix/util/string_map.hh>

namespace natrix::broker {

class import_table {
public:
    import_table(unsigned shard, std::shared_ptr<const auth::account_set> accounts);

    const auth::account_set& accounts() const noexcept { return *accounts_; }
    // Reload: same accounts, maybe other imports/exports.
    void set_accounts(std::shared_ptr<const auth::account_set> accounts);

    // An import route a subject published in an account triggers, with the
    // subject it takes on the other side.
    struct target {
        bool service = false;
        std::uint32_t route = 0; // index into stream_exports / service_imports
        std::string subject;
    };
    // Routes change only on reload (which clears this); per account, bounded.
    const std::vector<target>& targets(auth::account_id acct, std::string_view subject);

    // The private reply prefix of this shard in `exporter` ("_R_.xxxxxx."),
    // made on first use; `created` tells the router to subscribe to it.
    const std::string& reply_prefix(auth::account_id exporter, std::mt19937_64& rng, bool* created);
    // A fresh reply subject under `prefix` that leads back to `reply` in
    // `importer`; empty when the table is full (the request then crosses
    // without a reply, and its requester times out).
    std::string map_reply(const std::string& prefix, const auth::service_route& r,
                          auth::account_id importer, std::string_view reply, std::mt19937_64& rng);
    void forget(const std::string& token) { replies_.erase(token); }

    // Where a response on `subject` goes: nullopt when it is answered
    // already, expired or forged. `delivered_nowhere` is called back by the
    // router when a non-final response reached nobody (the mapping ends).
    struct response_route {
        auth::account_id importer = 0;
        std::string reply;
        bool final = false; // the mapping is gone after this response
    };
    std::optional<response_route> route_response(std::string_view subject, bool empty_response);

    void expire(clock::time_point now);
    bool empty() const noexcept { return replies_.empty(); }

private:
    struct pending_reply {
        auth::account_id importer = 0;
        std::string reply;
        config::response_type type = config::response_type::singleton;
        std::chrono::nanoseconds threshold{};
        clock::time_point expires;
    };
    static constexpr std::size_t k_max_pending_replies = 1 << 20;

    unsigned shard_;
    std::shared_ptr<const auth::account_set> accounts_;
    std::vector<util::string_map<std::vector<target>>> cache_; // per account
    util::string_map<pending_reply> replies_;
    std::vector<std::string> prefix_; // per exporting account; "" until used
    bool cap_warned_ = false;
};

} // namespace natrix::broker
