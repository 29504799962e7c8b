// The registry of provider kinds: lookups, the unknown-kind message, and a kind added in a
// test, which proves a new kind plugs in without the inventory loader knowing it.
#include <doctest/doctest.h>

#include "inventory/inventory.hpp"
#include "provider/provider.hpp"
#include "test_util.hpp"
#include "util/secret.hpp"

using namespace decamp;

namespace {

// A stand-in for an API kind: hosts are specs (a plan, no address) and the block has its own
// keys, one of them a secret.
class FakeCloudProvider : public provider::Provider {
public:
    explicit FakeCloudProvider(provider::Config c) : config_(std::move(c)) {}
    const std::string& name() const override { return config_.name; }
    const std::string& kind() const override { return kind_; }
    provider::Capabilities capabilities() const override { return {true, true, false, true, false}; }
    std::vector<provider::HostSpec> hosts() override { return config_.hosts; }
    const provider::Config& config() const { return config_; }

private:
    std::string kind_ = "fake-cloud";
    provider::Config config_;
};

class FakeCloudKind : public provider::Kind {
public:
    std::string name() const override { return "fake-cloud"; }
    provider::Capabilities capabilities() const override { return {true, true, false, true, false}; }

    provider::Block validate(const Value& block, const std::string& path,
                             schema::Checker& check) const override {
        provider::Block out;
        if (!check.map(block, path, {"kind", "token", "location", "hosts"})) return out;
        if (const Value* t = block.get("token")) {
            if (t->is_string() && is_secret_reference(t->as_string()))
                out.settings.set("token", Value::secret(t->as_string()).at(t->mark()));
            else
                check.error(*t, path + "/token", "expected a secret reference such as ${env:FAKE_TOKEN}");
        }
        if (auto loc = check.str(block, "location", path, true))
            out.settings.set("location", Value::string(*loc));
        if (const Value* hosts = block.get("hosts"); hosts && hosts->is_map()) {
            for (const auto& [name, def] : hosts->entries()) {
                std::string hpath = path + "/hosts/" + name;
                provider::HostSpec h;
                h.name = name;
                h.mark = h.address_mark = h.roles_mark = hosts->key_mark(name);
                if (check.map(def, hpath, {"plan", "roles"})) {
                    check.str(def, "plan", hpath, true);
                    if (auto r = check.str_list(def, "roles", hpath)) {
                        h.roles = *r;
                        h.roles_mark = def.get("roles")->mark();
                    }
                }
                out.hosts.push_back(std::move(h));
            }
        }
        return out;
    }

    std::unique_ptr<provider::Provider> open(provider::Config config) const override {
        return std::make_unique<FakeCloudProvider>(std::move(config));
    }
};

const char* kInventory = R"(project: p
providers:
  old:
    kind: static
    hosts: { web1: { address: 198.18.1.11, roles: [web] } }
  new:
    kind: fake-cloud
    token: "${env:FAKE_TOKEN}"
    location: fsn1
    hosts:
      web2: { plan: cx22, roles: [web] }
active: old
roles: { web: { playbooks: [a.yml] } }
)";

}  // namespace

TEST_CASE("registry: the built-in kinds") {
    CHECK(provider::kind_names() ==
          std::vector<std::string>{"hetzner-cloud", "hetzner-robot", "local", "ovh", "static"});
    REQUIRE(provider::find_kind("static"));
    CHECK(provider::find_kind("static")->name() == "static");
    CHECK(provider::find_kind("Static") == nullptr);
    CHECK(provider::find_kind("") == nullptr);
}

