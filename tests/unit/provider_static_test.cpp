// kind: static and kind: local: their validators, through the inventory loader (the way a
// user meets them) and directly, and the providers they open.
#include <doctest/doctest.h>

#include "inventory/inventory.hpp"
#include "provider/provider.hpp"
#include "test_util.hpp"

using namespace decamp;

namespace {

std::vector<Diagnostic> errors_of(const std::string& text, const test::TempDir& dir) {
    auto file = dir.write("inv.yml", text);
    try {
        inventory::load(file);
    } catch (const ConfigError& e) {
        return e.diagnostics();
    }
    return {};
}

std::string with_providers(const std::string& providers) {
    return "project: p\nproviders:\n" + providers + "roles: { web: { playbooks: [a.yml] } }\n";
}

}  // namespace

TEST_CASE("static: an unknown key of the block or of a host is an error at its file:line:column") {
    test::TempDir dir;
    dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    SUBCASE("a key of an API kind in a static block") {
        auto errs = errors_of(with_providers("  a:\n"
                                             "    kind: static\n"
                                             "    token: \"${env:TOKEN}\"\n"
                                             "    hosts: { h: { address: 10.0.0.1, roles: [web] } }\n"),
                              dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].path == "providers/a/token");
        CHECK(errs[0].mark.file.find("inv.yml") != std::string::npos);
        CHECK(errs[0].mark.line == 5);
        CHECK(errs[0].mark.column == 5);
        CHECK(errs[0].message == "unknown key \"token\" for a static provider; expected one of: kind, hosts");
    }
    SUBCASE("a misspelt block key") {
        auto errs = errors_of(with_providers("  a:\n    kind: static\n    hostss: {}\n"), dir);
        REQUIRE(errs.size() == 2);  // the misspelling, and hosts: missing
        CHECK(errs[0].path == "providers/a/hosts");
        CHECK(errs[0].message.find("required key is missing") != std::string::npos);
        CHECK(errs[1].path == "providers/a/hostss");
        CHECK(errs[1].str().find(
                  "inv.yml:5:5: providers/a/hostss: unknown key \"hostss\" for a static provider; "
                  "did you mean \"hosts\"?") != std::string::npos);
    }
    SUBCASE("a misspelt host key") {
        auto errs = errors_of(with_providers("  a:\n    kind: static\n    hosts:\n"
                                             "      h: { address: 10.0.0.1, rolse: [web] }\n"),
                              dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].str().find(
                  ":6:31: providers/a/hosts/h/rolse: unknown key \"rolse\"; did you mean \"roles\"?") !=
              std::string::npos);
    }
    SUBCASE("a bad address") {
        auto errs =
            errors_of(with_providers("  a: { kind: static, hosts: { h: { address: \"a b\" } } }\n"), dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].path == "providers/a/hosts/h/address");
        CHECK(errs[0].message.find("not an IP address or host name") != std::string::npos);
    }
}

TEST_CASE("static: hosts keep their keys and take the ssh defaults") {
    test::TempDir dir;
    dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    auto inv = inventory::load(
        dir.write("inv.yml",
                  "project: p\n"
                  "ssh: { user: admin, port: 2200 }\n"
                  "providers:\n"
                  "  a:\n"
                  "    kind: static\n"
                  "    hosts:\n"
                  "      h1: { address: 10.0.0.1, roles: [web] }\n"
                  "      h2: { address: h2.example.net, port: 22, user: deploy, vars: { x: 1 } }\n"
                  "      h3: { address: local }\n"
                  "roles: { web: { playbooks: [a.yml] } }\n"));
    REQUIRE(inv.hosts.size() == 3);
    CHECK(inv.providers[0].kind == "static");
    CHECK(inv.providers[0].settings.entries().empty());
    CHECK(inv.providers[0].hosts == std::vector<std::string>{"h1", "h2", "h3"});
    CHECK(inv.hosts[0].port == 2200);
    CHECK(inv.hosts[0].user == "admin");
    CHECK(inv.hosts[0].roles == std::vector<std::string>{"web"});
    CHECK(inv.hosts[1].port == 22);
    CHECK(inv.hosts[1].user == "deploy");
    CHECK(inv.hosts[1].vars.get("x")->as_int() == 1);
    CHECK(inv.hosts[2].is_local());

    auto p = inventory::open_provider(inv, "a");
    CHECK(p->name() == "a");
    CHECK(p->kind() == "static");
    CHECK_FALSE(p->capabilities().any());
    auto hosts = p->hosts();
    REQUIRE(hosts.size() == 3);
    CHECK(hosts[0].name == "h1");
    CHECK(hosts[0].address == "10.0.0.1");
    CHECK(hosts[0].port == 2200);
    CHECK(hosts[1].user == "deploy");
    CHECK_THROWS_WITH_AS(inventory::open_provider(inv, "b"),
                         doctest::Contains("provider \"b\" is not defined"), Error);
}

