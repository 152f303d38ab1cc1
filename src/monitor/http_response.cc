#include <cstdio>
#include <ctime>

#include <natrix/monitor/http_response.hh>

namespace natrix::monitor {

http_response http_response::text(int status, std::string body) {
    http_response r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::move(body);
    return r;
}

http_response http_response::json(std::string body) {
    http_response r;
    r.body = std::move(body);
    return r;
}

std::string_view http_reason(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

std::string serialize_response(const http_response& r, bool head_only) {
    char date[64];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    std::string out;
    out.reserve(r.body.size() + 256);
    out += "HTTP/1.1 " + std::to_string(r.status) + " ";
    out += http_reason(r.status);
    out += "\r\nContent-Type: " + r.content_type;
    out += "\r\nContent-Length: " + std::to_string(r.body.size());
    out += "\r\nDate: ";
    out += date;
    for (const auto& [k, v] : r.headers) out += "\r\n" + k + ": " + v;
    out += "\r\nConnection: close\r\n\r\n";
    if (!head_only) out += r.body;
    return out;
}

} // namespace natrix::monitor
