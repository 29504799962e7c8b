#include <doctest/doctest.h>

#include <string>

#include "util/sha256.hpp"

using decamp::util::Sha256;
using decamp::util::sha256_hex;

TEST_CASE("sha256: FIPS 180-4 / NIST known vectors") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu") ==
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    CHECK(sha256_hex(std::string(1000000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: padding edges and incremental updates agree") {
    // 55, 56, 63, 64, 65 bytes straddle the one-or-two-block padding boundary.
    CHECK(sha256_hex(std::string(55, 'x')) != sha256_hex(std::string(56, 'x')));
    for (size_t n : {0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 1000}) {
        std::string data;
        for (size_t i = 0; i < n; ++i) data += char(i * 7 + 3);
        Sha256 s;
        for (size_t i = 0; i < n; i += 13) s.update(std::string_view(data).substr(i, 13));
        auto d = s.finish();
        static const char* hex = "0123456789abcdef";
        std::string h;
        for (auto b : d) { h += hex[b >> 4]; h += hex[b & 15]; }
        CHECK_MESSAGE(h == sha256_hex(data), "n=" << n);
    }
    // Binary content with NUL bytes.
    CHECK(sha256_hex(std::string("\0\0\0", 3)) ==
          "709e80c88487a2411e1ee4dfb9f22a861492d20c4765150c0c794abd70f8147c");
}

TEST_CASE("sha256: copies hash on independently; finish starts over") {
    Sha256 a;
    a.update("ab");
    Sha256 b = a;  // mid-stream copy
    a.update("c");
    b.update("c");
    CHECK(a.finish() == b.finish());
    a.update("abc");
    Sha256 moved = std::move(a);
    auto d = moved.finish();
    Sha256 fresh;
    fresh.update("abc");
    CHECK(d == fresh.finish());
}
