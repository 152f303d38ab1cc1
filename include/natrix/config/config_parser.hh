#pragma once
// Parser for nats-server's configuration syntax (conf/lex.go, conf/parse.go
// behaviour; our own implementation). Supported:
//   key = value | key: value | key value      `;` and `,` end a value, as does a newline
//   key { ... }  key [ ... ]                   maps keep file order; arrays split on `,` or newline
//   "dq \t\n\r\"\\\xHH"  'sq'  bare  ( block  ) block strings end at a line holding only `)`
//   42 -7 1.5 2k=2000 2kb=2ki=2kib=2048 … m g t p e   (decimal vs binary units as nats-server)
//   true/false/yes/no/on/off (any case, unquoted) booleans
//   # and // comments; a whole file may be wrapped in { } (JSON style)
//   include ./other.conf    merged into the current map, path relative to the including file
//   $name                   earlier key in this or an enclosing map, else environment
//                           variable (its text is parsed as a value); `$2a$…`/`$2b$…` bcrypt
//                           hashes stay strings
// Durations ("2s", "1h30m") are plain strings here; options parse them.
// Every failure is returned as `file:line:col: message`; nothing throws.
// Stateless: callable from any thread.
#include <cstddef>
#include <string>
#include <string_view>

#include <natrix/config/config_value.hh>

namespace natrix::config {

struct parse_options {
    bool allow_includes = true;
    std::size_t max_include_depth = 16;
    std::size_t max_nesting = 100;            // maps/arrays inside each other
    std::size_t max_nodes = 1'000'000;        // values, counting variable copies
    std::size_t max_string_bytes = 64u << 20; // all string/key bytes, counting copies
    std::size_t max_file_bytes = 16u << 20;   // per file read (config or include)
    bool use_environment = true;              // $name falls back to getenv()
};

struct parse_result {
    value root;        // the top-level map (empty on error)
    std::string error; // empty on success; otherwise "file:line:col: message"
    bool ok() const noexcept { return error.empty(); }
};

// Parses text. `source_name` appears in positions and errors; includes are
// resolved relative to its directory (the working directory when it has none).
parse_result parse_string(std::string_view text, std::string_view source_name = {},
                          const parse_options& options = {});

// Reads and parses a file.
parse_result parse_file(const std::string& path, const parse_options& options = {});

} // namespace natrix::config
