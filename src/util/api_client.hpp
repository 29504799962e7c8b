// One HTTP client for the APIs of providers and DNS back-ends: base URL, auth headers, and a
// retry policy per API (which answers mean "rate limited", how long to wait, what is never
// retried), built from the shared rules below so every API reads Retry-After and rate-limit
// headers the same way. Wrong credentials are never retried: Hetzner Robot locks an address
// out after three failed logins, Cloudflare counts failures towards its block.
// Every error text passes the redactor (util/http masks error bodies), so a token that an API
// quotes back never reaches the output.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "util/http.hpp"

namespace decamp::http {

// How long API kinds wait; tests shorten the intervals (never the logic).
struct ApiTiming {
    int poll_ms = 1000;                 // between polls of an action or task
    int action_timeout_s = 1800;        // an action not done by then is an error with its status
    int max_wait_s = 300;               // the longest single wait for a rate limit to reset
    int retries = 5;                    // 429 / 5xx / transport errors, per request
    std::function<void(int ms)> sleep;  // unset: really sleep
};
ApiTiming& api_timing();
void sleep_ms(int ms);

class ApiClient {
public:
    // What to do with an answer: done (return it), or retry after `wait_ms`.
    struct Verdict {
        bool retry = false;
        int wait_ms = 0;
    };
    using Policy = std::function<Verdict(const Response&, int attempt)>;

    ApiClient(std::string base_url, std::string what, Policy policy);

    void set_headers(std::vector<std::pair<std::string, std::string>> headers) {
        headers_ = std::move(headers);
    }
    // Computed per request (OVH signs each one): method, full URL, body → extra headers.
    using Signer = std::function<std::vector<std::pair<std::string, std::string>>(
        const std::string&, const std::string&, const std::string&)>;
    void set_signer(Signer s) { signer_ = std::move(s); }
    void set_timeout_ms(int ms) { timeout_ms_ = ms; }

    // `path` is appended to the base URL. Retries as the policy says; the last answer is
    // returned (a transport failure as status 0 with error set).
    Response call(const std::string& method, const std::string& path, const std::string& body = "",
                  const std::string& content_type = "application/json");

    const std::string& base_url() const { return base_; }
    const std::string& what() const { return what_; }

private:
    std::string base_, what_;
    Policy policy_;
    Signer signer_;
    std::vector<std::pair<std::string, std::string>> headers_;
    int timeout_ms_ = 30000;
};

// The shared pieces of retry policies.
// How long a rate-limited answer asks to wait: Retry-After (seconds, or an HTTP date), else
// RateLimit-Reset / X-RateLimit-Reset (a Unix time when it looks like one, as Hetzner sends
// it, else seconds to wait), else `fallback_ms`. At least one second when a header said when.
int rate_limit_wait_ms(const Response& r, int fallback_ms = 1000);
// base · 2^attempt, capped at 64 · base.
int backoff_ms(int attempt, int base_ms);
// No answer at all, 502, 503 or 504: the request may not have reached the API.
bool transient(const Response& r);

// What an API documents as worth another try. 401 and 403 are never retried, whatever
// `also` says (a kind whose API signals rate limits with 403 writes its own Policy).
struct RetryRules {
    std::vector<int> rate_limited{429};  // wait as the answer says (rate_limit_wait_ms)
    std::vector<int> retryable;          // besides transient(): wait backoff_ms (e.g. 500)
    int backoff_base_ms = 500;
    ApiClient::Policy also;  // the API's own retryable answers (a JSON error code), asked last
};
ApiClient::Policy retry_policy(RetryRules rules);

// "GET /servers: 404 not_found: server not found" style text for errors.
std::string describe_failure(const std::string& method, const std::string& path, const Response& r,
                             const std::string& api_message);

// Seconds since the epoch, for RateLimit-Reset.
long long unix_now();

// An `api:` URL for a kind: http(s)://host[:port][/path], no credentials, no trailing slash.
// "" when fine, else what was expected.
std::string check_api_url(const std::string& url);

// application/x-www-form-urlencoded encoding of one value.
std::string form_encode(const std::string& value);

}  // namespace decamp::http
