// The JSON facade over nlohmann::json used for provider and DNS APIs and reports: strict
// grammar, escapes, \u and surrogate pairs, bounded nesting, and garbage that is an error
// rather than a crash.
#include <doctest/doctest.h>

#include <random>

#include "util/json.hpp"

using namespace decamp;
using json::Value;

TEST_CASE("json: a PowerDNS zone answer") {
    Value v = json::parse(R"({"name": "example.test.", "serial": 2024010101,
        "rrsets": [{"name": "www.example.test.", "type": "A", "ttl": 300,
                    "records": [{"content": "198.18.1.11", "disabled": false}], "comments": []}],
        "dnssec": false, "account": null})");
    CHECK(v.is_object());
    CHECK(v["name"].str() == "example.test.");
    CHECK(v["serial"].int_or(0) == 2024010101);
    json::Ref rs = v["rrsets"][0];
    CHECK(rs["ttl"].int_or(0) == 300);
    CHECK(rs["records"][0]["content"].str() == "198.18.1.11");
    CHECK(rs["records"][0]["disabled"].bool_or(true) == false);
    CHECK(v["account"].is_null());
    CHECK(v["missing"]["deeper"][3].is_null());  // chains never throw
    CHECK(v["rrsets"][7].is_null());
    CHECK(v["name"].int_or(-1) == -1);           // wrong type → fallback
    CHECK(v.find("dnssec").has_value());
    CHECK(!v.find("nope"));
}

