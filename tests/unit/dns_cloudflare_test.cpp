// The Cloudflare back-end against a fake v4 API on loopback: an RRset replaced in one batch
// call, TTL changes, other records untouched, a refused token (one request, never retried),
// 429 with Retry-After honoured, 500 retried, and the token in no error text.
#include <doctest/doctest.h>

#include <algorithm>

#include "dns/dns.hpp"
#include "dns_api_fixture.hpp"
#include "fake_cloudflare.hpp"

using namespace decamp;
using namespace decamp::dns;

namespace {

struct Rig {
    test::RecordedWaits timing;
    test::FakeCloudflare fake;
    Rig() {
        redactor().add(fake.token);
        fake.add("A", "www.example.test", "198.18.1.11");
        fake.add("AAAA", "www.example.test", "2001:db8:1::11");
        fake.add("TXT", "www.example.test", "\"v=spf1 -all\"");
        fake.add("CNAME", "alias.example.test", "www.example.test");
        fake.add("A", "db.example.test", "198.18.1.12", 120);
        fake.add("MX", "example.test", "mail.example.test");
    }
    BackendConfig config(const std::string& token = "") {
        BackendConfig c;
        c.kind = "cloudflare";
        c.api = fake.url();
        c.api_key = token.empty() ? fake.token : token;
        c.zone = "example.test.";
        return c;
    }
    size_t batches() {
        auto seen = fake.seen();
        return size_t(std::count_if(seen.begin(), seen.end(), [](const test::HttpRequest& r) {
            return r.path.find("/batch") != std::string::npos;
        }));
    }
    // Every record but the A records of www, as they were.
    std::vector<std::string> others() {
        std::vector<std::string> out;
        for (const auto& r : fake.records())
            if (!(r.name == "www.example.test" && r.type == "A"))
                out.push_back(r.id + " " + r.type + " " + r.name + " " + r.content + " " +
                              std::to_string(r.ttl));
        return out;
    }
};

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

}  // namespace

TEST_CASE("dns cloudflare: replace in one batch, other records untouched, idempotent") {
    Rig rig;
    auto b = make_backend(rig.config());
    b->ping();
    auto before = rig.others();
    auto www = b->get("WWW.example.test", "A");
    REQUIRE(www);
    CHECK(www->records == std::vector<std::string>{"198.18.1.11"});
    CHECK(www->ttl == 300);

    b->replace({"www.example.test.", "A", 60, {"198.18.2.11", "198.18.2.12"}});
    CHECK(rig.batches() == 1);
    www = b->get("www.example.test.", "A");
    REQUIRE(www);
    CHECK(sorted(www->records) == std::vector<std::string>{"198.18.2.11", "198.18.2.12"});
    CHECK(www->ttl == 60);
    CHECK(rig.others() == before);  // AAAA, TXT at the same name, CNAME, db, MX

    // The same again sends nothing.
    b->replace({"www.example.test.", "A", 60, {"198.18.2.12", "198.18.2.11"}});
    CHECK(rig.batches() == 1);

    // Back to one address: the other is deleted in the same batch.
    b->replace({"www.example.test.", "A", 60, {"198.18.2.12"}});
    CHECK(rig.batches() == 2);
    CHECK(b->get("www.example.test.", "A")->records == std::vector<std::string>{"198.18.2.12"});

    // AAAA and a record of another role; a missing RRset is created.
    b->replace({"www.example.test.", "AAAA", 60, {"2001:db8:2::11"}});
    b->replace({"db.example.test.", "A", 60, {"198.18.2.13"}});
    b->replace({"new.example.test.", "A", 60, {"198.18.2.14"}});
    CHECK(b->get("www.example.test.", "AAAA")->records == std::vector<std::string>{"2001:db8:2::11"});
    CHECK(b->get("db.example.test.", "A")->records == std::vector<std::string>{"198.18.2.13"});
    CHECK(b->get("new.example.test.", "A")->records == std::vector<std::string>{"198.18.2.14"});
    CHECK(!b->get("nothing.example.test.", "A"));
    auto recs = rig.fake.records();
    CHECK(std::count_if(recs.begin(), recs.end(),
                        [](auto& r) { return r.type == "CNAME" || r.type == "TXT" || r.type == "MX"; }) == 3);
}

