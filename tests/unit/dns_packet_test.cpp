// DNS wire format: query encoding, answers with compression pointers, and hostile input
// (truncations, pointer loops, random mutations) that must end in Error, never a crash.
#include <doctest/doctest.h>

#include <random>

#include "dns/packet.hpp"

using namespace decamp;
using namespace decamp::dns;

namespace {

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int c : b) s += char(c);
    return s;
}

// An answer for www.example.test. A written by hand with compression, as servers send it:
// the answer's owner is a pointer to the question name (offset 12), and a CNAME target
// points into the middle of it ("example.test." at offset 16).
std::string compressed_answer(uint16_t id) {
    std::string m = bytes({id >> 8, id & 0xFF, 0x84, 0x00, 0, 1, 0, 3, 0, 0, 0, 0});
    m += bytes({3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0});
    m += bytes({0, 1, 0, 1});
    // www → CNAME web.example.test. (label "web" then pointer to offset 16)
    m += bytes({0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, 'w', 'e', 'b', 0xC0, 16});
    // web.example.test. (pointer to the "web" label inside the CNAME rdata, offset 46) A
    m += bytes({0xC0, 46, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4, 198, 18, 2, 11});
    m += bytes({0xC0, 46, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4, 198, 18, 2, 12});
    return m;
}

}  // namespace

TEST_CASE("dns packet: names are canonical") {
    CHECK(canonical_name("WWW.Example.Test") == "www.example.test.");
    CHECK(canonical_name("www.example.test.") == "www.example.test.");
    CHECK(canonical_name(".") == ".");
    CHECK_THROWS_AS(canonical_name(""), Error);
    CHECK_THROWS_AS(canonical_name("a..b"), Error);
    CHECK_THROWS_AS(canonical_name(std::string(64, 'a') + ".test"), Error);
    CHECK_NOTHROW(canonical_name(std::string(63, 'a') + ".test"));
    std::string long_name;
    for (int i = 0; i < 64; ++i) long_name += "abc.";
    CHECK_THROWS_AS(canonical_name(long_name), Error);
    CHECK(same_name("WWW.example.test", "www.example.test."));
    CHECK_FALSE(same_name("www.example.test", "ww.example.test"));
    CHECK(type_code("AAAA") == 28);
    CHECK_THROWS_AS(type_code("MX"), Error);
}

TEST_CASE("dns packet: query encoding is byte-exact") {
    std::string q = encode_query(0xBEEF, "www.Example.test", kTypeA);
    CHECK(q == bytes({0xBE, 0xEF, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w', 'w', 7, 'e', 'x', 'a',
                      'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1}));
    CHECK((uint8_t(encode_query(1, "x.", kTypeAAAA, true)[2]) & 0x01) == 0x01);  // RD bit
    Message m = decode(q);
    CHECK(m.id == 0xBEEF);
    CHECK_FALSE(m.qr);
    CHECK_FALSE(m.rd);
    REQUIRE(m.questions.size() == 1);
    CHECK(m.questions[0].name == "www.example.test.");
    CHECK(m.questions[0].type == kTypeA);
}

TEST_CASE("dns packet: answers with compression pointers") {
    Message m = decode(compressed_answer(0x1234));
    CHECK(m.id == 0x1234);
    CHECK(m.qr);
    CHECK(m.aa);
    CHECK(m.rcode == kNoError);
    REQUIRE(m.answers.size() == 3);
    CHECK(m.answers[0].name == "www.example.test.");
    CHECK(m.answers[0].type == kTypeCNAME);
    CHECK(m.answers[0].text == "web.example.test.");
    CHECK(m.answers[1].name == "web.example.test.");
    CHECK(m.answers[1].ttl == 3600);
    CHECK(m.answers[1].text == "198.18.2.11");
    CHECK(m.answers[2].text == "198.18.2.12");
}

TEST_CASE("dns packet: encode/decode round trip with AAAA, NXDOMAIN and TC") {
    Message m;
    m.id = 7;
    m.qr = m.aa = m.tc = true;
    m.rcode = kNXDomain;
    m.questions.push_back({"v6.example.test.", kTypeAAAA, 1});
    ResourceRecord rr;
    rr.name = "v6.example.test.";
    rr.type = kTypeAAAA;
    rr.ttl = 5;
    rr.text = "2001:db8::1";
    m.answers.push_back(rr);
    Message back = decode(encode(m));
    CHECK(back.tc);
    CHECK(back.rcode == kNXDomain);
    REQUIRE(back.answers.size() == 1);
    CHECK(back.answers[0].text == "2001:db8::1");
    CHECK(rcode_name(back.rcode) == "NXDOMAIN");
    CHECK(rcode_name(9) == "NOTAUTH");
    CHECK(rcode_name(11) == "RCODE 11");
}

TEST_CASE("dns packet: malformed input is an Error") {
    std::string good = compressed_answer(1);
    for (size_t n = 0; n < good.size(); ++n) {  // every truncation
        CAPTURE(n);
        CHECK_THROWS_AS(decode(good.substr(0, n)), Error);
    }
    // A pointer to itself, a forward pointer, a pointer loop between two names.
    std::string self = bytes({0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1});
    CHECK_THROWS_WITH_AS(decode(self), doctest::Contains("backwards"), Error);
    std::string fwd = bytes({0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 14, 1, 'a', 0, 0, 1, 0, 1});
    CHECK_THROWS_AS(decode(fwd), Error);
    std::string loop = bytes({0, 1, 0x80, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1, 'a', 0xC0, 18, 0, 1, 0, 1, 1, 'b',
                              0xC0, 12, 0, 1, 0, 1});
    CHECK_THROWS_AS(decode(loop), Error);
    std::string label_type = bytes({0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 1, 0, 1});
    CHECK_THROWS_AS(decode(label_type), Error);
    // An A record whose data is not 4 bytes.
    std::string bad_a = bytes({0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 3,
                               1, 2, 3});
    CHECK_THROWS_WITH_AS(decode(bad_a), doctest::Contains("A record with 3 bytes"), Error);
    // A truncated (TC) answer that stops mid-record still yields its header.
    std::string tc = good.substr(0, 40);
    tc[2] = char(0x86);
    CHECK(decode(tc).tc);
}

TEST_CASE("dns packet: random mutations never crash") {
    std::mt19937 rng(42);
    std::vector<std::string> seeds = {compressed_answer(9), encode_query(3, "www.example.test.", kTypeAAAA)};
    int decoded = 0, rejected = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string s = seeds[size_t(i) % seeds.size()];
        int edits = 1 + int(rng() % 4);
        for (int k = 0; k < edits; ++k) {
            size_t at = rng() % s.size();
            switch (rng() % 4) {
            case 0: s[at] = char(rng()); break;
            case 1: s[at] = char(0xC0 | (rng() & 0x3F)); break;  // a random pointer
            case 2: s.insert(s.begin() + long(at), char(rng())); break;
            case 3: s.erase(at, 1 + rng() % 4); break;
            }
            if (s.empty()) s = "x";
        }
        try {
            Message m = decode(s);
            for (const auto& rr : m.answers) CHECK(rr.name.size() <= 256);
            ++decoded;
        } catch (const Error&) {
            ++rejected;
        }
    }
    CHECK(decoded > 0);
    CHECK(rejected > 0);
}