TEST_CASE("static: declares no capabilities") {
    const auto& k = provider::kind("static");
    CHECK(k.name() == "static");
    auto caps = k.capabilities();
    CHECK_FALSE(caps.order_hosts);
    CHECK_FALSE(caps.reinstall);
    CHECK_FALSE(caps.rescue);
    CHECK_FALSE(caps.user_data);
    CHECK_FALSE(caps.api_host_keys);
    CHECK(provider::describe(caps) == "none");
}

TEST_CASE("static: the validator on its own reports through the caller's collector") {
    std::vector<Diagnostic> diags;
    schema::Checker check(diags);
    Value block = Value::map();
    block.set("kind", Value::string("static"));
    Value hosts = Value::map();
    Value h = Value::map();
    h.set("address", Value::string("198.18.1.999").at(Mark{"x.yml", 3, 20}));
    hosts.set("web1", h);
    block.set("hosts", hosts);
    auto out = provider::kind("static").validate(block, "providers/old", check);
    REQUIRE(diags.size() == 1);
    CHECK(diags[0].str() ==
          "x.yml:3:20: providers/old/hosts/web1/address: \"198.18.1.999\" is not an IP address or "
          "host name; expected e.g. 198.18.1.11, web1.example.net or local");
    REQUIRE(out.hosts.size() == 1);  // still declared, so the loader checks its name and roles
    CHECK(out.hosts[0].name == "web1");
    CHECK(out.hosts[0].address.empty());
}

TEST_CASE("local: hosts are this machine") {
    test::TempDir dir;
    dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    SUBCASE("address is implied, and local when written") {
        auto inv = inventory::load(
            dir.write("inv.yml", with_providers("  here:\n    kind: local\n    hosts:\n"
                                                "      h1: { roles: [web] }\n"
                                                "      h2: { address: local, roles: [web] }\n")));
        REQUIRE(inv.hosts.size() == 2);
        CHECK(inv.hosts[0].is_local());
        CHECK(inv.hosts[1].is_local());
        CHECK(inv.providers[0].kind == "local");
        CHECK(inventory::open_provider(inv, "here")->hosts()[0].address == "local");
    }
    SUBCASE("any other address points to kind: static") {
        auto errs =
            errors_of(with_providers("  here: { kind: local, hosts: { h1: { address: 10.0.0.1 } } }\n"), dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].path == "providers/here/hosts/h1/address");
        CHECK(errs[0].message.find("use kind: static") != std::string::npos);
    }
    SUBCASE("port and user say why they do not apply") {
        auto errs = errors_of(
            with_providers("  here: { kind: local, hosts: { h1: { port: 22, user: root } } }\n"), dir);
        REQUIRE(errs.size() == 2);
        CHECK(errs[0].path == "providers/here/hosts/h1/port");
        CHECK(errs[1].path == "providers/here/hosts/h1/user");
        CHECK(errs[0].message.find("reached without SSH") != std::string::npos);
    }
}
