#include "util/http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "util/secret.hpp"

namespace decamp::http {

namespace {

// A body larger than this is cut off and reported as an error: APIs and health checks answer
// in kilobytes, and a runaway server must not exhaust our memory.
constexpr size_t kMaxBody = 64u << 20;

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
    std::string body;
    bool overflow = false;
    std::vector<std::pair<std::string, std::string>> headers;
};

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// One header line at a time; a status line starts a new answer (after a redirect or 100).
size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* sink = static_cast<Sink*>(user);
    size_t len = size * n;
    std::string line(data, len);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.rfind("HTTP/", 0) == 0) {
        sink->headers.clear();
    } else if (auto colon = line.find(':'); colon != std::string::npos && sink->headers.size() < 200) {
        std::string value = line.substr(colon + 1);
        size_t start = value.find_first_not_of(" \t");
        sink->headers.emplace_back(lower(line.substr(0, colon)),
                                   start == std::string::npos ? "" : value.substr(start));
    }
    return len;
}

size_t on_write(char* data, size_t size, size_t n, void* user) {
    auto* sink = static_cast<Sink*>(user);
    size_t len = size * n;
    if (sink->body.size() + len > kMaxBody) {
        sink->overflow = true;
        return 0;  // makes curl stop with CURLE_WRITE_ERROR
    }
    sink->body.append(data, len);
    return len;
}

// "scheme://user:pass@host/…" → "scheme://host/…": error texts may reach logs.
std::string without_credentials(const std::string& url) {
    size_t scheme = url.find("://");
    size_t start = scheme == std::string::npos ? 0 : scheme + 3;
    size_t end = url.find_first_of("/?#", start);
    size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
    if (at == std::string::npos || at < start) return url;
    return url.substr(0, start) + url.substr(at + 1);
}

bool known_method(const std::string& m) {
    static const char* const kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    return std::any_of(std::begin(kMethods), std::end(kMethods), [&](const char* k) { return m == k; });
}

// Loopback never goes through a proxy, whatever the environment says: the APIs we call there
// (the lab's PowerDNS, test servers) are on this machine.
std::string no_proxy_list() {
    std::string list = "localhost,127.0.0.1,::1";
    for (const char* name : {"no_proxy", "NO_PROXY"}) {
        const char* v = std::getenv(name);
        if (v && *v) {
            list += ',';
            list += v;
            break;
        }
    }
    return list;
}

// Progress callback: a non-zero answer makes curl stop with CURLE_ABORTED_BY_CALLBACK.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    const auto* cancel = static_cast<const std::atomic<bool>*>(user);
    return cancel->load() ? 1 : 0;
}

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

Response perform(const Request& req) {
    using Clock = std::chrono::steady_clock;
    global_init();
    Response resp;
    auto start = Clock::now();
    auto done = [&](std::string error) {
        // An error answer often quotes the request back (a token, a password in a form):
        // it is masked here, before any caller can print it. A successful answer is data.
        resp.error = redactor().mask(std::move(error));
        if (resp.status < 200 || resp.status > 299) resp.body = redactor().mask(std::move(resp.body));
        resp.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        return resp;
    };
    std::string what = req.method + " " + without_credentials(req.url);

    if (!known_method(req.method)) return done(what + ": unsupported HTTP method");
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return done(what + ": could not create a curl handle");
    CURL* h = curl.get();

    // Header values are never logged nor put in error texts: they carry API keys.
    curl_slist* raw = nullptr;
    auto add_header = [&](const std::string& line) {
        if (curl_slist* n = curl_slist_append(raw, line.c_str())) raw = n;
    };
    bool has_host = false;
    for (const auto& [name, value] : req.headers) {
        if (name.find_first_of("\r\n:") != std::string::npos ||
            value.find_first_of("\r\n") != std::string::npos) {
            curl_slist_free_all(raw);
            return done(what + ": header '" + name + "' has a line break or colon in its name or value");
        }
        if (curl_strequal(name.c_str(), "Host")) has_host = true;
        add_header(name + ": " + value);
    }
    if (!req.host_header.empty() && !has_host) {
        if (req.host_header.find_first_of("\r\n") != std::string::npos) {
            curl_slist_free_all(raw);
            return done(what + ": Host header has a line break");
        }
        add_header("Host: " + req.host_header);
    }
    add_header("Expect:");  // no 100-continue round trip for request bodies
    std::unique_ptr<curl_slist, SlistDeleter> headers(raw);

    Sink sink;
    char errbuf[CURL_ERROR_SIZE] = {0};
    std::string no_proxy = no_proxy_list();
    long timeout = std::max(1, req.timeout_ms);

    curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOPROXY, no_proxy.c_str());
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // a health check wants the real status
    curl_easy_setopt(h, CURLOPT_USERAGENT, "decamp/" DECAMP_VERSION);
    if (req.cancel) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(req.cancel));
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }

    if (req.method == "GET") {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (req.method == "HEAD") {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        // POSTFIELDS sends the body for any method; CUSTOMREQUEST names the verb.
        if (!req.body.empty() || req.method != "DELETE") {
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(req.body.size()));
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
        }
        if (req.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }

    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        std::string why = sink.overflow ? "answer larger than " + std::to_string(kMaxBody >> 20) + " MiB"
                          : rc == CURLE_ABORTED_BY_CALLBACK ? std::string("cancelled")
                          : errbuf[0]                       ? std::string(errbuf)
                                                            : std::string(curl_easy_strerror(rc));
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
        return done(what + ": " + why);
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    resp.status = static_cast<int>(status);
    resp.body = std::move(sink.body);
    resp.headers = std::move(sink.headers);
    return done("");
}

std::string header(const Response& resp, const std::string& name) {
    std::string want = lower(name);
    for (const auto& [k, v] : resp.headers)
        if (k == want) return v;
    return "";
}

}  // namespace decamp::http
