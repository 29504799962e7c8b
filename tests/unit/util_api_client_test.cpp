// util/api_client: the shared pieces of the API kinds and DNS back-ends (URL checks, form encoding, error
// texts) and the retry behaviour as the Hetzner Cloud kind uses it against its fake.
#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>

#include "fake_hetzner_cloud.hpp"
#include "inventory/inventory.hpp"
#include "provider/provider.hpp"
#include "test_util.hpp"
#include "util/api_client.hpp"
#include "util/secret.hpp"

using namespace decamp;

TEST_CASE("api client: api: URLs") {
    CHECK(http::check_api_url("https://api.hetzner.cloud/v1") == "");
    CHECK(http::check_api_url("http://127.0.0.1:8080") == "");
    CHECK(http::check_api_url("ftp://x").find("expected an http:// or https:// URL") == 0);
    CHECK(http::check_api_url("api.hetzner.cloud").find("expected") == 0);
    CHECK(http::check_api_url("https://") != "");
    CHECK(http::check_api_url("https://user:pw@host/v1") ==
          "credentials do not belong in the URL; give them as secrets");
    CHECK(http::check_api_url("https://host/v1/") == "no trailing slash");
    CHECK(http::check_api_url("https://host/v1?x=1") != "");
}

TEST_CASE("api client: form encoding and failure texts") {
    CHECK(http::form_encode("Debian 12 base") == "Debian%2012%20base");
    CHECK(http::form_encode("d7:2e:00") == "d7%3A2e%3A00");
    CHECK(http::form_encode("a-b_c.d~e") == "a-b_c.d~e");
    CHECK(http::form_encode("ssh-ed25519 AA+/=") == "ssh-ed25519%20AA%2B%2F%3D");
    http::Response none;
    none.error = "GET http://127.0.0.1:1/x: Connection refused";
    CHECK(http::describe_failure("GET", "/x", none, "") ==
          "GET /x: GET http://127.0.0.1:1/x: Connection refused");
    http::Response r;
    r.status = 422;
    redactor().add("a-secret-token-xyz");
    CHECK(http::describe_failure("POST", "/servers", r, "invalid_input: a-secret-token-xyz is wrong") ==
          "POST /servers: HTTP 422: invalid_input: *** is wrong");
}

TEST_CASE("api client: how long a rate-limited answer asks to wait") {
    auto with = [](std::string name, std::string value) {
        http::Response r;
        r.status = 429;
        r.headers.emplace_back(std::move(name), std::move(value));
        return r;
    };
    CHECK(http::rate_limit_wait_ms(with("retry-after", "7")) == 7000);
    CHECK(http::rate_limit_wait_ms(with("retry-after", "0")) == 1000);
    CHECK(http::rate_limit_wait_ms(with("retry-after", "soon"), 1234) == 1234);
    CHECK(http::rate_limit_wait_ms(http::Response{}, 250) == 250);
    // An HTTP date: the wait until then (at least a second; a date past is a second).
    CHECK(http::rate_limit_wait_ms(with("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")) == 1000);
    std::time_t later = static_cast<std::time_t>(http::unix_now() + 120);
    char date[64];
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&later));
    int ms = http::rate_limit_wait_ms(with("retry-after", date));
    CHECK(ms > 115000);
    CHECK(ms <= 120000);
    // RateLimit-Reset: a Unix time (Hetzner) or seconds from now.
    ms = http::rate_limit_wait_ms(with("ratelimit-reset", std::to_string(http::unix_now() + 30)));
    CHECK(ms > 28000);
    CHECK(ms <= 30000);
    CHECK(http::rate_limit_wait_ms(with("x-ratelimit-reset", "12")) == 12000);
    // Absurd values are capped at a day.
    CHECK(http::rate_limit_wait_ms(with("retry-after", "999999999")) == 24 * 3600 * 1000);
}

TEST_CASE("api client: retry rules never retry 401/403, back off on 5xx the API names") {
    http::RetryRules rules;
    rules.retryable = {500};
    rules.also = [](const http::Response& r, int) -> http::ApiClient::Verdict {
        return {r.status == 403 || r.status == 409, 42};
    };
    auto policy = http::retry_policy(rules);
    auto answer = [](int status) {
        http::Response r;
        r.status = status;
        return r;
    };
    CHECK(!policy(answer(401), 0).retry);
    CHECK(!policy(answer(403), 0).retry);  // even though `also` would
    CHECK(!policy(answer(400), 0).retry);
    CHECK(!policy(answer(200), 0).retry);
    CHECK(policy(answer(409), 0).wait_ms == 42);
    CHECK(policy(answer(500), 0).wait_ms == 500);
    CHECK(policy(answer(500), 2).wait_ms == 2000);
    CHECK(policy(answer(0), 1).wait_ms == 1000);
    CHECK(policy(answer(503), 20).wait_ms == 500 * 64);
    CHECK(policy(answer(429), 0).wait_ms == 1000);
    CHECK(!http::retry_policy({})(answer(500), 0).retry);
}

namespace {

struct Recorded {
    http::ApiTiming saved = http::api_timing();
    std::vector<int> waits;
    Recorded() {
        http::api_timing().poll_ms = 1;
        http::api_timing().sleep = [this](int ms) { waits.push_back(ms); };
    }
    ~Recorded() { http::api_timing() = saved; }
};

std::unique_ptr<provider::Provider> open_cloud(test::FakeHetznerCloud& fake, test::TempDir& dir,
                                               inventory::Inventory& inv) {
    setenv("DECAMP_TEST_HCLOUD", fake.token.c_str(), 1);
    dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    inv = inventory::load(
        dir.write("inv.yml",
                  "project: p\nproviders:\n  cloud:\n    kind: hetzner-cloud\n"
                  "    token: ${env:DECAMP_TEST_HCLOUD}\n    api: " +
                      fake.url() +
                      "\n    hosts:\n      web1: { server_type: cx22, image: debian-12, "
                      "location: fsn1, roles: [web] }\nroles: { web: { playbooks: [a.yml] } }\n"));
    return inventory::open_provider(inv, "cloud");
}

}  // namespace

TEST_CASE("api client: 503 and locked are retried with growing waits, then given up with the API's word") {
    Recorded rec;
    test::FakeHetznerCloud fake;
    test::TempDir dir;
    inventory::Inventory inv;
    auto p = open_cloud(fake, dir, inv);
    {
        std::lock_guard lock(fake.mu());
        fake.unavailable_next = 2;
        fake.locked_next = 1;
    }
    CHECK(p->servers().empty());
    CHECK(rec.waits == std::vector<int>{500, 1000, 3000});  // 503, 503 (backoff), then locked
    rec.waits.clear();
    {
        std::lock_guard lock(fake.mu());
        fake.unavailable_next = 100;
    }
    CHECK_THROWS_WITH_AS(
        p->servers(), doctest::Contains("HTTP 503: maintenance: cannot perform operation due to maintenance"),
        Error);
    CHECK(rec.waits.size() == size_t(http::api_timing().retries));
}
