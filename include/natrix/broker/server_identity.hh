#pragma once
// What natrix says it is. INFO "version" is the nats-server protocol level
// natrix implements, so clients that gate features on the server version
// behave as with 2.9.10; natrix's own version travels in "go"
// (docs/decisions/0005-engine.md).
#include <string>

namespace natrix::broker {

inline constexpr const char* server_version = "2.9.10";
inline constexpr const char* natrix_version = "0.1.0";
inline constexpr const char* server_go_field = "natrix-0.1.0";

// A nats-server-style id: 'N' followed by 55 base32 characters.
std::string generate_server_id();

} // namespace natrix::broker