TEST_CASE("json: scalars, numbers and whitespace") {
    CHECK(json::parse(" true ").bool_or(false));
    CHECK(json::parse("null").is_null());
    CHECK(json::parse("0").number_or(1) == 0);
    CHECK(json::parse("-12.5e2").number_or(0) == -1250);
    CHECK(json::parse("1E+2").number_or(0) == 100);
    CHECK(json::parse("1e-400").number_or(1) == 0);
    CHECK(json::parse("\t[ ]\r\n").is_array());
    CHECK(json::parse("{}").size() == 0);
    for (const char* bad : {"01", "-", "1.", ".5", "+1", "1e", "1e+", "0x10", "1e400", "NaN", "Infinity"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(json::parse(bad), json::ParseError);
    }
}

TEST_CASE("json: string escapes and unicode") {
    CHECK(json::parse(R"("a\"b\\c\/d\b\f\n\r\t")").str() == "a\"b\\c/d\b\f\n\r\t");
    CHECK(json::parse(R"("\u0041\u00e9\u20ac")").str() == "A\xC3\xA9\xE2\x82\xAC");
    CHECK(json::parse(R"("\ud83d\ude00")").str() == "\xF0\x9F\x98\x80");  // surrogate pair
    CHECK(json::parse(R"("\u0000")").str() == std::string(1, '\0'));
    CHECK(json::parse("\"h\xC3\xA9\"").str() == "h\xC3\xA9");  // raw UTF-8 passes through
    for (const char* bad : {R"("\ud83d")", R"("\ude00")", R"("\ud83dx")", R"("\u12")", R"("\uZZZZ")",
                            R"("\x41")", "\"tab\there\"", R"("open)", R"("\)"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(json::parse(bad), json::ParseError);
    }
}

TEST_CASE("json: structure errors name the offset") {
    for (const char* bad : {"", "   ", "{", "[1,", "[1,]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{a:1}",
                            "[1 2]", "{} {}", "tru", "nul", "'x'", "[\"a\"]]"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(json::parse(bad), json::ParseError);
    }
    try {
        json::parse("[1, 2, x]");
        FAIL("no error");
    } catch (const json::ParseError& e) {
        CHECK(std::string(e.what()).find("offset 7") != std::string::npos);
    }
}

TEST_CASE("json: nesting is bounded, not a stack overflow") {
    CHECK(json::parse(std::string(100, '[') + std::string(100, ']')).is_array());
    const int max = json::kMaxDepth;
    CHECK(json::parse(std::string(max, '[') + std::string(max, ']')).is_array());
    CHECK_THROWS_AS(json::parse(std::string(max + 1, '[') + std::string(max + 1, ']')), json::ParseError);
    CHECK_THROWS_AS(json::parse(std::string(100000, '[')), json::ParseError);
    // A million levels: refused at kMaxDepth while parsing, with the offset of the bracket
    // too many, before anything recursive (copy, ==, dump) could see it.
    std::string deep_objects;
    for (int i = 0; i < 1000000; ++i) deep_objects += R"({"a":)";
    for (const std::string& deep : {std::string(1000000, '[') + std::string(1000000, ']'),
                                    std::string(1000000, '['), deep_objects}) {
        try {
            json::parse(deep);
            FAIL("no error");
        } catch (const json::ParseError& e) {
            CHECK(std::string(e.what()).find("nesting deeper than") != std::string::npos);
        }
    }
    try {
        json::parse(R"({"a":[)" + std::string(300, '['));
        FAIL("no error");
    } catch (const json::ParseError& e) {
        CHECK(std::string(e.what()) == "invalid JSON at offset 204: nesting deeper than 200");
    }
}

TEST_CASE("json: errors are short and never quote a whole hostile input") {
    try {
        json::parse("\"" + std::string(1000000, 'x'));
        FAIL("no error");
    } catch (const json::ParseError& e) {
        CHECK(std::string(e.what()).size() < 300);
    }
    CHECK_THROWS_AS(json::parse("\"\xff\""), json::ParseError);  // invalid UTF-8 is refused on input
}

TEST_CASE("json: dump round-trips and escapes") {
    Value v;
    v.set("name", "www.example.test.").set("ttl", 60).set("ok", true).set("none", nullptr);
    v.set("records", Value{Value::Array{}}.push(Value{}.set("content", "1.2.3.4")));
    v.set("text", std::string("quote\" back\\ nl\n ctl\x01"));
    v.set("half", 0.5);
    std::string s = json::dump(v);
    CHECK(s == R"({"name":"www.example.test.","ttl":60,"ok":true,"none":null,)"
               R"("records":[{"content":"1.2.3.4"}],"text":"quote\" back\\ nl\n ctl\u0001","half":0.5})");
    CHECK(json::parse(s) == v);
    v.set("ttl", 120);  // set replaces
    CHECK(v["ttl"].int_or(0) == 120);
    CHECK(json::quote("a\tb") == "\"a\\tb\"");
    CHECK(json::dump(Value(12.0)) == "12");  // integral doubles print as integers
    CHECK(json::dump(Value(std::nan(""))) == "null");
    CHECK(json::dump(Value(json::rounded(1.23456))) == "1.235");
    CHECK(json::dump(Value(uint64_t(1) << 63)) == "9223372036854775808");
}

TEST_CASE("json: host bytes that are not UTF-8 never make dump throw") {
    CHECK(json::quote("ok \xff\xfe end") == "\"ok \xEF\xBF\xBD\xEF\xBF\xBD end\"");  // U+FFFD each
    CHECK(json::quote("h\xC3\xA9") == "\"h\xC3\xA9\"");                               // valid UTF-8 kept
}

TEST_CASE("json: views, copies and moves") {
    Value doc = json::parse(R"({"a":{"b":[1,"two",{"c":true}]}})");
    json::Ref b = doc["a"]["b"];
    CHECK(b.size() == 3);
    CHECK(b.items()[1].str() == "two");
    CHECK(b[2]["c"].bool_or(false));
    CHECK(doc["a"].members().at(0).first == "b");
    Value copy(b);  // deep copy of a subtree
    Value moved = std::move(doc);
    CHECK(doc.is_null());  // NOLINT(bugprone-use-after-move): moved-from is a valid null
    CHECK(moved["a"]["b"] == copy);
    copy.push(4);
    CHECK(copy.size() == 4);
    CHECK(moved["a"]["b"].size() == 3);
    Value o;
    CHECK_THROWS_AS(Value(1).push(2), Error);
    CHECK_THROWS_AS(Value(Value::Array{}).set("k", 1), Error);
    o.set("k", 1);
    CHECK(json::dump(o) == R"({"k":1})");
}

TEST_CASE("json: random mutations of a document never crash") {
    const std::string seed = R"({"rrsets":[{"name":"w.","ttl":3,"records":[{"content":"\u00e9\"","x":[1.5e3,null,true]}]}]})";
    std::mt19937 rng(1234);
    const std::string alphabet = "{}[],:\"\\/u0123456789abcdefABCDEF.eE+- \ttrufalsn\x01\xff";
    int errors = 0;
    for (int i = 0; i < 5000; ++i) {
        std::string s = seed;
        int edits = 1 + int(rng() % 4);
        for (int k = 0; k < edits; ++k) {
            size_t at = rng() % (s.size() + 1);
            switch (rng() % 3) {
            case 0: if (at < s.size()) s[at] = alphabet[rng() % alphabet.size()]; break;
            case 1: s.insert(s.begin() + long(at), alphabet[rng() % alphabet.size()]); break;
            case 2: if (at < s.size()) s.erase(at, 1 + rng() % 3); break;
            }
        }
        try {
            Value v = json::parse(s);
            CHECK(json::parse(json::dump(v)) == v);  // whatever parses survives a round trip
        } catch (const json::ParseError&) {
            ++errors;
        }
    }
    CHECK(errors > 1000);
}
