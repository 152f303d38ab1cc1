#pragma once
// One answer of the monitoring server and its wire form. Every answer
// carries Content-Length and "Connection: close". Plain data; any thread.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace natrix::monitor {

struct http_response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers; // extra fields

    static http_response text(int status, std::string body);
    static http_response json(std::string body);
};

// Reason phrase for the status codes the monitor uses ("Not Found").
std::string_view http_reason(int status);

// Status line, fields (with a Date), blank line and, unless head_only, the body.
std::string serialize_response(const http_response& r, bool head_only);

} // namespace natrix::monitor
