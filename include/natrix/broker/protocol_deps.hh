#pragma once
// The shard's parts a connection protocol works with (client_protocol and its
// client_auth part; routes and gateways later). Pointers, because the shard
// owns them all and outlives the protocol objects.
//
// Built on the shard's thread; the parts are used there only.

namespace natrix::broker {

class auth_worker;
class loop;
class mailbox;
class router;
class session_table;
struct broker_config;
struct shard_stats;

struct protocol_deps {
    unsigned shard = 0;
    unsigned nshards = 1;
    const broker_config* cfg = nullptr;
    session_table* sessions = nullptr;
    router* routes = nullptr;
    mailbox* mail = nullptr;
    shard_stats* stats = nullptr;
    auth_worker* auth_jobs = nullptr; // bcrypt checks; null: checked inline
    loop* home = nullptr;             // where the auth worker's verdicts come back
};

} // namespace natrix::broker
