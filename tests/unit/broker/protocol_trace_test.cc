#include <gtest/gtest.h>

#include <natrix/broker/protocol_trace.hh>

using namespace natrix;
using broker::redact_secrets;
using protocol::op_kind;

namespace {

struct traced_session : broker::session {
    traced_session()
        : broker::session(protocol::parser_config{}) {
        ip = "127.0.0.1";
        port = 51044;
        cid = 4;
    }
};

} // namespace

// Expected lines are nats-server 2.9.10's for the same input (its [TRC] text
// after "[pid] time [TRC] "); tests/conformance/trace.py compares whole sessions.
TEST(protocol_trace, lines_in_nats_server_format) {
    traced_session s;
    EXPECT_EQ(broker::trace_in_line(s, op_kind::pub, "foo   5 "),
              "127.0.0.1:51044 - cid:4 - <<- [PUB foo   5 ]");
    EXPECT_EQ(broker::trace_in_line(s, op_kind::hpub, "foo 12 14"),
              "127.0.0.1:51044 - cid:4 - <<- [HPUB foo 12 14]");
    EXPECT_EQ(broker::trace_in_line(s, op_kind::sub, "foo q 1"),
              "127.0.0.1:51044 - cid:4 - <<- [SUB foo q 1]");
    EXPECT_EQ(broker::trace_in_line(s, op_kind::unsub, ""),
              "127.0.0.1:51044 - cid:4 - <<- [UNSUB ]");
    EXPECT_EQ(broker::trace_in_line(s, op_kind::ping, {}), "127.0.0.1:51044 - cid:4 - <<- [PING]");
    EXPECT_EQ(broker::trace_in_line(s, op_kind::pong, {}), "127.0.0.1:51044 - cid:4 - <<- [PONG]");
    EXPECT_EQ(broker::trace_in_line(s, op_kind::connect, R"({"user":"a","pass":"b"})"),
              R"(127.0.0.1:51044 - cid:4 - <<- [CONNECT {"user":"a","pass":"[REDACTED]"}])");
    // nats-server does not trace INFO, +OK or -ERR from a client.
    EXPECT_EQ(broker::trace_in_line(s, op_kind::info, "{}"), "");
    EXPECT_EQ(broker::trace_in_line(s, op_kind::ok, {}), "");
    EXPECT_EQ(broker::trace_in_line(s, op_kind::err, "'x'"), "");

    EXPECT_EQ(broker::trace_out_line(s, "OK", {}), "127.0.0.1:51044 - cid:4 - ->> [OK]");
    EXPECT_EQ(broker::trace_out_line(s, "MSG foo 1 r 5", {}),
              "127.0.0.1:51044 - cid:4 - ->> [MSG foo 1 r 5]");
    EXPECT_EQ(broker::trace_out_line(s, "-ERR", "Permissions Violation for Publish to \"x\""),
              "127.0.0.1:51044 - cid:4 - ->> [-ERR Permissions Violation for Publish to \"x\"]");
    EXPECT_EQ(broker::trace_delsub_line(s, "7"), "127.0.0.1:51044 - cid:4 - <-> [DELSUB 7]");
}

TEST(protocol_trace, routes_are_traced_by_rid) {
    traced_session s;
    s.port = 6222;
    s.cid = 1;
    s.route = std::make_unique<broker::route_link>();
    EXPECT_EQ(broker::trace_route_line(s, true, "RS+ $G foo"),
              "127.0.0.1:6222 - rid:1 - <<- [RS+ $G foo]");
    EXPECT_EQ(broker::trace_route_line(s, false, "RMSG $G foo + r q 5"),
              "127.0.0.1:6222 - rid:1 - ->> [RMSG $G foo + r q 5]");
}

TEST(protocol_trace, the_client_is_named_once_connect_names_it) {
    traced_session s;
    s.opts.lang = "go";
    EXPECT_EQ(broker::trace_out_line(s, "PONG", {}),
              "127.0.0.1:51044 - cid:4 - \"go\" - ->> [PONG]");
    s.opts.version = "1.2.3";
    s.opts.name = "sub\"x";
    EXPECT_EQ(broker::trace_out_line(s, "PONG", {}),
              R"(127.0.0.1:51044 - cid:4 - "v1.2.3:go:sub\"x" - ->> [PONG])");
    s.opts.lang.clear();
    s.opts.version.clear();
    EXPECT_EQ(broker::trace_out_line(s, "PONG", {}),
              R"(127.0.0.1:51044 - cid:4 - "sub\"x" - ->> [PONG])");
    s.ip = "::1";
    s.opts.name.clear();
    EXPECT_EQ(broker::trace_out_line(s, "PONG", {}), "[::1]:51044 - cid:4 - ->> [PONG]");
}

