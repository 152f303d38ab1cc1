#pragma once
// CONNECT options sent by a client, with nats-server's defaults: verbose and
// pedantic are true when the field is absent (server/client.go defaultOpts),
// which is why every real client sends them explicitly.
#include <string>
#include <string_view>

namespace natrix::protocol {

struct connect_options {
    bool verbose = true;
    bool pedantic = true;
    bool tls_required = false;
    bool echo = true;
    bool headers = false;
    bool no_responders = false;
    long long protocol = 0;
    std::string name, lang, version;
    std::string user, pass, auth_token;
    std::string nkey, sig, jwt;
    // Legacy fields nats-server rejects with Authorization Violation.
    std::string account;
    bool new_account = false;
};

// Parses the JSON object of a CONNECT line the way Go's encoding/json fills
// nats-server's ClientOpts: keys match case-insensitively, unknown keys are
// ignored, null leaves the default, a wrong type is an error. Returns false
// with a readable reason in *error for malformed input; never throws.
bool parse_connect_options(std::string_view json, connect_options& out, std::string* error);

// True when `json` is one well-formed JSON value (INFO from a client is
// checked this way; nats-server closes on a malformed one).
bool is_valid_json(std::string_view json);

} // namespace natrix::protocol
