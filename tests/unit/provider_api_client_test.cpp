// provider/api_client: the shared pieces of the API kinds (URL checks, form encoding, error
// texts) and the retry behaviour as the Hetzner Cloud kind uses it against its fake.
#include <doctest/doctest.h>

#include <cstdlib>

#include "fake_hetzner_cloud.hpp"
#include "inventory/inventory.hpp"
#include "provider/api_client.hpp"
#include "provider/provider.hpp"
#include "test_util.hpp"
#include "util/secret.hpp"

using namespace decamp;

TEST_CASE("api client: api: URLs") {
    CHECK(provider::check_api_url("https://api.hetzner.cloud/v1") == "");
    CHECK(provider::check_api_url("http://127.0.0.1:8080") == "");
    CHECK(provider::check_api_url("ftp://x").find("expected an http:// or https:// URL") == 0);
    CHECK(provider::check_api_url("api.hetzner.cloud").find("expected") == 0);
    CHECK(provider::check_api_url("https://") != "");
    CHECK(provider::check_api_url("https://user:pw@host/v1") ==
          "credentials do not belong in the URL; give them as secrets");
    CHECK(provider::check_api_url("https://host/v1/") == "no trailing slash");
    CHECK(provider::check_api_url("https://host/v1?x=1") != "");
}

TEST_CASE("api client: form encoding and failure texts") {
    CHECK(provider::form_encode("Debian 12 base") == "Debian%2012%20base");
    CHECK(provider::form_encode("d7:2e:00") == "d7%3A2e%3A00");
    CHECK(provider::form_encode("a-b_c.d~e") == "a-b_c.d~e");
    CHECK(provider::form_encode("ssh-ed25519 AA+/=") == "ssh-ed25519%20AA%2B%2F%3D");
    http::Response none;
    none.error = "GET http://127.0.0.1:1/x: Connection refused";
    CHECK(provider::describe_failure("GET", "/x", none, "") ==
          "GET /x: GET http://127.0.0.1:1/x: Connection refused");
    http::Response r;
    r.status = 422;
    redactor().add("a-secret-token-xyz");
    CHECK(provider::describe_failure("POST", "/servers", r, "invalid_input: a-secret-token-xyz is wrong") ==
          "POST /servers: HTTP 422: invalid_input: *** is wrong");
}

namespace {

struct Recorded {
    provider::ApiTiming saved = provider::api_timing();
    std::vector<int> waits;
    Recorded() {
        provider::api_timing().poll_ms = 1;
        provider::api_timing().sleep = [this](int ms) { waits.push_back(ms); };
    }
    ~Recorded() { provider::api_timing() = saved; }
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
    CHECK(rec.waits.size() == size_t(provider::api_timing().retries));
}
