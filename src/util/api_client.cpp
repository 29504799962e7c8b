#include "util/api_client.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

#include "util/secret.hpp"
#include "util/text.hpp"

namespace decamp::http {

ApiTiming& api_timing() {
    static ApiTiming t;
    return t;
}

void sleep_ms(int ms) {
    if (ms <= 0) return;
    if (api_timing().sleep) return api_timing().sleep(ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

long long unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

ApiClient::ApiClient(std::string base_url, std::string what, Policy policy)
    : base_(std::move(base_url)), what_(std::move(what)), policy_(std::move(policy)) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

Response ApiClient::call(const std::string& method, const std::string& path, const std::string& body,
                         const std::string& content_type) {
    Response r;
    for (int attempt = 0;; ++attempt) {
        http::Request req;
        req.method = method;
        req.url = base_ + path;
        req.body = body;
        req.timeout_ms = timeout_ms_;
        req.headers = headers_;
        req.headers.emplace_back("Accept", "application/json");
        if (!body.empty()) req.headers.emplace_back("Content-Type", content_type);
        if (signer_)
            for (auto& h : signer_(method, req.url, body)) req.headers.push_back(std::move(h));
        r = http::perform(req);
        Verdict v = policy_(r, attempt);
        if (!v.retry || attempt >= api_timing().retries) return r;
        sleep_ms(std::min(v.wait_ms, api_timing().max_wait_s * 1000));
    }
}

namespace {

// Whole seconds in `text` (digits only), or -1.
long long seconds_in(const std::string& text) {
    if (text.empty() || text.size() > 18 || !std::all_of(text.begin(), text.end(), ::isdigit)) return -1;
    return std::stoll(text);
}

// An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the only HTTP date form Retry-After uses
// today; -1 when it is not one.
long long http_date(const std::string& text) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end) return -1;
    return timegm(&tm);
}

}  // namespace

int rate_limit_wait_ms(const Response& r, int fallback_ms) {
    const long long cap = 24LL * 3600;
    auto ms = [](long long secs) { return static_cast<int>(std::max(1LL, secs) * 1000); };
    std::string after = header(r, "Retry-After");
    if (long long s = seconds_in(after); s >= 0) return ms(std::min(s, cap));
    if (long long at = http_date(after); at >= 0) return ms(std::min(at - unix_now(), cap));
    for (const char* name : {"RateLimit-Reset", "X-RateLimit-Reset"}) {
        long long v = seconds_in(header(r, name));
        if (v < 0) continue;
        return ms(v > 1000000000LL ? std::min(v - unix_now(), cap) : std::min(v, cap));
    }
    return fallback_ms;
}

int backoff_ms(int attempt, int base_ms) {
    return base_ms * (1 << std::clamp(attempt, 0, 6));
}

bool transient(const Response& r) {
    return r.status == 0 || r.status == 502 || r.status == 503 || r.status == 504;
}

ApiClient::Policy retry_policy(RetryRules rules) {
    return [rules = std::move(rules)](const Response& r, int attempt) -> ApiClient::Verdict {
        auto in = [&](const std::vector<int>& v) {
            return std::find(v.begin(), v.end(), r.status) != v.end();
        };
        if (r.status == 401 || r.status == 403) return {};
        if (in(rules.rate_limited)) return {true, rate_limit_wait_ms(r)};
        if (transient(r) || in(rules.retryable)) return {true, backoff_ms(attempt, rules.backoff_base_ms)};
        if (rules.also) return rules.also(r, attempt);
        return {};
    };
}

std::string describe_failure(const std::string& method, const std::string& path, const Response& r,
                             const std::string& api_message) {
    std::string out = method + " " + path + ": ";
    if (r.status == 0) return redactor().mask(out + (r.error.empty() ? "no answer" : r.error));
    out += "HTTP " + std::to_string(r.status);
    if (!api_message.empty()) out += ": " + api_message;
    return redactor().mask(out);
}

std::string check_api_url(const std::string& url) {
    const char* expected = "expected an http:// or https:// URL such as https://api.hetzner.cloud/v1";
    size_t scheme = url.find("://");
    if (scheme == std::string::npos) return expected;
    std::string s = url.substr(0, scheme);
    if (s != "http" && s != "https") return expected;
    std::string rest = url.substr(scheme + 3);
    if (rest.empty() || rest[0] == '/') return "the URL has no host; " + std::string(expected);
    size_t host_end = rest.find('/');
    if (rest.substr(0, host_end).find('@') != std::string::npos)
        return "credentials do not belong in the URL; give them as secrets";
    if (url.find_first_of(" \t\r\n?#") != std::string::npos) return "a URL without spaces, query or fragment";
    if (url.back() == '/') return "no trailing slash";
    return "";
}

std::string form_encode(const std::string& value) {
    return util::percent_encode(value);
}

}  // namespace decamp::http
