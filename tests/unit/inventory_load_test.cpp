#include <doctest/doctest.h>

#include "inventory/inventory.hpp"
#include "test_util.hpp"

using namespace decamp;

namespace {

const char* kGood = R"(project: forum
ssh: { user: root, key: id_ed25519, known_hosts: known_hosts }
providers:
  old:
    kind: static
    hosts:
      old-web1: { address: 198.18.1.11, roles: [web] }
      old-db1:  { address: 198.18.1.12, roles: [db], vars: { pg_mem: 1GB } }
  new:
    kind: static
    hosts:
      new-web1: { address: web1.new.example.net, port: 2222, user: deploy, roles: [web] }
      new-db1:  { address: "2001:db8::12", roles: [db] }
active: old
roles:
  web: { playbooks: [web.yml] }
  db:  { playbooks: [db.yml] }
data:
  - { kind: postgres, role: db, database: forum }
  - { kind: files, role: web, path: /srv/forum/uploads }
health:
  - { role: web, url: "http://{{ host.address }}/healthz", expect: 200 }
dns:
  kind: powerdns
  api: http://127.0.0.1:8081
  api_key: "${env:PDNS_API_KEY}"
  zone: example.test.
  records: [ { name: www.example.test., role: web, ttl: 60 } ]
vars: { app_version: 1.4.2 }
secrets: { db_password: "${env:FORUM_DB_PASSWORD}" }
)";

std::vector<Diagnostic> errors_of(const std::string& text, const test::TempDir& dir) {
    auto file = dir.write("inv.yml", text);
    try {
        inventory::load(file);
    } catch (const ConfigError& e) {
        return e.diagnostics();
    }
    return {};
}

}  // namespace

TEST_CASE("a good inventory loads with every section") {
    test::TempDir dir;
    dir.write("web.yml", "- hosts: web\n  tasks: []\n");
    dir.write("db.yml", "- hosts: db\n  tasks: []\n");
    auto inv = inventory::load(dir.write("inv.yml", kGood));
    CHECK(inv.project == "forum");
    CHECK(inv.providers.size() == 2);
    CHECK(inv.hosts.size() == 4);
    CHECK(inv.active == "old");
    const auto* web = inv.find_host("new-web1");
    REQUIRE(web);
    CHECK(web->port == 2222);
    CHECK(web->user == "deploy");
    CHECK(web->provider == "new");
    CHECK(inv.find_host("old-db1")->user == "root");
    CHECK(inv.find_host("old-db1")->vars.get("pg_mem")->as_string() == "1GB");
    CHECK(inv.ssh.key == (dir.path() / "id_ed25519").string());
    CHECK(inv.find_role("web")->playbooks[0] == dir.path() / "web.yml");
    CHECK(inv.data.size() == 2);
    CHECK(inv.data[1].name == "/srv/forum/uploads");
    REQUIRE(inv.dns);
    CHECK(inv.dns->records[0].ttl == 60);
    CHECK(inv.dns->api_key.kind() == Value::Kind::Secret);
    CHECK(inv.secrets.get("db_password")->kind() == Value::Kind::Secret);
    CHECK(inv.secrets.get("db_password")->to_text() == "***");
}

TEST_CASE("five distinct mistakes give five errors with file:line:column") {
    test::TempDir dir;
    dir.write("web.yml", "- hosts: web\n  tasks: []\n");
    std::string text = R"(project: forum
providers:
  old:
    kind: static
    hosts:
      web1: { address: 198.18.1.999, roles: [web] }
      web1: { address: 198.18.1.12, roles: [web] }
      db1: { adress: 198.18.1.13, roles: [db] }
active: olld
roles:
  web: { playbooks: [web.yml] }
  db: { playbooks: [missing.yml] }
)";
    auto errs = errors_of(text, dir);
    REQUIRE(errs.size() == 5);
    for (const auto& e : errs) {
        CHECK(e.mark.line > 0);
        CHECK(e.mark.column > 0);
        CHECK(e.mark.file.find("inv.yml") != std::string::npos);
    }
    std::string all;
    for (const auto& e : errs) all += e.str() + "\n";
    CHECK(all.find(":6:") != std::string::npos);  // bad address on line 6
    CHECK(all.find("not an IP address or host name") != std::string::npos);
    CHECK(all.find("duplicate") != std::string::npos);
    CHECK(all.find("did you mean \"address\"") != std::string::npos);
    CHECK(all.find("providers/old/hosts/db1/adress") != std::string::npos);
    CHECK(all.find("did you mean \"old\"") != std::string::npos);
    CHECK(all.find("missing.yml does not exist") != std::string::npos);
}

