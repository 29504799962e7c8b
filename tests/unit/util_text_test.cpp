// util/text: trim, trim_right, UTF-8 validity and output tails.
#include <doctest/doctest.h>

#include "util/text.hpp"

using namespace decamp::util;

TEST_CASE("text: trim and trim_right") {
    CHECK(trim("  15.4\n") == "15.4");
    CHECK(trim("\t\r\n a b \v\f") == "a b");
    CHECK(trim("") == "");
    CHECK(trim(" \n\t ") == "");
    CHECK(trim("x") == "x");
    CHECK(trim("--a--", "-") == "a");
    CHECK(trim_right("  indented\n\n") == "  indented");
    CHECK(trim_right("\n \n") == "");
    CHECK(trim_right("a b ", " ") == "a b");
}

TEST_CASE("text: valid_utf8") {
    CHECK(valid_utf8(""));
    CHECK(valid_utf8("plain ascii"));
    CHECK(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
    CHECK(!valid_utf8("caf\xE9"));              // Latin-1
    CHECK(!valid_utf8("\xC3"));                 // truncated
    CHECK(!valid_utf8("\x80"));                 // a lone continuation byte
    CHECK(!valid_utf8("\xC0\xAF"));             // overlong '/'
    CHECK(!valid_utf8("\xED\xA0\x80"));         // a UTF-16 surrogate
    CHECK(!valid_utf8("\xF4\x90\x80\x80"));     // past U+10FFFF
    CHECK(!valid_utf8("\xFF"));
}

TEST_CASE("text: output_tail") {
    CHECK(output_tail("error: no\n\n") == "error: no");
    CHECK(output_tail(" \n") == "(no output)");
    CHECK(output_tail(std::string(10, 'x') + "END\n", 4) == "…END");
}

TEST_CASE("human_bytes: one unit per size class, one decimal") {
    CHECK(decamp::util::human_bytes(0) == "0 B");
    CHECK(decamp::util::human_bytes(1023) == "1023 B");
    CHECK(decamp::util::human_bytes(1536) == "1.5 KiB");
    CHECK(decamp::util::human_bytes(12u << 20) == "12.0 MiB");
    CHECK(decamp::util::human_bytes(3ull << 30) == "3.0 GiB");
}

TEST_CASE("text: percent_encode keeps RFC 3986's unreserved bytes and encodes every other") {
    CHECK(decamp::util::percent_encode("aZ09-._~") == "aZ09-._~");
    CHECK(decamp::util::percent_encode("a b/&=é") == "a%20b%2F%26%3D%C3%A9");
    CHECK(decamp::util::percent_encode(std::string("\0x", 2)) == "%00x");
}
