// The client probe (migrate/probe.hpp) against a real HTTP server on loopback: answered,
// held and failed requests counted per address, a refused connection counted as a failure,
// a request in flight at stop abandoned, and the figures' journal round trip and merge.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "fake_http.hpp"
#include "migrate/probe.hpp"
#include "test_util.hpp"

using namespace decamp;
using namespace decamp::migrate;

namespace {

HealthTarget target_at(const std::string& url) {
    HealthTarget t;
    t.host = "web1";
    t.url = url;
    t.host_header = "www.example.test";
    return t;
}

ProbeTiming fast() {
    ProbeTiming t;
    t.interval_ms = 10;
    t.timeout_ms = 5000;
    t.held_after_s = 0.5;
    return t;
}

void wait_for(const std::atomic<int>& n, int at_least) {
    for (int i = 0; i < 1000 && n.load() < at_least; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(n.load() >= at_least);
}

}  // namespace

TEST_CASE("probe: answered, held and failed requests are counted per address") {
    std::atomic<int> n{0};
    test::FakeHttpServer srv([&](const test::HttpRequest& r) {
        int i = ++n;
        CHECK(r.header("host") == "www.example.test");
        if (i == 3 || i == 4) return test::HttpReply{502, "bad gateway", {}};
        if (i == 5) std::this_thread::sleep_for(std::chrono::milliseconds(700));  // held, then answered
        return test::HttpReply{200, "ok", {}};
    });
    auto probe = make_http_probe(fast());
    probe->start({{"web1 (source old)", target_at(srv.url("/healthz"))}});
    wait_for(n, 8);
    auto stats = probe->stop();
    REQUIRE(stats.size() == 1);
    const ProbeStats& s = stats[0];
    CHECK(s.label == "web1 (source old)");
    CHECK(s.sent >= 7);
    CHECK(s.failed == 2);
    CHECK(s.answered == s.sent - 2);
    CHECK(s.held == 1);
    CHECK(s.longest_s >= 0.5);
    CHECK(s.first_failure == "HTTP 502");
    CHECK(s.first_failure_at > 0);
    CHECK(s.last_failure_at >= s.first_failure_at);
    CHECK(describe_probe(s).find(" 2 failed, 1 held") != std::string::npos);
}

TEST_CASE("probe: an address that refuses connections counts failures; a bad target is never asked") {
    auto probe = make_http_probe(fast());
    HealthTarget bad = target_at("http://127.0.0.1:1/x");
    bad.error = "health URL: not allowed";
    probe->start(
        {{"gone", target_at("http://127.0.0.1:" + std::to_string(test::free_tcp_port()) + "/healthz")},
         {"bad", bad}});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto stats = probe->stop();
    REQUIRE(stats.size() == 2);
    CHECK(stats[0].failed > 0);
    CHECK(stats[0].answered == 0);
    CHECK(stats[0].failed == stats[0].sent);
    CHECK_FALSE(stats[0].first_failure.empty());
    CHECK(stats[1].sent == 0);
}

TEST_CASE("probe: a request in flight when the probe stops is abandoned, not counted") {
    std::atomic<int> n{0};
    test::FakeHttpServer srv([&](const test::HttpRequest&) {
        ++n;
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        return test::HttpReply{200, "late", {}};
    });
    auto probe = make_http_probe(fast());
    probe->start({{"slow", target_at(srv.url("/healthz"))}});
    wait_for(n, 1);
    auto stats = probe->stop();
    REQUIRE(stats.size() == 1);
    CHECK(stats[0].sent == 0);
    CHECK(stats[0].failed == 0);
}

TEST_CASE("probe figures: journal round trip, and two runs summed by address") {
    ProbeStats a;
    a.label = "old-web1 (source old) http://198.18.1.11/healthz";
    a.sent = 10;
    a.answered = 7;
    a.held = 2;
    a.failed = 3;
    a.longest_s = 1.25;
    a.first_failure_at = 2000;
    a.last_failure_at = 2004;
    a.first_failure = "Failed to connect: \"refused\"";
    auto back = decode_probe_stats(encode_probe_stats({a}));
    REQUIRE(back.size() == 1);
    CHECK(back[0].label == a.label);
    CHECK(back[0].sent == 10);
    CHECK(back[0].held == 2);
    CHECK(back[0].failed == 3);
    CHECK(back[0].longest_s == doctest::Approx(1.25));
    CHECK(back[0].first_failure == a.first_failure);

    ProbeStats b = a;
    b.sent = 5;
    b.failed = 1;
    b.longest_s = 3;
    b.first_failure_at = 1990;
    b.last_failure_at = 1995;
    b.first_failure = "HTTP 503";
    ProbeStats c;
    c.label = "new-web1 (target new)";
    c.sent = 4;
    auto merged = merge_probe_stats({a}, {b, c});
    REQUIRE(merged.size() == 2);
    CHECK(merged[0].sent == 15);
    CHECK(merged[0].failed == 4);
    CHECK(merged[0].longest_s == 3);
    CHECK(merged[0].first_failure_at == 1990);
    CHECK(merged[0].first_failure == "HTTP 503");
    CHECK(merged[0].last_failure_at == 2004);
    CHECK(merged[1].label == "new-web1 (target new)");
    CHECK_THROWS_AS(decode_probe_stats("[{"), Error);
}
