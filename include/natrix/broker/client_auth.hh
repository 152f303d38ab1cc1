#pragma once
// Authentication of a client session, as nats-server 2.9 does it: the auth
// deadline and the first byte before CONNECT, CONNECT itself (checked inline,
// or on the auth worker for bcrypt while the client's input waits), and the
// re-check of connected clients after a reload.
//
// Lives on a shard; only its thread calls it. A verdict from the auth worker
// comes back as a task on the shard's loop; the session's parked input is then
// handed to `resume` (the client protocol), which this part never calls
// directly.
#include <functional>
#include <memory>
#include <random>
#include <string_view>

#include <natrix/broker/auth_worker.hh>
#include <natrix/broker/broker_config.hh>
#include <natrix/broker/loop.hh>
#include <natrix/broker/protocol_deps.hh>
#include <natrix/broker/router.hh>
#include <natrix/broker/session_table.hh>
#include <natrix/broker/shard_stats.hh>
#include <natrix/protocol/op.hh>

namespace natrix::broker {

class client_auth {
public:
    using deps = protocol_deps; // `mail` is not used
    client_auth(const deps& d, std::function<void(session&)> resume);

    // A new session: the auth deadline and the NKey nonce (before INFO).
    void admit(session& s);
    // Before CONNECT only a CONNECT may come, unless no_auth_user binds the
    // client at once. False when the client is refused.
    bool check_first_byte(session& s, std::string_view data);
    void connect(session& s, const protocol::parsed_op& op);
    // A reload replaced the authenticator: judge a connected client again.
    void reauthorize(session& s, const auth::authenticator* previous);

private:
    void finish_connect(session& s, auth::result r);
    void apply_reauth(session& s, auth::result r);
    void check_off_thread(session& s, bool use_no_auth_user, bool reload);
    void complete(std::uint64_t token, std::shared_ptr<const auth::authenticator> checked_by,
                  auth::result r, bool reload);
    void refuse(session& s);

    unsigned nshards_;
    const broker_config& cfg_;
    session_table& sessions_;
    router& router_;
    shard_stats& stats_;
    auth_worker* auth_jobs_;
    loop* home_;
    std::function<void(session&)> resume_;
    std::mt19937_64 rng_;
};

} // namespace natrix::broker