TEST(protocol_trace, payloads_in_go_quotes_cut_at_max_traced_msg_len) {
    traced_session s;
    const std::string p = "127.0.0.1:51044 - cid:4 - <<- MSG_PAYLOAD: ";
    EXPECT_EQ(broker::trace_payload_line(s, "hello", 0), p + R"(["hello"])");
    EXPECT_EQ(broker::trace_payload_line(s, "", 0), p + R"([""])");
    EXPECT_EQ(broker::trace_payload_line(s, "NATS/1.0\r\n\r\nhi", 0),
              p + R"(["NATS/1.0\r\n\r\nhi"])");
    EXPECT_EQ(broker::trace_payload_line(s, "\"\x01\xff\\", 0), p + R"(["\"\x01\xff\\"])");
    EXPECT_EQ(broker::trace_payload_line(s, "abcd", 4), p + R"(["abcd"])");
    EXPECT_EQ(broker::trace_payload_line(s, "abcdef", 4), p + R"(["abcd..."])");
    // nats-server keeps max_len bytes of the quoted text, cutting an escape.
    EXPECT_EQ(broker::trace_payload_line(s, "\x01\x02\x03\x04\x05", 4), p + R"(["\x01..."])");
    EXPECT_EQ(broker::trace_payload_line(s, "ab\xe9\x99z", 4), p + R"(["ab\x..."])");
    EXPECT_EQ(broker::trace_payload_line(s, "abcdef", -1), p + R"(["abcdef"])");
}

TEST(protocol_trace, secrets_are_redacted) {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {R"({"user":"derek","pass":"s3cr3t"})", R"({"user":"derek","pass":"[REDACTED]"})"},
        {R"({"pass":  "s3cr3t" , "x":1})", R"({"pass":  "[REDACTED]" , "x":1})"},
        {R"({"pass":""})", R"({"pass":"[REDACTED]"})"},
        {R"({"pass":"   "})", R"({"pass":"[REDACTED]"})"},
        {R"({"pass":"a b c"})", R"({"pass":"[REDACTED]"})"},
        {R"({"password":"x", "pass":"y"})", R"({"password":"[REDACTED]", "pass":"[REDACTED]"})"},
        {"{pass:s3cr3t ,   password =  s3cr3t}", "{pass:[REDACTED],   password =  [REDACTED]}"},
        {"{pass = \"a\",pass= \"b\"}", "{pass = \"[REDACTED]\",pass= \"[REDACTED]\"}"},
        {"{pass:s3cr3t\r\n", "{pass:[REDACTED]\r\n"},
        {R"({"user":"s3cr3t","pass":"s3cr3t","name":"s3cr3t"})",
         R"({"user":"s3cr3t","pass":"[REDACTED]","name":"s3cr3t"})"},
        {R"({"auth_token":"t0k"})", R"({"auth_token":"[REDACTED]"})"},
        {R"({"auth_tokens" : "t0k"})", R"({"auth_tokens" : "[REDACTED]"})"},
        {R"({"sig":"abc","nkey":"UABC","proxy_sig":"ps","jwt":"eyJ"})",
         R"({"sig":"[REDACTED]","nkey":"[REDACTED]","proxy_sig":"[REDACTED]","jwt":"eyJ"})"},
        // Only whole keys for sig and nkey; pass and auth_token as prefixes.
        {R"({"mysig":"a","signature":"b","nkeys":"c"})",
         R"({"mysig":"a","signature":"b","nkeys":"c"})"},
        {R"({"passport":"x"})", R"({"passport":"[REDACTED]"})"},
        // No key-value shape: nothing to hide.
        {R"({"name":"pass"})", R"({"name":"pass"})"},
        {"sig", "sig"},
        {"sig:x", "sig:[REDACTED]"},
        {"", ""},
    };
    for (const auto& [in, want] : cases) EXPECT_EQ(redact_secrets(in), want) << in;
}

TEST(protocol_trace, redaction_is_linear_in_a_hostile_line) {
    // \S*? after "pass" must not rescan a long run of keys for every key.
    std::string line;
    for (int i = 0; i < 100000; ++i) line += "pass";
    EXPECT_EQ(redact_secrets(line), line);
    EXPECT_EQ(redact_secrets(line + ":x"), line + ":[REDACTED]");
}
