#pragma once
// Go's strconv.Quote, the `%q` that nats-server's logs use (the payloads and
// client names in protocol traces): the text in double quotes, with
//  - \a \b \f \n \r \t \v \\ \" for those characters;
//  - \xNN for other control bytes, DEL, and each byte of invalid UTF-8;
//  - \uNNNN or \UNNNNNNNN for code points Go does not print (C1 controls,
//    format and separator characters, private use, unassigned: the table is
//    generated from Go 1.19's strconv.IsPrint by tools/go_print_ranges.go);
//  - every other character as it is.
// Pure functions, any thread.
#include <cstdint>
#include <string>
#include <string_view>

namespace natrix::util {

// Appends the quoted form of `s` to `out`.
void append_go_quoted(std::string& out, std::string_view s);

// strconv.IsPrint: whether Go writes the code point as it is.
bool go_prints(std::uint32_t cp) noexcept;

} // namespace natrix::util
