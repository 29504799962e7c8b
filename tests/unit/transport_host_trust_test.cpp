// A provider host's key checked against the trust store's expectation: the pure matcher
// (whole keys, SHA256 and Robot's MD5 fingerprints). The SSH transport applying it against a
// real sshd is tested in transport_ssh_test.cpp.
#include <doctest/doctest.h>

#include "transport/crypto.hpp"
#include "transport/host_trust.hpp"
#include "transport/transport.hpp"

using namespace decamp;
using namespace decamp::transport;

TEST_CASE("host trust: whole keys, SHA256 and MD5 fingerprints match only the key they name") {
    CHECK(fingerprint_md5("abc") == "MD5:90:01:50:98:3c:d2:4f:b0:d6:96:3f:7d:28:e1:7f:72");
    using namespace std::string_literals;
    const std::string blob = "\x00\x00\x00\x0bssh-ed25519 pretend key bytes"s;  // NULs included
    REQUIRE(blob.size() == 33);
    const std::string sha = fingerprint_sha256(blob);
    const std::string md5 = fingerprint_md5(blob);
    CHECK(fingerprint_matches(sha, "ssh-ed25519", blob));
    CHECK(fingerprint_matches("ssh-ed25519 " + sha, "ssh-ed25519", blob));
    CHECK(fingerprint_matches("ED25519 " + sha, "ssh-ed25519", blob));  // Robot's type names
    CHECK_FALSE(fingerprint_matches("RSA " + sha, "ssh-ed25519", blob));
    CHECK(fingerprint_matches(md5, "ssh-ed25519", blob));
    CHECK(fingerprint_matches(md5.substr(4), "ssh-ed25519", blob));  // Robot's bare colon-hex
    CHECK_FALSE(fingerprint_matches(fingerprint_md5("another key"), "ssh-ed25519", blob));
    CHECK_FALSE(fingerprint_matches("SHA256:", "ssh-ed25519", blob));
    CHECK_FALSE(fingerprint_matches("garbage", "ssh-ed25519", blob));

    HostTrust t;
    CHECK(judge(t, "ssh-ed25519", blob) == TrustVerdict::NoKey);
    t.keys = {"ssh-ed25519 " + detail::base64_encode(blob)};
    CHECK(judge(t, "ssh-ed25519", blob) == TrustVerdict::Match);
    CHECK(judge(t, "ssh-ed25519", "another key") == TrustVerdict::Mismatch);
    t.keys.clear();
    t.fingerprints = {"ED25519 " + md5};
    CHECK(judge(t, "ssh-ed25519", blob) == TrustVerdict::Match);
    CHECK(judge(t, "ssh-ed25519", "another key") == TrustVerdict::Mismatch);
}
