// The inventory's dns: block for kind rfc2136, checked offline with file:line:column: the
// TSIG algorithm, the secret (a reference, holding base64), the zone's trailing dot, and
// keys that belong to the other kind.
#include <doctest/doctest.h>

#include "inventory/inventory.hpp"
#include "test_util.hpp"

using namespace decamp;

namespace {

const char* kHead = R"(project: forum
ssh: { user: root, key: id_ed25519, known_hosts: known_hosts }
providers:
  old:
    kind: static
    hosts:
      old-web1: { address: 198.18.1.11, roles: [web] }
roles:
  web: { playbooks: [web.yml] }
)";

const char* kRfc2136 = R"(dns:
  kind: rfc2136
  server: 127.0.0.1:5353
  zone: example.test.
  tsig: { name: decamp-key., algorithm: hmac-sha256, secret: "${file:tsig.secret}" }
  nameservers: [127.0.0.1:5353, "[::1]:5354"]
  records: [ { name: www.example.test., role: web, ttl: 300 } ]
)";

const char* kKey = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxg=\n";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

std::vector<Diagnostic> errors_of(const std::string& dns, const test::TempDir& dir) {
    dir.write("web.yml", "- hosts: web\n  tasks: []\n");
    auto file = dir.write("inv.yml", std::string(kHead) + dns);
    try {
        inventory::load(file);
    } catch (const ConfigError& e) {
        return e.diagnostics();
    }
    return {};
}

std::string all(const std::vector<Diagnostic>& errs) {
    std::string out;
    for (const auto& e : errs) out += e.str() + "\n";
    return out;
}

}  // namespace

TEST_CASE("inventory dns: an rfc2136 block loads") {
    test::TempDir dir;
    dir.write("tsig.secret", kKey);
    dir.write("web.yml", "- hosts: web\n  tasks: []\n");
    auto inv = inventory::load(dir.write("inv.yml", std::string(kHead) + kRfc2136));
    REQUIRE(inv.dns);
    CHECK(inv.dns->kind == "rfc2136");
    CHECK(inv.dns->server == "127.0.0.1:5353");
    CHECK(inv.dns->tsig_name == "decamp-key.");
    CHECK(inv.dns->tsig_algorithm == "hmac-sha256");
    CHECK(inv.dns->tsig_secret.kind() == Value::Kind::Secret);
    CHECK(inv.dns->tsig_secret.to_text() == "***");
    CHECK(inv.dns->nameservers == std::vector<std::string>{"127.0.0.1:5353", "[::1]:5354"});
}

