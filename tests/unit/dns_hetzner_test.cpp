// The hetzner DNS back-end against the fake Hetzner Cloud API on loopback: set_records and
// change_ttl actions polled until done, an RRset created when absent, other records
// untouched, a refused token (one request, never retried), 429 waiting for RateLimit-Reset,
// 503 retried, a failed action reported, and the token in no error text.
#include <doctest/doctest.h>

#include "dns/dns.hpp"
#include "dns_api_fixture.hpp"
#include "fake_hetzner_cloud.hpp"

using namespace decamp;
using namespace decamp::dns;

namespace {

struct Rig {
    test::RecordedWaits timing;
    test::FakeHetznerCloud fake;
    Rig() {
        redactor().add(fake.token);
        fake.add_rrset("www", "A", 300, {"198.18.1.11"});
        fake.add_rrset("www", "AAAA", std::nullopt, {"2001:db8:1::11"});
        fake.add_rrset("www", "TXT", 300, {"\"v=spf1 -all\""});
        fake.add_rrset("alias", "CNAME", 300, {"www.example.test."});
        fake.add_rrset("db", "A", 120, {"198.18.1.12"});
        fake.add_rrset("@", "A", 300, {"198.18.1.10"});
    }
    BackendConfig config(const std::string& token = "") {
        BackendConfig c;
        c.kind = "hetzner";
        c.api = fake.url();
        c.api_key = token.empty() ? fake.token : token;
        c.zone = "example.test.";
        return c;
    }
    std::vector<std::string> all() {
        std::vector<std::string> out;
        for (const auto& x : fake.rrsets()) {
            std::string line = x.name + " " + x.type + " " + (x.ttl ? std::to_string(*x.ttl) : "-");
            for (const auto& v : x.values) line += " " + v;
            out.push_back(line);
        }
        return out;
    }
};

}  // namespace

TEST_CASE("dns hetzner: set_records polled until done, TTL change, creation, others untouched") {
    Rig rig;
    auto b = make_backend(rig.config());
    b->ping();
    auto www = b->get("www.example.test.", "A");
    REQUIRE(www);
    CHECK(www->records == std::vector<std::string>{"198.18.1.11"});
    CHECK(www->ttl == 300);
    CHECK(b->get("www.example.test.", "AAAA")->ttl == 3600);  // the zone's default
    CHECK(!b->get("none.example.test.", "A"));

    b->replace({"www.example.test.", "A", 300, {"198.18.2.11", "198.18.2.12"}});
    CHECK(rig.fake.count("POST", "/v1/zones/example.test/rrsets/www/A/actions/set_records") == 1);
    CHECK(rig.fake.count("POST", "/v1/zones/example.test/rrsets/www/A/actions/change_ttl") == 0);
    CHECK(rig.fake.count("GET", "/v1/actions") == 2);  // running, running → success
    CHECK(rig.all() == std::vector<std::string>{"www A 300 198.18.2.11 198.18.2.12",
                                                "www AAAA - 2001:db8:1::11", "www TXT 300 \"v=spf1 -all\"",
                                                "alias CNAME 300 www.example.test.", "db A 120 198.18.1.12",
                                                "@ A 300 198.18.1.10"});

    // TTL only: change_ttl, no set_records; the same again sends nothing.
    b->replace({"www.example.test.", "A", 60, {"198.18.2.12", "198.18.2.11"}});
    CHECK(rig.fake.count("POST", "/v1/zones/example.test/rrsets/www/A/actions/set_records") == 1);
    CHECK(rig.fake.count("POST", "/v1/zones/example.test/rrsets/www/A/actions/change_ttl") == 1);
    CHECK(b->get("www.example.test.", "A")->ttl == 60);
    size_t n = rig.fake.seen().size();
    b->replace({"www.example.test.", "A", 60, {"198.18.2.11", "198.18.2.12"}});
    CHECK(rig.fake.seen().size() == n + 1);  // the read only

    // AAAA, the apex, and an RRset that does not exist yet.
    b->replace({"www.example.test.", "AAAA", 60, {"2001:db8:2::11"}});
    b->replace({"example.test.", "A", 60, {"198.18.2.10"}});
    b->replace({"new.example.test.", "A", 60, {"198.18.2.14"}});
    CHECK(b->get("www.example.test.", "AAAA")->records == std::vector<std::string>{"2001:db8:2::11"});
    CHECK(b->get("example.test.", "A")->records == std::vector<std::string>{"198.18.2.10"});
    CHECK(b->get("new.example.test.", "A")->records == std::vector<std::string>{"198.18.2.14"});
    CHECK(rig.all()[3] == "alias CNAME 300 www.example.test.");
    CHECK(rig.all()[4] == "db A 120 198.18.1.12");
}

