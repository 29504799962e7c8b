// DNS wire format (RFC 1035) for the small resolver in query.cpp: build a query, decode an
// answer with name compression. Decoding never trusts the input: every read is bounds-checked,
// compression pointers may only point backwards, and anything malformed is an Error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dns/dns.hpp"

namespace decamp::dns {

enum RRType : uint16_t { kTypeA = 1, kTypeNS = 2, kTypeCNAME = 5, kTypeSOA = 6, kTypeAAAA = 28 };
enum RCode : int {
    kNoError = 0,
    kFormErr = 1,
    kServFail = 2,
    kNXDomain = 3,
    kNotImp = 4,
    kRefused = 5,
    // RFC 2136 (UPDATE)
    kYXDomain = 6,
    kYXRRset = 7,
    kNXRRset = 8,
    kNotAuth = 9,
    kNotZone = 10,
};

struct Question {
    std::string name;  // with trailing dot, as on the wire (case kept)
    uint16_t type = kTypeA;
    uint16_t klass = 1;  // IN
};

struct ResourceRecord {
    std::string name;
    uint16_t type = 0;
    uint16_t klass = 1;
    uint32_t ttl = 0;
    std::string rdata;  // raw bytes
    std::string text;   // A/AAAA address, CNAME/NS target; "" for other types
};

struct Message {
    uint16_t id = 0;
    bool qr = false;  // a response
    bool aa = false;  // authoritative
    bool tc = false;  // truncated: ask again over TCP
    bool rd = false;
    bool ra = false;
    int opcode = 0;
    int rcode = 0;
    std::vector<Question> questions;
    std::vector<ResourceRecord> answers;
    std::vector<ResourceRecord> authority;
    std::vector<ResourceRecord> additional;
};

// "www.example.test" or "www.example.test." → "www.example.test." in lower case. Throws
// Error for empty labels, a label over 63 bytes or a name over 253.
std::string canonical_name(std::string_view name);
// Case-insensitive comparison of two names, trailing dots ignored.
bool same_name(std::string_view a, std::string_view b);
// "A" → 1, "AAAA" → 28, "CNAME", "NS", "SOA"; throws Error for others.
uint16_t type_code(const std::string& type);
// 1 → "A", …; "TYPE<n>" for others.
std::string type_name(uint16_t type);
std::string rcode_name(int rcode);
// The records of `type` that answer `name` in m's answer section, following a CNAME chain
// there (class IN only).
std::vector<ResourceRecord> answer_records(const Message& m, std::string_view name, uint16_t type);

// A query for one question; RD as given (we ask authoritative servers, so normally off).
std::string encode_query(uint16_t id, std::string_view name, uint16_t type, bool rd = false);
// Full message without compression (test servers and round-trip tests use it).
std::string encode(const Message& m);
// Throws Error("malformed DNS message: …") on anything it cannot read.
Message decode(std::string_view wire);

}  // namespace decamp::dns