TEST_CASE("inventory dns: rfc2136 mistakes are reported where they are") {
    test::TempDir dir;
    dir.write("tsig.secret", kKey);

    SUBCASE("a deprecated or unknown algorithm") {
        auto errs = errors_of(replaced(kRfc2136, "hmac-sha256", "hmac-md5"), dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].path == "dns/tsig/algorithm");
        CHECK(errs[0].mark.line == 14);
        CHECK(errs[0].message.find("deprecated") != std::string::npos);
        errs = errors_of(replaced(kRfc2136, "hmac-sha256", "sha256"), dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].message.find("hmac-sha512") != std::string::npos);
    }
    SUBCASE("a zone without its trailing dot") {
        auto errs = errors_of(replaced(kRfc2136, "zone: example.test.", "zone: example.test"), dir);
        REQUIRE_FALSE(errs.empty());
        CHECK(errs[0].path == "dns/zone");
        CHECK(errs[0].mark.line == 13);
    }
    SUBCASE("a secret written inline is refused and never echoed") {
        auto errs =
            errors_of(replaced(kRfc2136, "\"${file:tsig.secret}\"", "3q2+7wABAgMEBQYHCAkKCwwNDg8Q"), dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].path == "dns/tsig/secret");
        CHECK(all(errs).find("3q2+7wAB") == std::string::npos);
    }
    SUBCASE("a secret file that does not hold base64 is reported at the reference, without its content") {
        dir.write("tsig.secret", "not base64 at all: hunter2hunter2\n");
        auto errs = errors_of(kRfc2136, dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].path == "dns/tsig/secret");
        CHECK(errs[0].mark.line == 14);
        CHECK(errs[0].message.find("base64") != std::string::npos);
        CHECK(all(errs).find("hunter2") == std::string::npos);
    }
    SUBCASE("no server, no tsig, and powerdns keys under rfc2136") {
        std::string text = replaced(kRfc2136, "  server: 127.0.0.1:5353\n", "  api: http://127.0.0.1:8081\n");
        text = replaced(
            text, "  tsig: { name: decamp-key., algorithm: hmac-sha256, secret: \"${file:tsig.secret}\" }\n",
            "");
        auto errs = errors_of(text, dir);
        std::string text_all = all(errs);
        CAPTURE(text_all);
        CHECK(errs.size() == 3);
        CHECK(text_all.find("dns/api: api is not used by kind rfc2136") != std::string::npos);
        CHECK(text_all.find("dns/server: ") != std::string::npos);
        CHECK(text_all.find("dns/tsig: required key is missing") != std::string::npos);
    }
    SUBCASE("tsig under powerdns, a bad nameserver") {
        std::string text = replaced(kRfc2136, "kind: rfc2136",
                                    "kind: powerdns\n  api: http://127.0.0.1:8081\n  api_key: \"${env:K}\"");
        text = replaced(text, "\"[::1]:5354\"", "\"ns 2\"");
        auto errs = errors_of(text, dir);
        std::string text_all = all(errs);
        CAPTURE(text_all);
        CHECK(errs.size() == 2);
        CHECK(text_all.find("dns/tsig: tsig is not used by kind powerdns") != std::string::npos);
        CHECK(text_all.find("dns/nameservers") != std::string::npos);
    }
}

TEST_CASE("inventory dns: a cloudflare block, its token a secret, TTLs it cannot take") {
    test::TempDir dir;
    const std::string block = R"(dns:
  kind: cloudflare
  api_token: "${env:CF_API_TOKEN}"
  zone: example.test.
  records: [ { name: www.example.test., role: web, ttl: 60 } ]
)";
    dir.write("web.yml", "- hosts: web\n  tasks: []\n");
    auto inv = inventory::load(dir.write("inv.yml", std::string(kHead) + block));
    REQUIRE(inv.dns);
    CHECK(inv.dns->kind == "cloudflare");
    CHECK(inv.dns->api.empty());  // the documented base URL
    CHECK(inv.dns->api_key.kind() == Value::Kind::Secret);
    CHECK(inv.dns->api_key_path == "dns/api_token");

    SUBCASE("a TTL below Cloudflare's 60 s") {
        auto errs = errors_of(replaced(block, "ttl: 60", "ttl: 30"), dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].path == "dns/records/0/ttl");
        CHECK(errs[0].mark.line == 14);
        CHECK(errs[0].message == "kind cloudflare accepts no TTL below 60 s");
    }
    SUBCASE("a token written inline, never echoed") {
        auto errs = errors_of(replaced(block, "\"${env:CF_API_TOKEN}\"", "cf-inline-token-123456"), dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].path == "dns/api_token");
        CHECK(all(errs).find("cf-inline-token") == std::string::npos);
    }
    SUBCASE("no token, a powerdns key, an unknown kind") {
        auto errs =
            errors_of(replaced(block, "api_token: \"${env:CF_API_TOKEN}\"", "api_key: \"${env:K}\""), dir);
        std::string text = all(errs);
        CAPTURE(text);
        CHECK(errs.size() == 2);
        CHECK(text.find("dns/api_key: api_key is not used by kind cloudflare") != std::string::npos);
        CHECK(text.find("dns/api_token: required key is missing for kind cloudflare") != std::string::npos);
        errs = errors_of(replaced(block, "kind: cloudflare", "kind: cloudflar"), dir);
        REQUIRE(!errs.empty());
        CHECK(errs[0].path == "dns/kind");
        CHECK(errs[0].mark.line == 11);
        CHECK(errs[0].message.find("did you mean cloudflare?") != std::string::npos);
    }
}
