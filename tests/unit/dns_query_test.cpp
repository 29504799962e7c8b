// dns::query against a scripted DNS server in a thread on loopback: stray and spoofed
// datagrams are ignored, TC falls back to TCP, NXDOMAIN is empty, and every wait is bounded.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "dns/exchange.hpp"
#include "dns/packet.hpp"

using namespace decamp;
using namespace decamp::dns;
using Clock = std::chrono::steady_clock;

namespace {

// Answers each query (UDP or TCP on the same port) with the datagrams `reply` returns.
class FakeDns {
public:
    using Reply = std::function<std::vector<std::string>(const Message& q, bool tcp)>;

    explicit FakeDns(Reply reply) : reply_(std::move(reply)) {
        for (int attempt = 0; attempt < 20 && tcp_ < 0; ++attempt) {
            if (udp_ >= 0) close(udp_);
            udp_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            REQUIRE(bind(udp_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
            socklen_t len = sizeof a;
            getsockname(udp_, reinterpret_cast<sockaddr*>(&a), &len);
            port_ = ntohs(a.sin_port);
            int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            int one = 1;
            setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(t, 4) == 0) tcp_ = t;
            else close(t);
        }
        REQUIRE(tcp_ >= 0);
        thread_ = std::thread([this] { loop(); });
    }
    ~FakeDns() {
        stop_ = true;
        thread_.join();
        close(udp_);
        close(tcp_);
    }
    std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
    int udp_queries() const { return udp_count_; }
    int tcp_queries() const { return tcp_count_; }

private:
    void loop() {
        while (!stop_) {
            pollfd p[2] = {{udp_, POLLIN, 0}, {tcp_, POLLIN, 0}};
            if (poll(p, 2, 20) <= 0) continue;
            if (p[0].revents & POLLIN) {
                char buf[1500];
                sockaddr_in from{};
                socklen_t flen = sizeof from;
                ssize_t n = recvfrom(udp_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
                if (n <= 0) continue;
                ++udp_count_;
                for (const auto& d : reply_(decode(std::string(buf, size_t(n))), false))
                    sendto(udp_, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
            }
            if (p[1].revents & POLLIN) {
                int c = accept(tcp_, nullptr, nullptr);
                if (c < 0) continue;
                ++tcp_count_;
                unsigned char len[2];
                if (read(c, len, 2) == 2) {
                    std::string q(size_t(len[0] << 8 | len[1]), '\0');
                    size_t got = 0;
                    while (got < q.size()) {
                        ssize_t n = read(c, q.data() + got, q.size() - got);
                        if (n <= 0) break;
                        got += size_t(n);
                    }
                    for (const auto& d : reply_(decode(q), true)) {
                        std::string framed = {char(d.size() >> 8), char(d.size() & 0xFF)};
                        framed += d;
                        (void)!write(c, framed.data(), framed.size());
                    }
                }
                close(c);
            }
        }
    }

    Reply reply_;
    int udp_ = -1, tcp_ = -1, port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> udp_count_{0}, tcp_count_{0};
    std::thread thread_;
};

Message answer_to(const Message& q, std::vector<std::string> addrs, int rcode = kNoError) {
    Message m;
    m.id = q.id;
    m.qr = m.aa = true;
    m.rcode = rcode;
    m.questions = q.questions;
    for (const auto& a : addrs) {
        ResourceRecord rr;
        rr.name = q.questions.at(0).name;
        rr.type = q.questions.at(0).type;
        rr.ttl = 60;
        rr.text = a;
        m.answers.push_back(rr);
    }
    return m;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no Error)";
}

long ms_since(Clock::time_point t0) {
    return long(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
}

}  // namespace

TEST_CASE("dns query: answer, ignoring garbage and wrong ids first") {
    std::atomic<bool> rd{true};
    FakeDns srv([&](const Message& q, bool) {
        rd = q.rd;
        Message wrong_id = answer_to(q, {"203.0.113.66"});
        wrong_id.id = uint16_t(q.id + 1);
        Message wrong_name = answer_to(q, {"203.0.113.67"});
        wrong_name.questions[0].name = "evil.test.";
        return std::vector<std::string>{"garbage", encode(wrong_id), encode(wrong_name),
                                        encode(answer_to(q, {"198.18.2.11", "198.18.2.12"}))};
    });
    CHECK(query(srv.server(), "www.example.test", "A", 2000) ==
          std::vector<std::string>{"198.18.2.11", "198.18.2.12"});
    CHECK_FALSE(rd);  // we ask authoritative servers: no recursion desired
}

TEST_CASE("dns query: truncated UDP answer falls back to TCP") {
    FakeDns srv([](const Message& q, bool tcp) {
        if (!tcp) {
            Message m = answer_to(q, {});
            m.tc = true;
            return std::vector<std::string>{encode(m)};
        }
        return std::vector<std::string>{encode(answer_to(q, {"2001:db8::11"}))};
    });
    CHECK(query(srv.server(), "v6.example.test.", "AAAA", 2000) == std::vector<std::string>{"2001:db8::11"});
    CHECK(srv.udp_queries() == 1);
    CHECK(srv.tcp_queries() == 1);
}

TEST_CASE("dns query: NXDOMAIN is empty, SERVFAIL is an error, CNAME is followed") {
    FakeDns srv([](const Message& q, bool) {
        const std::string& name = q.questions.at(0).name;
        if (name == "gone.example.test.") return std::vector<std::string>{encode(answer_to(q, {}, kNXDomain))};
        if (name == "broken.example.test.")
            return std::vector<std::string>{encode(answer_to(q, {}, kServFail))};
        Message m = answer_to(q, {});
        ResourceRecord cname;
        cname.name = name;
        cname.type = kTypeCNAME;
        cname.text = "web.example.test.";
        ResourceRecord a;
        a.name = "web.example.test.";
        a.type = kTypeA;
        a.text = "198.18.2.11";
        ResourceRecord other;
        other.name = "elsewhere.example.test.";
        other.type = kTypeA;
        other.text = "203.0.113.1";
        m.answers = {other, a, cname};
        return std::vector<std::string>{encode(m)};
    });
    CHECK(query(srv.server(), "gone.example.test.", "A", 2000).empty());
    CHECK(error_of([&] { query(srv.server(), "broken.example.test.", "A", 2000); }).find("SERVFAIL") !=
          std::string::npos);
    CHECK(query(srv.server(), "www.example.test.", "A", 2000) == std::vector<std::string>{"198.18.2.11"});
}

TEST_CASE("dns query: a silent server times out within the bound") {
    FakeDns srv([](const Message&, bool) { return std::vector<std::string>{}; });
    auto t0 = Clock::now();
    std::string e = error_of([&] { query(srv.server(), "www.example.test.", "A", 300); });
    long ms = ms_since(t0);
    CHECK(e.find("no answer from DNS server " + srv.server()) != std::string::npos);
    CHECK(e.find("within 300 ms") != std::string::npos);
    CHECK(ms >= 290);
    CHECK(ms < 1000);
}

TEST_CASE("dns query: a closed port fails fast, bad input is rejected") {
    int port = 0;
    {
        FakeDns gone([](const Message&, bool) { return std::vector<std::string>{}; });
        port = std::stoi(gone.server().substr(10));
    }
    auto t0 = Clock::now();
    std::string e = error_of([&] { query("127.0.0.1:" + std::to_string(port), "www.example.test.", "A", 500); });
    CHECK(ms_since(t0) < 1000);
    CHECK(e != "(no Error)");
    CHECK(error_of([&] { query("127.0.0.1:53", "www.example.test.", "MX", 100); }).find("A and AAAA") !=
          std::string::npos);
    CHECK(error_of([&] { query("127.0.0.1:x", "www.example.test.", "A", 100); }).find("bad DNS server") !=
          std::string::npos);
    CHECK(error_of([&] { query("127.0.0.1:53", "a..b", "A", 100); }).find("empty label") != std::string::npos);
}

TEST_CASE("dns ask: Via::Tcp asks over TCP only; a TCP answer with another id is refused") {
    std::atomic<bool> wrong_id{false};
    FakeDns srv([&](const Message& q, bool) {
        Message m = answer_to(q, {"198.18.2.11"});
        if (wrong_id) m.id = uint16_t(q.id + 1);
        return std::vector<std::string>{encode(m)};
    });
    Message m = ask(srv.server(), "www.example.test.", kTypeA, Via::Tcp, 2000);
    CHECK(m.aa);
    REQUIRE(m.answers.size() == 1);
    CHECK(m.answers[0].ttl == 60);
    CHECK(srv.udp_queries() == 0);
    CHECK(srv.tcp_queries() == 1);
    wrong_id = true;
    CHECK(error_of([&] {
              ask(srv.server(), "www.example.test.", kTypeA, Via::Tcp, 2000);
          }).find("does not match") != std::string::npos);
}
