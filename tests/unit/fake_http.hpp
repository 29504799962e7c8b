// A small HTTP/1.1 server on 127.0.0.1 for the fakes of provider APIs: one connection at a
// time, Content-Length bodies, every answer closes its connection. The handler sees the
// method, target, headers (names lower-cased) and body, and returns status, headers, body.
#pragma once

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace decamp::test {

struct HttpRequest {
    std::string method, target, path, query, body;
    std::map<std::string, std::string> headers;  // lower-cased names
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
    // Every value of `key` in the query string, in order (?id=1&id=2).
    std::vector<std::string> params(const std::string& key) const {
        std::vector<std::string> out;
        size_t start = 0;
        while (start < query.size()) {
            size_t amp = query.find('&', start);
            std::string kv = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
            size_t eq = kv.find('=');
            if (kv.substr(0, eq) == key) out.push_back(eq == std::string::npos ? "" : kv.substr(eq + 1));
            if (amp == std::string::npos) break;
            start = amp + 1;
        }
        return out;
    }
    std::string param(const std::string& key) const {
        auto v = params(key);
        return v.empty() ? "" : v[0];
    }
};

struct HttpReply {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

class FakeHttpServer {
public:
    using Handler = std::function<HttpReply(const HttpRequest&)>;
    explicit FakeHttpServer(Handler h) : handler_(std::move(h)) {
        fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        REQUIRE(listen(fd_, 16) == 0);
        thread_ = std::thread([this] { loop(); });
    }
    ~FakeHttpServer() {
        stop_ = true;
        thread_.join();
        close(fd_);
    }
    FakeHttpServer(const FakeHttpServer&) = delete;
    FakeHttpServer& operator=(const FakeHttpServer&) = delete;

    std::string url(const std::string& path = "") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    std::vector<HttpRequest> seen() {
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

    static std::string lower(std::string s) {
        for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return s;
    }

    void serve(int c) {
        std::string in;
        char buf[8192];
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        auto read_more = [&] {
            pollfd p{c, POLLIN, 0};
            if (poll(&p, 1, 20) <= 0) return !stop_ && std::chrono::steady_clock::now() < deadline;
            ssize_t n = read(c, buf, sizeof buf);
            if (n <= 0) return false;
            in.append(buf, size_t(n));
            return true;
        };
        size_t end;
        while ((end = in.find("\r\n\r\n")) == std::string::npos)
            if (!read_more()) return;
        HttpRequest r;
        std::string head = in.substr(0, end);
        size_t line_end = head.find("\r\n");
        std::string first = head.substr(0, line_end);
        size_t sp1 = first.find(' '), sp2 = first.find(' ', sp1 + 1);
        r.method = first.substr(0, sp1);
        r.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
        size_t q = r.target.find('?');
        r.path = r.target.substr(0, q);
        r.query = q == std::string::npos ? "" : r.target.substr(q + 1);
        size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
        while (pos < head.size()) {
            size_t nl = head.find("\r\n", pos);
            std::string line = head.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
            size_t colon = line.find(':');
            if (colon != std::string::npos) {
                std::string v = line.substr(colon + 1);
                while (!v.empty() && v[0] == ' ') v.erase(0, 1);
                r.headers[lower(line.substr(0, colon))] = v;
            }
            if (nl == std::string::npos) break;
            pos = nl + 2;
        }
        size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
        while (in.size() < end + 4 + length)
            if (!read_more()) return;
        r.body = in.substr(end + 4, length);
        {
            std::lock_guard lock(mu_);
            seen_.push_back(r);
        }
        HttpReply rep = handler_(r);
        std::string out = "HTTP/1.1 " + std::to_string(rep.status) + " X\r\n";
        for (const auto& [k, v] : rep.headers) out += k + ": " + v + "\r\n";
        out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(rep.body.size()) +
               "\r\nConnection: close\r\n\r\n" + rep.body;
        size_t off = 0;
        while (off < out.size()) {
            ssize_t n = write(c, out.data() + off, out.size() - off);
            if (n <= 0) break;
            off += size_t(n);
        }
    }

    Handler handler_;
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mu_;
    std::vector<HttpRequest> seen_;
};

}  // namespace decamp::test
