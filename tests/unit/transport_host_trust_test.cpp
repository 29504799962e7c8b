// A provider host's key checked against the trust store's expectation: the pure matcher
// (whole keys, SHA256 and Robot's MD5 fingerprints) and the SSH transport against a real sshd,
// where the trust replaces known_hosts for that host.
#include <doctest/doctest.h>

#include <fstream>

#include "../integration/sshd_fixture.hpp"
#include "test_util.hpp"
#include "transport/crypto.hpp"
#include "transport/host_trust.hpp"
#include "transport/transport.hpp"

using namespace decamp;
using namespace decamp::transport;
using test::Sshd;

namespace {

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TransportError connect_error(const SshConfig& cfg) {
    try {
        connect_ssh(cfg);
    } catch (const TransportError& e) {
        return e;
    }
    FAIL("connect_ssh succeeded but should not have");
    return TransportError(TransportError::Kind::Io, "unreachable");
}

std::string other_key_base64(const std::filesystem::path& dir) {
    Sshd::keygen("ed25519", dir / "other");
    std::istringstream pub(test::read_text(dir / "other.pub"));
    std::string type, blob;
    pub >> type >> blob;
    return blob;
}

}  // namespace

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

TEST_CASE("ssh: a provider host is checked against its trust, never against known_hosts by address") {
    if (auto why = Sshd::unavailable(); !why.empty()) {
        MESSAGE("skipped: " << why);
        return;
    }
    test::TempDir tmp;
    Sshd sshd(tmp.path());
    SshConfig cfg = sshd.config();
    cfg.name = "web1";
    const std::string real = "ssh-ed25519 " + sshd.host_key_base64();
    const std::string other = "ssh-ed25519 " + other_key_base64(tmp.path());
    HostTrust t;
    t.provider = "provider cloud";
    t.server_id = "43";
    t.provenance = "injected-user-data";

    SUBCASE("the trusted key connects even though known_hosts pins another key at that address") {
        std::ofstream(cfg.known_hosts) << "[127.0.0.1]:" << sshd.port() << " " << other << "\n";
        t.keys = {real};
        cfg.trust = t;
        auto conn = connect_ssh(cfg);
        CHECK(conn->run("echo ok").out == "ok\n");
    }
    SUBCASE("a key that is not the trusted one is refused with exit 4, whatever known_hosts says") {
        // known_hosts holds the real key (an earlier server at this address): not inherited.
        t.keys = {other};
        cfg.trust = t;
        TransportError e = connect_error(cfg);
        CHECK(e.kind() == TransportError::Kind::HostKey);
        CHECK(e.exit_code() == kExitHostKey);
        CHECK(has(e.what(), "HOST KEY MISMATCH for"));
        CHECK(has(e.what(), "provider cloud server 43"));
        CHECK(has(e.what(), "injected-user-data"));
    }
    SUBCASE("a server with no key is refused unless trust on first use was asked for") {
        bool recorded = false;
        t.record_first_use = [&](const std::string&) { recorded = true; };
        cfg.trust = t;
        TransportError e = connect_error(cfg);
        CHECK(e.exit_code() == kExitHostKey);
        CHECK(has(e.what(), "--trust-on-first-use"));
        CHECK_FALSE(recorded);
    }
    SUBCASE("with trust on first use, the key is handed over to be recorded") {
        std::string recorded;
        t.tofu_allowed = true;
        t.record_first_use = [&](const std::string& k) { recorded = k; };
        cfg.trust = t;
        auto conn = connect_ssh(cfg);
        CHECK(recorded == real);
    }
}