TEST_CASE("dns hetzner: a refused token is one request, never retried, and never printed") {
    Rig rig;
    {
        std::lock_guard lock(rig.fake.mu());
        rig.fake.quote_token = true;
    }
    std::string wrong = "hcloud-wrong-token-5555";
    redactor().add(wrong);
    auto b = make_backend(rig.config(wrong));
    std::string e = test::error_text([&] { b->replace({"www.example.test.", "A", 60, {"198.18.2.11"}}); });
    CHECK_MESSAGE(test::contains(e, "HTTP 401: unauthorized: unable to authenticate"), e);
    CHECK_MESSAGE(test::contains(e, "not retried"), e);
    CHECK_MESSAGE(!test::contains(e, wrong), e);
    CHECK(rig.fake.seen().size() == 1);
    CHECK(rig.timing.waits.empty());
}

TEST_CASE("dns hetzner: 429 waits for the reset, 503 is retried, a failed action is an error") {
    Rig rig;
    auto b = make_backend(rig.config());
    {
        std::lock_guard lock(rig.fake.mu());
        rig.fake.throttle_next = 1;
        rig.fake.unavailable_next = 0;
    }
    b->replace({"www.example.test.", "A", 300, {"198.18.2.11"}});
    REQUIRE(!rig.timing.waits.empty());
    CHECK(rig.timing.waits[0] >= 1000);  // RateLimit-Reset is a second away
    CHECK(rig.timing.waits[0] <= 2000);
    CHECK(b->get("www.example.test.", "A")->records == std::vector<std::string>{"198.18.2.11"});

    rig.timing.waits.clear();
    {
        std::lock_guard lock(rig.fake.mu());
        rig.fake.unavailable_next = 2;
    }
    b->replace({"www.example.test.", "A", 300, {"198.18.2.12"}});
    CHECK(rig.timing.waits.at(0) == 500);
    CHECK(rig.timing.waits.at(1) == 1000);
    CHECK(b->get("www.example.test.", "A")->records == std::vector<std::string>{"198.18.2.12"});

    {
        std::lock_guard lock(rig.fake.mu());
        rig.fake.fail_next_action = "action_failed";
    }
    std::string e = test::error_text([&] { b->replace({"www.example.test.", "A", 300, {"198.18.2.13"}}); });
    CHECK_MESSAGE(test::contains(e, "replacing www.example.test. A: action"), e);
    CHECK_MESSAGE(test::contains(e, "failed: action_failed"), e);
    CHECK(b->get("www.example.test.", "A")->records == std::vector<std::string>{"198.18.2.12"});

    // Below the minimum TTL: refused before any request.
    size_t n = rig.fake.seen().size();
    e = test::error_text([&] { b->replace({"www.example.test.", "A", 30, {"198.18.2.13"}}); });
    CHECK_MESSAGE(test::contains(e, "below the 60 s"), e);
    CHECK(rig.fake.seen().size() == n);
    // A zone the project does not have.
    auto c = rig.config();
    c.zone = "other.test.";
    e = test::error_text([&] { make_backend(c)->ping(); });
    CHECK_MESSAGE(test::contains(e, "reading zone other.test.: HTTP 404: not_found"), e);
}
