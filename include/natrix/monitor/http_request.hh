#pragma once
// The head of an HTTP/1.x request, as the monitoring server reads it: request
// line and header fields, bounded in size. Bodies are never read (the
// monitor serves GET and HEAD only, and closes after each answer).
// Plain data and pure functions; any thread.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace natrix::monitor {

struct http_request {
    std::string method;                                       // as sent: "GET"
    std::string target;                                       // as sent: "/connz?limit=2"
    std::string path;                                         // percent-decoded: "/connz"
    std::string query;                                        // raw, without '?': "limit=2"
    int version_minor = 1;                                    // HTTP/1.<minor>
    std::vector<std::pair<std::string, std::string>> headers; // names as sent
};

enum class http_parse_status {
    incomplete, // no blank line yet, and still under the size limit
    complete,   // *head_len bytes form the request head
    bad_request,
    too_large, // no complete head within max_head bytes
};

// Parses the request head at the start of `buf`. Lines end in CRLF (a bare
// LF is accepted, as Go's server does). `error` gets a short reason for
// bad_request. The target may be origin-form ("/x?y") or absolute-form
// ("http://host/x?y").
http_parse_status parse_http_request(std::string_view buf, std::size_t max_head, http_request* out,
                                     std::size_t* head_len, std::string* error = nullptr);

// Percent-decoding; '+' becomes a space when plus_is_space (query strings).
// False on a malformed escape.
bool url_decode(std::string_view in, bool plus_is_space, std::string* out);

} // namespace natrix::monitor
