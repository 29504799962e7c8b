// The redactor masks a secret in every form it takes on the way out, and every secret the
// inventory declares is known to it as soon as the inventory is loaded.
#include <doctest/doctest.h>

#include <cstdlib>
#include <random>

#include "inventory/inventory.hpp"
#include "test_util.hpp"
#include "util/json.hpp"
#include "util/secret.hpp"
#include "util/shell.hpp"
#include "util/value.hpp"

using namespace decamp;

TEST_CASE("redactor: the encodings we produce of a secret are masked too") {
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> ch(32, 126), len(6, 30), pre(0, 40);
    for (int round = 0; round < 300; ++round) {
        std::string s;
        for (int i = 0, n = len(rng); i < n; ++i) s += static_cast<char>(ch(rng));
        CAPTURE(s);
        Redactor r;
        r.add(s);
        CHECK(r.mask("a " + s + " b") == "a *** b");
        CHECK(r.mask(shell::quote(s)).find(s) == std::string::npos);
        CHECK(r.mask(shell::quote(s)) != shell::quote(s));
        CHECK(r.mask(json::quote(s)) != json::quote(s));
        CHECK(r.mask(shell::base64(s)) == "***");
        // Inside a longer base64 text (a file carrying the secret), at any alignment.
        std::string before(static_cast<size_t>(pre(rng)), 'x'), after(static_cast<size_t>(pre(rng)), 'y');
        std::string blob = shell::base64(before + s + after);
        CHECK(r.mask(blob).find("***") != std::string::npos);
    }
    Redactor r;
    r.add("-----BEGIN KEY-----\nline-one-of-key\n  line-two-of-key\n-----END KEY-----");
    CHECK(r.mask("diff: + line-two-of-key") == "diff: + ***");
    r.add("p@ss w/rd&x");
    CHECK(r.mask("postgres://u:p%40ss%20w%2Frd%26x@db/app") == "postgres://u:***@db/app");
}

TEST_CASE("every declared secret that resolves is masked as soon as the inventory is loaded") {
    test::TempDir dir;
    setenv("DECAMP_SECRET_TEST_EARLY", "early-bird-secret-9", 1);
    dir.write("key.txt", "file-secret-value-3\n");
    dir.write("site.yml", "- hosts: web\n  tasks: []\n");
    (void)inventory::load(dir.write(
        "inv.yml",
        "project: t\nproviders:\n  p:\n    kind: static\n    hosts:\n      h1: { address: 10.0.0.1, roles: [web] }\n"
        "roles: { web: { playbooks: [site.yml] } }\n"
        "secrets: { a: \"${env:DECAMP_SECRET_TEST_EARLY}\", b: \"${file:key.txt}\", c: \"${env:DECAMP_SECRET_NOT_SET_X}\" }\n"));
    // Nothing used them yet: a host that prints them is masked anyway; the missing one is silent.
    CHECK(redactor().mask("early-bird-secret-9 file-secret-value-3") == "*** ***");
    unsetenv("DECAMP_SECRET_TEST_EARLY");
}

TEST_CASE("a declared secret shorter than 6 characters is a validation error that never shows it") {
    test::TempDir dir;
    setenv("DECAMP_SECRET_TEST_SHORT", "pw123", 1);
    setenv("DECAMP_SECRET_TEST_LONG", "long-enough-1", 1);
    dir.write("site.yml", "- hosts: web\n  tasks: []\n");
    auto inv = dir.write(
        "inv.yml",
        "project: t\nproviders:\n  p:\n    kind: static\n    hosts:\n      h1: { address: 10.0.0.1, roles: [web] }\n"
        "roles: { web: { playbooks: [site.yml] } }\n"
        "secrets:\n  ok: \"${env:DECAMP_SECRET_TEST_LONG}\"\n  db: \"${env:DECAMP_SECRET_TEST_SHORT}\"\n");
    bool thrown = false;
    try {
        (void)inventory::load(inv);
    } catch (const ConfigError& e) {
        thrown = true;
        REQUIRE(e.diagnostics().size() == 1);
        const std::string msg = e.diagnostics()[0].str();
        INFO(msg);
    CHECK(msg.find("inv.yml:10:7: secrets/db:") != std::string::npos);
        CHECK(msg.find("shorter than 6") != std::string::npos);
        CHECK(msg.find("pw123") == std::string::npos);
    }
    CHECK(thrown);
    setenv("DECAMP_SECRET_TEST_SHORT", "pw1234", 1);
    CHECK_NOTHROW((void)inventory::load(inv));
    unsetenv("DECAMP_SECRET_TEST_SHORT");
}
