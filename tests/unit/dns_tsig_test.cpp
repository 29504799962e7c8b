// The offline TSIG checks the inventory loader and the rfc2136 back-end share.
#include <doctest/doctest.h>

#include "dns/dns.hpp"

using namespace decamp::dns;

TEST_CASE("dns tsig: algorithms") {
    for (const char* ok : {"hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"})
        CHECK(check_tsig_algorithm(ok).empty());
    CHECK(check_tsig_algorithm("hmac-md5").find("deprecated") != std::string::npos);
    CHECK(check_tsig_algorithm("hmac-md5.sig-alg.reg.int").find("deprecated") != std::string::npos);
    CHECK(check_tsig_algorithm("HMAC-SHA256") != "");
    CHECK(check_tsig_algorithm("hmac-sha256.") != "");
    CHECK(check_tsig_algorithm("").find("hmac-sha256") != std::string::npos);
}

TEST_CASE("dns tsig: secrets are padded base64 of a useful length, and never quoted back") {
    CHECK(check_tsig_secret("3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxg=").empty());
    CHECK(check_tsig_secret("q83vASNFZ4mrze8BI0VniQ==").empty());
    CHECK(check_tsig_secret("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").empty());
    CHECK_FALSE(check_tsig_secret("").empty());
    CHECK_FALSE(check_tsig_secret("q83vASNFZ4mrze8BI0VniQ=").empty());     // not a multiple of 4
    CHECK_FALSE(check_tsig_secret("q83vASNFZ4mrze8BI0Vn=Q==").empty());    // '=' inside
    CHECK_FALSE(check_tsig_secret("q83vASNFZ4mr ze8BI0VniQ=").empty());    // a space
    CHECK_FALSE(check_tsig_secret("q83vASNFZ4mrze8BI0VniQ==\n").empty());  // a newline
    CHECK(check_tsig_secret("c2VjcmV0").find("too short") != std::string::npos);
    std::string why = check_tsig_secret("hunter2hunter2!!");
    CHECK_FALSE(why.empty());
    CHECK(why.find("hunter2") == std::string::npos);
}
