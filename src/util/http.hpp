// HTTP through libcurl for provider/DNS APIs and health checks; curl stays in http.cpp.
#pragma once

#include <atomic>
#include <string>
#include <utility>
#include <vector>

namespace decamp::http {

struct Request {
    std::string method = "GET";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;  // "X-API-Key", "…"
    std::string body;
    int timeout_ms = 10000;
    // Send this Host header (health checks against an address before DNS points there).
    std::string host_header;
    // When set and true, the request is abandoned at once (a probe being stopped); the
    // answer is then an error "cancelled".
    const std::atomic<bool>* cancel = nullptr;
};

struct Response {
    int status = 0;        // 0 when no HTTP answer (see error)
    std::string body;
    // The final answer's headers, names lower-cased (APIs' rate-limit headers).
    std::vector<std::pair<std::string, std::string>> headers;
    std::string error;     // transport error text, "" on an HTTP answer
    double seconds = 0;
};

Response perform(const Request& req);

// The value of header `name` (any case) in `resp`, or "" when absent.
std::string header(const Response& resp, const std::string& name);

}  // namespace decamp::http
