#pragma once
// Protocol tracing (-V, -DV, `trace: true`), line for line as nats-server
// 2.9.10 writes it at [TRC]:
//   127.0.0.1:51044 - cid:4 - "v1.2.3:go:orders" - <<- [PUB foo 5]
//   127.0.0.1:51044 - cid:4 - "v1.2.3:go:orders" - <<- MSG_PAYLOAD: ["hello"]
//   127.0.0.1:51046 - cid:5 - ->> [MSG foo 1 5]
//   127.0.0.1:51046 - cid:5 - <-> [DELSUB 1]
// The quoted part names the client once its CONNECT gave a version, lang or
// name. CONNECT's secrets read [REDACTED]: every password, token, signature
// and nkey, by the rules of later nats-server releases (2.9.10 hides only the
// first password; docs/protocol_compatibility.md).
//
// Each call site guards with util::trace_enabled(), so tracing costs one
// predictable branch while it is off and nothing here runs. Called on the
// session's shard.
#include <string>
#include <string_view>

#include <natrix/broker/session.hh>
#include <natrix/protocol/op.hh>

namespace natrix::broker {

// <<- [OP arg]: an op the client sent (CONNECT, PUB, HPUB, SUB, UNSUB, PING,
// PONG; others are not traced, as in nats-server).
void trace_in(const session& s, protocol::op_kind kind, std::string_view arg);
// <<- MSG_PAYLOAD: ["..."], headers included, cut at max_traced_msg_len.
void trace_payload(const session& s, std::string_view payload);
// ->> [OP arg]: what the server sends: "OK", "PING", "PONG", "-ERR" with the
// text between the quotes, or a MSG/HMSG control line as `op`.
void trace_out(const session& s, std::string_view op, std::string_view arg = {});
// A route's control line, received (<<-) or sent (->>), as nats-server traces
// routes: "127.0.0.1:6222 - rid:1 - <<- [RS+ $G foo]".
void trace_route(const session& s, bool in, std::string_view line);
// <-> [DELSUB sid]: a subscription removed (UNSUB, auto-unsubscribe, close).
void trace_delsub(const session& s, std::string_view sid);

// The text of those lines after the log's "[pid] time [TRC] " (for tests).
// trace_in_line is empty for an op that is not traced.
std::string trace_in_line(const session& s, protocol::op_kind kind, std::string_view arg);
std::string trace_payload_line(const session& s, std::string_view payload, int max_len);
std::string trace_out_line(const session& s, std::string_view op, std::string_view arg);
std::string trace_delsub_line(const session& s, std::string_view sid);
std::string trace_route_line(const session& s, bool in, std::string_view line);
// CONNECT's JSON with the value of every pass*, auth_token*, sig, proxy_sig
// and nkey field replaced by [REDACTED] (nats-server's removeSecretsFromTrace
// patterns, matched by hand).
std::string redact_secrets(std::string_view connect_json);

} // namespace natrix::broker
