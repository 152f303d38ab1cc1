#pragma once
// The 6-character hashes of nats-server's _GR_. reply prefix (brief §2.6,
// events.go getHashSize): the first 6 bytes of SHA-256(name), each mapped to
// "0-9A-Za-z" by its value mod 62. Of a cluster's gateway name and of a
// server's id. Pure; any thread.
#include <string>
#include <string_view>

namespace natrix::broker {

std::string gateway_hash(std::string_view name);

// "_GR_.<hash(cluster)>.<hash(server id)>."
inline std::string gateway_reply_prefix(std::string_view cluster, std::string_view server_id) {
    return "_GR_." + gateway_hash(cluster) + "." + gateway_hash(server_id) + ".";
}

} // namespace natrix::broker
