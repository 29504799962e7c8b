// The inventory's backup: and objectives: sections: parsed, and every mistake reported with
// file:line:column.
#include <doctest/doctest.h>

#include "inventory/inventory.hpp"
#include "test_util.hpp"

using namespace decamp;

namespace {

const std::string kBase = R"(project: forum
providers:
  old: { kind: static, hosts: { old-web1: { address: 198.18.1.11, roles: [web] } } }
  backup: { kind: static, hosts: { backup-web1: { address: 198.18.4.11, roles: [web] } } }
active: old
roles: { web: { playbooks: [web.yml] } }
secrets: { backup_key: "${env:BACKUP_KEY}" }
)";

std::vector<std::string> errors(const test::TempDir& dir, const std::string& extra) {
    try {
        inventory::load(dir.write("inv.yml", kBase + extra));
    } catch (const ConfigError& e) {
        std::vector<std::string> out;
        for (const auto& d : e.diagnostics()) out.push_back(d.str());
        return out;
    }
    return {};
}

}  // namespace

TEST_CASE("inventory: backup and objectives") {
    test::TempDir dir;
    dir.write("web.yml", "- hosts: web\n  tasks: []\n");
    auto inv = inventory::load(dir.write("inv.yml", kBase +
        "backup: { host: backup-web1, path: /srv/decamp-backup, secret: backup_key, keep: { daily: 7, weekly: 4 } }\n"
        "objectives: { rto: 2h, rpo: 24h }\n"));
    REQUIRE(inv.backup);
    CHECK(inv.backup->host == "backup-web1");
    CHECK(inv.backup->path == "/srv/decamp-backup");
    CHECK(inv.backup->keep.daily == 7);
    CHECK(inv.backup->keep.weekly == 4);
    REQUIRE(inv.objectives);
    CHECK(inv.objectives->rto_s == 7200);
    CHECK(inv.objectives->rpo_s == 86400);

    auto e = errors(dir, "backup: { host: old-web1, path: /x, secret: nope, keep: { dayly: 7 } }\n");
    REQUIRE(e.size() == 3);
    CHECK(e[0].find("inv.yml:8:17: backup/host") != std::string::npos);
    CHECK(e[2].find("inv.yml:8:59: backup/keep/dayly: unknown key \"dayly\"; did you mean \"daily\"?") != std::string::npos);
    bool provider_err = false, secret_err = false;
    for (const auto& s : e) {
        provider_err |= s.find("backup/host: host \"old-web1\" belongs to provider old, where the stack runs") != std::string::npos;
        secret_err |= s.find("backup/secret: \"nope\" is not defined under secrets") != std::string::npos;
    }
    CHECK(provider_err);
    CHECK(secret_err);
    e = errors(dir, "backup: { host: backup-web1, address: 1.2.3.4, path: relative, secret: backup_key }\n");
    REQUIRE(e.size() == 2);
    CHECK(e[0].find("exactly one of host") != std::string::npos);
    CHECK(e[1].find("backup/path") != std::string::npos);
    e = errors(dir, "objectives: { rto: soon, rpo: -1 }\n");
    REQUIRE(e.size() == 2);
    CHECK(e[0].find("inv.yml:8:20: objectives/rto: expected a positive duration") != std::string::npos);
}

TEST_CASE("inventory: durations") {
    CHECK(inventory::parse_duration("90") == 90);
    CHECK(inventory::parse_duration("90s") == 90);
    CHECK(inventory::parse_duration("30m") == 1800);
    CHECK(inventory::parse_duration("1h30m") == 5400);
    CHECK(inventory::parse_duration("1d") == 86400);
    CHECK(inventory::parse_duration("2w") == 1209600);
    CHECK(!inventory::parse_duration(""));
    CHECK(!inventory::parse_duration("h"));
    CHECK(!inventory::parse_duration("1h1h"));
    CHECK(!inventory::parse_duration("5x"));
    CHECK(!inventory::parse_duration("-1"));
}
