#pragma once
// The one table of protocol -ERR texts natrix sends, identical to nats-server
// 2.9. Clients match these by case-insensitive substring, so the wording is
// part of the wire contract: change nothing here without a conformance case.
#include <string_view>

namespace natrix::protocol {

enum class proto_error : unsigned char {
    unknown_protocol_operation,
    authorization_violation,
    authentication_timeout,
    maximum_payload_violation,
    maximum_control_line_exceeded,
    maximum_connections_exceeded,
    maximum_subscriptions_exceeded,
    invalid_subject,
    invalid_publish_subject,
    stale_connection,
    invalid_client_protocol,
    no_responders_requires_headers,
    secure_connection_tls_required,
    count_ // keep last
};

struct proto_error_info {
    std::string_view text;  // what goes between the quotes of -ERR '...'
    bool closes_connection; // nats-server closes the connection after sending it
};

const proto_error_info& error_info(proto_error e) noexcept;
inline std::string_view error_text(proto_error e) noexcept {
    return error_info(e).text;
}
inline bool error_closes(proto_error e) noexcept {
    return error_info(e).closes_connection;
}

// Permission violations carry the subject (Go %q quoting, as nats-server).
// Returns the number of bytes written into buf (the text without -ERR framing).
std::size_t format_pub_permission_violation(char* buf, std::size_t cap, std::string_view subject);
std::size_t format_sub_permission_violation(char* buf, std::size_t cap, std::string_view subject,
                                            std::string_view queue);
// A reply subject a client may not use (reserved: _R_., $JS.ACK., _GR_.).
std::size_t format_reply_permission_violation(char* buf, std::size_t cap, std::string_view reply);
// A subscription removed because a reload took the permission away.
std::size_t format_sub_permission_revoked(char* buf, std::size_t cap, std::string_view subject,
                                          std::string_view sid);

} // namespace natrix::protocol
