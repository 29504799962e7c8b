// http::perform against a tiny HTTP server on loopback, run in a thread of this process.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "util/http.hpp"
#include "util/secret.hpp"

using namespace decamp;
using Clock = std::chrono::steady_clock;

namespace {

struct Seen {
    std::string method, target, headers, body;  // headers: the raw header block
};

// Serves one connection at a time: reads a request (Content-Length bodies only), waits
// `delay`, answers `reply` verbatim and closes.
class TinyServer {
public:
    explicit TinyServer(std::string reply, std::chrono::milliseconds delay = {})
        : reply_(std::move(reply)), delay_(delay) {
        fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        REQUIRE(listen(fd_, 8) == 0);
        thread_ = std::thread([this] { loop(); });
    }
    ~TinyServer() {
        stop_ = true;
        thread_.join();
        close(fd_);
    }
    std::string url(const std::string& path = "/") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    std::vector<Seen> seen() {
        std::lock_guard lock(mu_);
        return seen_;
    }

private:
    void loop() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 20) <= 0) continue;
            int c = accept(fd_, nullptr, nullptr);
            if (c < 0) continue;
            serve(c);
            close(c);
        }
    }

    void serve(int c) {
        std::string in;
        char buf[4096];
        size_t end = std::string::npos;
        auto deadline = Clock::now() + std::chrono::seconds(5);
        auto read_more = [&] {
            pollfd p{c, POLLIN, 0};
            if (poll(&p, 1, 20) <= 0) return !stop_ && Clock::now() < deadline;
            ssize_t n = read(c, buf, sizeof buf);
            if (n <= 0) return false;
            in.append(buf, size_t(n));
            return true;
        };
        while ((end = in.find("\r\n\r\n")) == std::string::npos)
            if (!read_more()) return;
        Seen s;
        std::string head = in.substr(0, end);
        size_t sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
        s.method = head.substr(0, sp1);
        s.target = head.substr(sp1 + 1, sp2 - sp1 - 1);
        s.headers = head.substr(head.find("\r\n") + 2) + "\r\n";
        size_t length = 0;
        for (const char* k : {"Content-Length: ", "content-length: "}) {
            size_t at = s.headers.find(k);
            if (at != std::string::npos) length = std::stoul(s.headers.substr(at + strlen(k)));
        }
        while (in.size() < end + 4 + length)
            if (!read_more()) return;
        s.body = in.substr(end + 4, length);
        {
            std::lock_guard lock(mu_);
            seen_.push_back(s);
        }
        auto until = Clock::now() + delay_;
        while (!stop_ && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        (void)!write(c, reply_.data(), reply_.size());
    }

    std::string reply_;
    std::chrono::milliseconds delay_;
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mu_;
    std::vector<Seen> seen_;
};

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("http: GET returns status and body, sends our headers") {
    TinyServer srv(kOk);
    http::Request req;
    req.url = srv.url("/api/v1/servers?x=1");
    req.headers = {{"X-API-Key", "s3cret"}, {"Accept", "application/json"}};
    http::Response r = http::perform(req);
    CHECK(r.error == "");
    CHECK(r.status == 200);
    CHECK(r.body == "hello");
    CHECK(r.seconds >= 0);
    auto seen = srv.seen();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].method == "GET");
    CHECK(seen[0].target == "/api/v1/servers?x=1");
    CHECK(has(seen[0].headers, "X-API-Key: s3cret\r\n"));
    CHECK(has(seen[0].headers, "Accept: application/json\r\n"));
    CHECK(has(seen[0].headers, "Host: 127.0.0.1:"));
    CHECK_FALSE(has(seen[0].headers, "Expect:"));
}

TEST_CASE("http: methods with and without bodies") {
    for (std::string method : {"POST", "PUT", "PATCH", "DELETE"}) {
        CAPTURE(method);
        TinyServer srv("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        http::Request req;
        req.method = method;
        req.url = srv.url("/zones/example.test.");
        req.body = R"({"rrsets":[]})";
        req.headers = {{"Content-Type", "application/json"}};
        http::Response r = http::perform(req);
        CHECK(r.error == "");
        CHECK(r.status == 204);
        CHECK(r.body == "");
        auto seen = srv.seen();
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].method == method);
        CHECK(seen[0].body == req.body);
    }
    TinyServer srv("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    http::Request del;
    del.method = "DELETE";
    del.url = srv.url("/thing");
    CHECK(http::perform(del).status == 200);
    REQUIRE(srv.seen().size() == 1);
    CHECK(srv.seen()[0].method == "DELETE");
    CHECK(srv.seen()[0].body == "");

    http::Request bad;
    bad.method = "BREW";
    bad.url = srv.url();
    http::Response r = http::perform(bad);
    CHECK(r.status == 0);
    CHECK(has(r.error, "unsupported HTTP method"));
}

