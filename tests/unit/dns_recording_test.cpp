// The recording DnsBackend that migration tests use in place of PowerDNS.
#include <doctest/doctest.h>

#include "dns/recording.hpp"

using namespace decamp;
using namespace decamp::dns;

TEST_CASE("dns recording: keeps rrsets, records calls in order") {
    RecordingBackend b;
    b.set({"www.example.test", "A", 300, {"198.18.1.11"}});
    CHECK(b.call_count() == 0);
    b.ping();
    auto www = b.get("WWW.example.test.", "A");
    REQUIRE(www.has_value());
    CHECK(www->records == std::vector<std::string>{"198.18.1.11"});
    CHECK_FALSE(b.get("www.example.test.", "AAAA").has_value());
    b.replace({"www.example.test.", "A", 60, {"198.18.2.11", "198.18.2.12"}});
    CHECK(b.peek("www.example.test.", "A")->ttl == 60);
    CHECK(b.calls() == std::vector<std::string>{"ping", "get www.example.test. A", "get www.example.test. AAAA",
                                                "replace www.example.test. A 60 198.18.2.11,198.18.2.12"});
    CHECK(b.describe() == "recording zone example.test.");
}

TEST_CASE("dns recording: fails from the Nth call on, and names outside the zone") {
    RecordingBackend b;
    b.fail_from(3, "API down");
    b.ping();
    b.get("www.example.test.", "A");
    CHECK_THROWS_WITH_AS(b.replace({"www.example.test.", "A", 60, {"198.18.2.11"}}), "API down", Error);
    CHECK_THROWS_AS(b.ping(), Error);
    CHECK(b.call_count() == 4);  // failed calls are recorded too
    CHECK_FALSE(b.peek("www.example.test.", "A").has_value());  // a failed replace changes nothing
    b.fail_from(0);
    CHECK_NOTHROW(b.ping());
    CHECK_THROWS_WITH_AS(b.replace({"www.other.test.", "A", 60, {"198.18.2.11"}}),
                         doctest::Contains("outside zone example.test."), Error);
}
