// What `decamp migrate` shows before it asks: from the inventory and the state alone.
#include <doctest/doctest.h>

#include "migrate/migration.hpp"
#include "test_util.hpp"

using namespace decamp;
using namespace decamp::migrate;

TEST_CASE("migrate summary: source, target, data and DNS; nothing to ask when there is nothing to do") {
    test::TempDir dir;
    dir.write("web.yml", "- hosts: web\n  tasks: []\n");
    auto inv = inventory::load(dir.write("inv.yml", R"(project: forum
ssh: { user: root, key: id_ed25519, known_hosts: known_hosts }
providers:
  old: { kind: static, hosts: { old-web1: { address: 192.0.2.1, roles: [web] }, old-db1: { address: 192.0.2.2, roles: [db] } } }
  new: { kind: static, hosts: { new-web1: { address: 192.0.2.3, roles: [web] }, new-db1: { address: 192.0.2.4, roles: [db] } } }
active: old
roles:
  web: { playbooks: [web.yml] }
  db: { playbooks: [web.yml] }
data:
  - { kind: postgres, role: db, database: forum }
app: { role: web, services: [forum-app] }
)"));
    MigrateOptions o;
    o.target = "new";
    o.state_path = dir.path() / "state.db";
    std::string s = migrate_summary(inv, o);
    CHECK(s.find("move forum from provider old to provider new") != std::string::npos);
    CHECK(s.find("old-db1 (192.0.2.2)") != std::string::npos);
    CHECK(s.find("postgres forum (old-db1 → replica (streaming, or logical across majors) on new-db1)") !=
          std::string::npos);
    CHECK(s.find("stop forum-app on old") != std::string::npos);
    CHECK(s.find("fence old's database forum") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(o.state_path));  // reading the state creates none

    o.target = "old";  // already there: run_migrate refuses and says why, nothing to confirm
    CHECK(migrate_summary(inv, o).empty());
    o.abort = true;  // nothing in progress
    CHECK(migrate_summary(inv, o).empty());
    {
        Journal j(o.state_path);
        j.start("migrate", "old", "new");
    }
    std::string a = migrate_summary(inv, o);
    CHECK(a.find("undo migration") != std::string::npos);
    CHECK(a.find("(old → new)") != std::string::npos);
}

TEST_CASE(
    "migrate: the TTL during the migration is never below what the DNS kind accepts, and preflight says so") {
    test::TempDir dir;
    dir.write("web.yml", "- hosts: web\n  tasks: []\n");
    std::string head = R"(project: forum
ssh: { user: root, key: id_ed25519, known_hosts: known_hosts }
providers:
  old: { kind: static, hosts: { old-web1: { address: 192.0.2.1, roles: [web] } } }
  new: { kind: static, hosts: { new-web1: { address: 192.0.2.3, roles: [web] } } }
active: old
roles:
  web: { playbooks: [web.yml] }
)";
    MigrateOptions o;
    o.target = "new";
    o.state_path = dir.path() / "state.db";
    auto cf = inventory::load(dir.write(
        "cf.yml",
        head + "dns: { kind: cloudflare, api_token: \"${env:T}\", zone: example.test., records: [ { name: "
               "www.example.test., role: web, ttl: 300 } ] }\n"));
    CHECK(migration_ttl(cf, o) == 60);
    CHECK(migration_ttl_note(cf, o) ==
          "resolvers see the switch within 60 s (the TTL during the migration); DNS kind cloudflare accepts "
          "no TTL "
          "below 60 s, so the plan uses 60 s instead of 30 s");
    CHECK(migrate_summary(cf, o).find("lower the DNS TTLs to 60s") != std::string::npos);
    auto pdns = inventory::load(dir.write(
        "pdns.yml",
        head + "dns: { kind: powerdns, api: \"http://127.0.0.1:8081\", zone: example.test., records: [ { "
               "name: www.example.test., role: web, ttl: 300 } ] }\n"));
    CHECK(migration_ttl(pdns, o) == 30);
    CHECK(migration_ttl_note(pdns, o) ==
          "resolvers see the switch within 30 s (the TTL during the migration)");
    o.lowered_ttl = 120;
    CHECK(migration_ttl(cf, o) == 120);
}