TEST_CASE("dns cloudflare: a TTL change patches the TTL and keeps the record ids") {
    Rig rig;
    auto b = make_backend(rig.config());
    auto ids = [&] {
        std::vector<std::string> out;
        for (const auto& r : rig.fake.records())
            if (r.name == "www.example.test" && r.type == "A")
                out.push_back(r.id + "/" + std::to_string(r.ttl));
        return out;
    };
    std::string id = ids().at(0).substr(0, ids().at(0).find('/'));
    b->replace({"www.example.test.", "A", 3600, {"198.18.1.11"}});
    CHECK(ids() == std::vector<std::string>{id + "/3600"});
    auto seen = rig.fake.seen();
    CHECK(seen.back().body == "{\"patches\":[{\"id\":\"" + id + "\",\"ttl\":3600}]}");
    // Below Cloudflare's 60 s: refused before any request.
    size_t n = rig.fake.seen().size();
    CHECK(test::contains(test::error_text([&] {
                             b->replace({"www.example.test.", "A", 30, {"198.18.1.11"}});
                         }),
                         "below the 60 s"));
    CHECK(rig.fake.seen().size() == n);
    CHECK(dns::min_ttl("cloudflare") == 60);
}

TEST_CASE("dns cloudflare: a refused token is one request, never retried, and never printed") {
    Rig rig;
    {
        std::lock_guard lock(rig.fake.mu());
        rig.fake.quote_token = true;
    }
    std::string wrong = "cf-wrong-token-fedcba9876";
    redactor().add(wrong);
    auto b = make_backend(rig.config(wrong));
    std::string e = test::error_text([&] { b->replace({"www.example.test.", "A", 60, {"198.18.2.11"}}); });
    CHECK_MESSAGE(test::contains(e, "HTTP 401: 10000: Authentication error"), e);
    CHECK_MESSAGE(test::contains(e, "not retried"), e);
    CHECK_MESSAGE(!test::contains(e, wrong), e);
    CHECK_MESSAGE(!test::contains(e, rig.fake.token), e);
    CHECK(rig.fake.seen().size() == 1);
    CHECK(rig.timing.waits.empty());
    CHECK(!test::contains(b->describe(), wrong));
}

TEST_CASE("dns cloudflare: 429 waits as Retry-After says, 500 is retried, API errors are quoted") {
    Rig rig;
    auto b = make_backend(rig.config());
    b->ping();
    {
        std::lock_guard lock(rig.fake.mu());
        rig.fake.throttle_next = 1;  // the 5-minute block
    }
    b->replace({"www.example.test.", "A", 60, {"198.18.2.11"}});
    CHECK(rig.timing.waits == std::vector<int>{300000});
    CHECK(b->get("www.example.test.", "A")->records == std::vector<std::string>{"198.18.2.11"});

    rig.timing.waits.clear();
    {
        std::lock_guard lock(rig.fake.mu());
        rig.fake.fail_next = 2;
    }
    b->replace({"www.example.test.", "A", 60, {"198.18.2.12"}});
    CHECK(rig.timing.waits == std::vector<int>{1000, 2000});
    CHECK(b->get("www.example.test.", "A")->records == std::vector<std::string>{"198.18.2.12"});

    // Still 500 after every retry: the API's word, the token nowhere.
    rig.timing.waits.clear();
    {
        std::lock_guard lock(rig.fake.mu());
        rig.fake.fail_next = 100;
        rig.fake.quote_token = true;
    }
    std::string e = test::error_text([&] { b->replace({"www.example.test.", "A", 60, {"198.18.2.13"}}); });
    CHECK_MESSAGE(test::contains(e, "HTTP 500: 10001: Internal Server Error"), e);
    CHECK_MESSAGE(!test::contains(e, rig.fake.token), e);
    CHECK(rig.timing.waits.size() == size_t(http::api_timing().retries));
    {
        std::lock_guard lock(rig.fake.mu());
        rig.fake.fail_next = 0;
    }
    // An A record beside a CNAME: Cloudflare's refusal, with its code.
    e = test::error_text([&] { b->replace({"alias.example.test.", "A", 60, {"198.18.2.11"}}); });
    CHECK_MESSAGE(test::contains(e, "replacing alias.example.test. A: HTTP 400: 81053"), e);
    CHECK_MESSAGE(!test::contains(e, rig.fake.token), e);
}

TEST_CASE("dns cloudflare: a zone the token does not see, names outside the zone") {
    Rig rig;
    auto c = rig.config();
    c.zone = "other.test.";
    std::string e = test::error_text([&] { make_backend(c)->ping(); });
    CHECK_MESSAGE(test::contains(e, "sees no zone named other.test"), e);
    auto b = make_backend(rig.config());
    e = test::error_text([&] { b->replace({"www.other.test.", "A", 60, {"198.18.2.11"}}); });
    CHECK_MESSAGE(test::contains(e, "outside zone example.test."), e);
    e = test::error_text([&] { b->replace({"www.example.test.", "A", 60, {"2001:db8::1"}}); });
    CHECK_MESSAGE(test::contains(e, "not an IPv4 address"), e);
    c = rig.config();
    c.api_key.clear();
    CHECK(test::contains(test::error_text([&] { make_backend(c); }), "'api_token' is required"));
}