TEST_CASE("cross references and value checks") {
    test::TempDir dir;
    dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    SUBCASE("a role without playbooks") {
        auto errs = errors_of("project: p\nproviders: { a: { kind: static, hosts: { h: { address: 10.0.0.1, roles: [web] } } } }\nroles: { web: { playbooks: [] } }\n", dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].message.find("has no playbooks") != std::string::npos);
    }
    SUBCASE("a host role that is not defined") {
        auto errs = errors_of("project: p\nproviders: { a: { kind: static, hosts: { h: { address: 10.0.0.1, roles: [wbe] } } } }\nroles: { web: { playbooks: [a.yml] } }\n", dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].message.find("did you mean \"web\"") != std::string::npos);
    }
    SUBCASE("unknown provider kind") {
        auto errs = errors_of("project: p\nproviders: { a: { kind: statik, hosts: {} } }\nroles: { web: { playbooks: [a.yml] } }\n", dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].path == "providers/a/kind");
        CHECK(errs[0].message.find("static") != std::string::npos);
    }
    SUBCASE("inline secrets are refused and never echoed") {
        auto errs = errors_of("project: p\nproviders: { a: { kind: static, hosts: {} } }\nroles: { web: { playbooks: [a.yml] } }\nsecrets: { pw: hunter2hunter2 }\n", dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].str().find("hunter2") == std::string::npos);
        CHECK(errs[0].path == "secrets/pw");
    }
    SUBCASE("several providers need active") {
        auto errs = errors_of("project: p\nproviders: { a: { kind: static, hosts: {} }, b: { kind: static, hosts: {} } }\nroles: { web: { playbooks: [a.yml] } }\n", dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].path == "active");
    }
    SUBCASE("port out of range and wrong types") {
        auto errs = errors_of("project: p\nproviders: { a: { kind: static, hosts: { h: { address: 10.0.0.1, port: 70000, roles: web } } } }\nroles: { web: { playbooks: [a.yml] } }\nhealth: [ { role: web, url: ftp://x } ]\n", dir);
        REQUIRE(errs.size() == 2);
        CHECK(errs[0].path == "providers/a/hosts/h/port");
        CHECK(errs[1].path == "health/0/url");
    }
    SUBCASE("a YAML syntax error has a position") {
        auto errs = errors_of("project: p\nproviders: [\n", dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].mark.line >= 2);
        CHECK(errs[0].message.find("invalid YAML") != std::string::npos);
    }
}

TEST_CASE("host patterns") {
    test::TempDir dir;
    dir.write("web.yml", "- hosts: web\n  tasks: []\n");
    dir.write("db.yml", "- hosts: db\n  tasks: []\n");
    auto inv = inventory::load(dir.write("inv.yml", kGood));
    std::vector<const inventory::Host*> all;
    for (const auto& h : inv.hosts) all.push_back(&h);
    auto names = [&](const std::string& p) {
        std::string out;
        for (const auto* h : inventory::select(inv, p, all)) out += (out.empty() ? "" : ",") + h->name;
        return out;
    };
    CHECK(names("all") == "old-web1,old-db1,new-web1,new-db1");
    CHECK(names("web") == "old-web1,new-web1");
    CHECK(names("new") == "new-web1,new-db1");
    CHECK(names("old-*") == "old-web1,old-db1");
    CHECK(names("new-db1,old-web1") == "old-web1,new-db1");
    CHECK(names("web,!new") == "old-web1");
    CHECK(names("web,&new") == "new-web1");
    CHECK(names("!db") == "old-web1,new-web1");
    CHECK_THROWS_WITH_AS(names("wbe"), doctest::Contains("did you mean \"web\""), inventory::PatternError);
    // A pattern of known terms that selects nobody is fine for a play, an error for --limit.
    CHECK(names("web,&db") == "");
    CHECK_THROWS_WITH_AS(inventory::select_some(inv, "web,&db", all, "provider old"),
                         doctest::Contains("selects no host in provider old"), inventory::PatternError);
    CHECK(inventory::select_some(inv, "web", all, "").size() == 2);
}