TEST_CASE("registry: an unknown kind names the known ones, with did you mean") {
    CHECK(provider::unknown_kind("statik") ==
          "unknown provider kind \"statik\"; did you mean \"static\"? (known kinds: hetzner-cloud, "
          "hetzner-robot, local, ovh, static)");
    CHECK(
        provider::unknown_kind("scaleway") ==
        "unknown provider kind \"scaleway\" (known kinds: hetzner-cloud, hetzner-robot, local, ovh, static)");
    CHECK(
        provider::unknown_kind("hetzner") ==
        "unknown provider kind \"hetzner\" (known kinds: hetzner-cloud, hetzner-robot, local, ovh, static)");
    CHECK_THROWS_WITH_AS(provider::kind("lokal"),
                         "unknown provider kind \"lokal\"; did you mean \"local\"? (known kinds: "
                         "hetzner-cloud, hetzner-robot, local, ovh, static)",
                         Error);

    test::TempDir dir;
    dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    auto file = dir.write("inv.yml",
                          "project: p\nproviders:\n  a:\n    kind: statik\n    hosts: {}\nroles: { web: { "
                          "playbooks: [a.yml] } }\n");
    try {
        inventory::load(file);
        FAIL("loaded");
    } catch (const ConfigError& e) {
        REQUIRE(e.diagnostics().size() == 1);
        CHECK(e.diagnostics()[0].str() ==
              file.string() +
                  ":4:11: providers/a/kind: unknown provider kind \"statik\"; did you mean "
                  "\"static\"? (known kinds: hetzner-cloud, hetzner-robot, local, ovh, static)");
    }
}

TEST_CASE("registry: a new kind is one class, registered; the loader hands it its block") {
    test::TempDir dir;
    dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    auto file = dir.write("inv.yml", kInventory);
    CHECK_THROWS_AS(inventory::load(file), ConfigError);  // not registered: unknown kind
    {
        provider::Registration reg(std::make_unique<FakeCloudKind>());
        CHECK(provider::kind_names() == std::vector<std::string>{"fake-cloud", "hetzner-cloud",
                                                                 "hetzner-robot", "local", "ovh", "static"});
        CHECK_THROWS_WITH_AS(provider::Registration(std::make_unique<FakeCloudKind>()),
                             "provider kind \"fake-cloud\" is already registered", Error);

        auto inv = inventory::load_text(kInventory, file);
        const auto* p = inv.find_provider("new");
        REQUIRE(p);
        CHECK(p->kind == "fake-cloud");
        CHECK(p->settings.get("location")->as_string() == "fsn1");
        CHECK(p->settings.get("token")->kind() == Value::Kind::Secret);
        CHECK(p->hosts == std::vector<std::string>{"web2"});
        const auto* web2 = inv.find_host("web2");
        REQUIRE(web2);
        CHECK(web2->address.empty());  // the provider assigns it
        CHECK(web2->provider == "new");
        CHECK(web2->has_role("web"));

        auto opened = inventory::open_provider(inv, "new");
        CHECK(opened->kind() == "fake-cloud");
        CHECK(opened->capabilities().order_hosts);
        CHECK(provider::describe(opened->capabilities()) == "order hosts, reinstall, user data");
        auto& fake = dynamic_cast<FakeCloudProvider&>(*opened);
        CHECK(fake.config().settings.get("location")->as_string() == "fsn1");  // settings reach the kind

        // Its own keys, its own errors, with positions; the loader still checks roles.
        std::string bad = kInventory;
        bad.replace(bad.find("location: fsn1"), 14, "locaton: fsn1");
        bad.replace(bad.find("plan: cx22, roles: [web]"), 24, "plan: cx22, roles: [wbe]");
        try {
            inventory::load_text(bad, file);
            FAIL("loaded");
        } catch (const ConfigError& e) {
            std::string all;
            for (const auto& d : e.diagnostics()) all += d.str() + "\n";
            CHECK(all.find(
                      ":9:5: providers/new/locaton: unknown key \"locaton\"; did you mean \"location\"?") !=
                  std::string::npos);
            CHECK(
                all.find(":11:34: providers/new/hosts/web2/roles: role \"wbe\" is not defined under roles") !=
                std::string::npos);
            CHECK(e.diagnostics().size() == 2);
        }
    }
    CHECK(provider::find_kind("fake-cloud") == nullptr);  // gone with its registration
    CHECK_THROWS_AS(inventory::load(file), ConfigError);
}