TEST_CASE("http: Host header override reaches the server") {
    TinyServer srv(kOk);
    http::Request req;
    req.url = srv.url("/healthz");
    req.host_header = "www.example.test";
    CHECK(http::perform(req).status == 200);
    REQUIRE(srv.seen().size() == 1);
    std::string h = srv.seen()[0].headers;
    CHECK(has(h, "Host: www.example.test\r\n"));
    CHECK_FALSE(has(h, "Host: 127.0.0.1"));
}

TEST_CASE("http: error statuses are answers, not errors") {
    TinyServer srv("HTTP/1.1 422 Unprocessable Entity\r\nContent-Length: 17\r\nConnection: close\r\n\r\n"
                   "{\"error\": \"nope\"}");
    http::Request req;
    req.url = srv.url();
    http::Response r = http::perform(req);
    CHECK(r.status == 422);
    CHECK(r.error == "");
    CHECK(r.body == "{\"error\": \"nope\"}");
}

TEST_CASE("http: timeout is bounded and reported, headers never in the error") {
    TinyServer srv(kOk, std::chrono::milliseconds(3000));
    http::Request req;
    req.url = srv.url("/slow");
    req.timeout_ms = 300;
    req.headers = {{"X-API-Key", "s3cret"}};
    auto t0 = Clock::now();
    http::Response r = http::perform(req);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    CHECK(r.status == 0);
    CHECK(has(r.error, "GET " + srv.url("/slow")));
    CHECK(has(r.error, "imed out"));
    CHECK_FALSE(has(r.error, "s3cret"));
    CHECK(ms >= 250);
    CHECK(ms < 2000);
}

TEST_CASE("http: connection refused and bad input are errors, not exceptions") {
    int port = 0;
    {
        TinyServer gone(kOk);  // a port that was free a moment ago
        port = std::stoi(gone.url().substr(17));
    }
    http::Request req;
    req.url = "http://user:pw@127.0.0.1:" + std::to_string(port) + "/";
    http::Response r = http::perform(req);
    CHECK(r.status == 0);
    CHECK(has(r.error, "127.0.0.1"));
    CHECK_FALSE(has(r.error, "user:pw"));

    http::Request injected;
    injected.url = "http://127.0.0.1:1/";
    injected.headers = {{"X-Evil", "a\r\nHost: other"}};
    CHECK(has(http::perform(injected).error, "line break"));

    http::Request file;
    file.url = "file:///etc/passwd";
    r = http::perform(file);
    CHECK(r.status == 0);
    CHECK(r.body == "");
    CHECK(r.error != "");
}

TEST_CASE("http: concurrent requests from many threads") {
    TinyServer srv(kOk);
    std::atomic<int> ok{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 8; ++i) {
        ts.emplace_back([&] {
            http::Request req;
            req.url = srv.url();
            if (http::perform(req).body == "hello") ++ok;
        });
    }
    for (auto& t : ts) t.join();
    CHECK(ok == 8);
}

TEST_CASE("http: an error answer that quotes a secret back is masked") {
    redactor().add("api-token-quoted-back");
    std::string body = "{\"error\": \"bad key api-token-quoted-back\"}";
    TinyServer srv("HTTP/1.1 401 Unauthorized\r\nContent-Length: " + std::to_string(body.size()) +
                   "\r\nConnection: close\r\n\r\n" + body);
    http::Request req;
    req.url = srv.url();
    http::Response r = http::perform(req);
    CHECK(r.status == 401);
    CHECK(r.body == "{\"error\": \"bad key ***\"}");
}

TEST_CASE("http: response headers are kept, names lower-cased") {
    TinyServer srv(
        "HTTP/1.1 429 Too Many Requests\r\nRateLimit-Remaining: 0\r\nRateLimit-Reset:  1700000000\r\n"
        "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
    http::Request req;
    req.url = srv.url();
    http::Response r = http::perform(req);
    CHECK(r.status == 429);
    CHECK(http::header(r, "RateLimit-Remaining") == "0");
    CHECK(http::header(r, "ratelimit-reset") == "1700000000");
    CHECK(http::header(r, "Retry-After") == "");
}