TEST_CASE("every broken inventory in the corpus is rejected cleanly, never a crash") {
    namespace fs = std::filesystem;
    fs::path corpus = fs::path(test::source_dir()) / "tests/data/broken";
    size_t n = 0;
    for (const auto& entry : fs::directory_iterator(corpus)) {
        ++n;
        CAPTURE(entry.path().string());
        bool rejected = false;
        try {
            inventory::load(entry.path());
        } catch (const ConfigError& e) {
            rejected = !e.diagnostics().empty();
            for (const auto& d : e.diagnostics()) CHECK(!d.message.empty());
        }
        CHECK(rejected);
    }
    CHECK(n >= 10);
}

TEST_CASE("truncations of a good inventory never crash") {
    test::TempDir dir;
    dir.write("web.yml", "- hosts: web\n  tasks: []\n");
    dir.write("db.yml", "- hosts: db\n  tasks: []\n");
    std::string text = kGood;
    size_t ok = 0, rejected = 0;
    for (size_t len = 0; len < text.size(); len += 7) {
        try {
            inventory::load_text(text.substr(0, len), dir.path() / "inv.yml");
            ++ok;
        } catch (const ConfigError& e) {
            ++rejected;
            CHECK(!e.diagnostics().empty());
        }
    }
    CHECK(rejected > 0);
    // Byte flips: every result is either a valid inventory or diagnostics.
    uint32_t seed = 12345;
    for (int i = 0; i < 300; ++i) {
        std::string t = text;
        for (int k = 0; k < 3; ++k) {
            seed = seed * 1103515245 + 12345;
            t[(seed >> 8) % t.size()] = static_cast<char>("{}[]:,-'\"\n #&*!|>%@`"[(seed >> 3) % 20]);
        }
        try {
            inventory::load_text(t, dir.path() / "inv.yml");
        } catch (const ConfigError&) {
        }
    }
    (void)ok;
}

TEST_CASE("data entries: each kind checks its own keys, with file:line:column") {
    test::TempDir dir;
    dir.write("web.yml", "- hosts: web\n  tasks: []\n");
    std::string text = R"(project: forum
providers:
  old:
    kind: static
    hosts:
      web1: { address: 198.18.1.12, roles: [web] }
active: old
roles:
  web: { playbooks: [web.yml] }
data:
  - { kind: postgress, role: web, database: forum }
  - { kind: postgres, role: web, path: /srv/x }
  - { kind: files, role: web, path: relative/dir }
  - { kind: files, role: web, path: /srv/ok, database: forum }
  - { kind: postgres, role: web, database: shop, method: logcal, replica_identity_full: "yes" }
  - { kind: postgres, role: web, database: blog, method: logical, replica_identity_full: true }
)";
    auto errs = errors_of(text, dir);
    std::string all;
    for (const auto& e : errs) all += e.str() + "\n";
    INFO(all);
    CHECK(all.find(":11:") != std::string::npos);
    CHECK(all.find("unknown data kind \"postgress\"; did you mean \"postgres\"?") != std::string::npos);
    // A key of another kind is unknown to this one; a required key is missing.
    CHECK(all.find("data/1/path") != std::string::npos);
    CHECK(all.find("data/1/database") != std::string::npos);
    CHECK(all.find("data/2/path") != std::string::npos);
    CHECK(all.find("data/3/database") != std::string::npos);
    // PostgreSQL's own settings: the method by name, the identity switch a boolean.
    CHECK(all.find(
              ":15:58: data/4/method: expected auto (streaming within a major, logical across), physical or "
              "logical") != std::string::npos);
    CHECK(all.find("data/4/replica_identity_full: expected true or false") != std::string::npos);
    CHECK(all.find("data/5") == std::string::npos);
    CHECK(errs.size() == 7);
}
