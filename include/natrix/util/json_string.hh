#pragma once
// A string as a JSON literal, escaped exactly as Go's encoding/json does it
// (HTML-safe: <, > and & as \u00XX; U+2028/2029 escaped; invalid UTF-8 as
// \ufffd), so that what natrix writes (monitoring answers, CONNECT in
// natrix-bench, headers it adds) reads like nats-server's. Any thread.
#include <string>
#include <string_view>

namespace natrix::util {

// Appends s as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view s);

} // namespace natrix::util
