// Which provider the stack runs on after a migration (the state first, then the inventory),
// and which hosts a command may touch.
#include <doctest/doctest.h>

#include <iostream>
#include <sstream>

#include "cli/cli.hpp"
#include "migrate/active.hpp"
#include "migrate/journal.hpp"
#include "test_util.hpp"

using namespace decamp;
using namespace decamp::migrate;

namespace {

const char* kInv = R"(project: forum
ssh: { user: root, key: id_ed25519, known_hosts: known_hosts }
providers:
  old:
    kind: static
    hosts:
      old-web1: { address: 198.18.1.11, roles: [web] }
      old-db1:  { address: 198.18.1.12, roles: [db] }
  new:
    kind: static
    hosts:
      new-web1: { address: 198.18.2.11, roles: [web] }
      new-db1:  { address: 198.18.2.12, roles: [db] }
  spare:
    kind: static
    hosts:
      spare-web1: { address: 198.18.3.11, roles: [web] }
active: old
roles:
  web: { playbooks: [web.yml] }
  db:  { playbooks: [db.yml] }
)";

struct Stack {
    test::TempDir dir;
    std::filesystem::path inv_file;
    inventory::Inventory inv;
    Stack() {
        dir.write("web.yml", "- hosts: web\n  tasks:\n    - name: marker\n      command: /bin/true\n");
        dir.write("db.yml", "- hosts: db\n  tasks:\n    - name: marker\n      command: /bin/true\n");
        inv_file = dir.write("inv.yml", kInv);
        inv = inventory::load(inv_file);
    }
    std::filesystem::path state() const { return dir.path() / ".decamp" / "state.db"; }
    // A finished migration source → target, as `decamp migrate` records it.
    void migrated(const std::string& source, const std::string& target) const {
        Journal j(state());
        auto m = j.start("migrate", source, target);
        j.set("active", target);
        j.finish(m.id, "done");
    }
};

MigrationRow row(const std::string& id, const std::string& kind, const std::string& src, const std::string& dst,
                 const std::string& state) {
    return MigrationRow{id, kind, src, dst, state, 1764633000, 1764633600};
}

std::vector<std::string> names(const std::vector<const inventory::Host*>& hosts) {
    std::vector<std::string> out;
    for (const auto* h : hosts) out.push_back(h->name);
    return out;
}

// Runs the decamp CLI in-process; returns {exit code, stdout, stderr}.
struct CliRun {
    int code;
    std::string out, err;
};
CliRun decamp_cli(std::vector<std::string> words) {
    words.insert(words.begin(), "decamp");
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    std::ostringstream out, err;
    auto* old_out = std::cout.rdbuf(out.rdbuf());
    auto* old_err = std::cerr.rdbuf(err.rdbuf());
    int code = cli::main(static_cast<int>(argv.size()), argv.data());
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    return {code, out.str(), err.str()};
}

}  // namespace

TEST_CASE("active provider: the inventory's active: until a migration records another") {
    Stack s;
    StateRecord none;
    auto a = resolve_active(s.inv, none, s.state());
    CHECK(a.name == "old");
    CHECK_FALSE(a.from_state);
    CHECK(a.left.empty());
    CHECK(a.describe().find("from the inventory's active:") != std::string::npos);
}

TEST_CASE("active provider: the state wins over the inventory and names the migration") {
    Stack s;
    StateRecord rec{"new", {row("m1", "migrate", "old", "new", "done")}};
    auto a = resolve_active(s.inv, rec, s.state());
    CHECK(a.name == "new");
    CHECK(a.from_state);
    REQUIRE(a.moved_by);
    CHECK(a.moved_by->id == "m1");
    CHECK(a.left == std::vector<std::string>{"old"});
    CHECK(a.was_left("old"));
    CHECK_FALSE(a.was_left("spare"));
    std::string d = a.describe();
    CHECK(d.rfind("provider new (from state ", 0) == 0);
    CHECK(d.find("migrated 2025-12-02 00:00 UTC from old by migration m1") != std::string::npos);
    CHECK(a.left_warning("old").find("provider old was left") == 0);
    CHECK(a.left_warning("spare").empty());
}

TEST_CASE("active provider: back and forth, drills and rollbacks") {
    Stack s;
    SUBCASE("old → new → old: new is the one left") {
        StateRecord rec{"old", {row("m1", "migrate", "old", "new", "done"), row("m2", "migrate", "new", "old", "done")}};
        auto a = resolve_active(s.inv, rec, s.state());
        CHECK(a.name == "old");
        CHECK(a.left == std::vector<std::string>{"new"});
        CHECK(a.moved_by->id == "m2");
    }
    SUBCASE("a drill or a rolled-back migration leaves nothing") {
        StateRecord rec{std::nullopt, {row("d1", "drill", "old", "spare", "done"), row("m1", "migrate", "old", "new", "rolled-back")}};
        auto a = resolve_active(s.inv, rec, s.state());
        CHECK(a.name == "old");
        CHECK(a.left.empty());
    }
    SUBCASE("activated, then stopped before it was marked done") {
        StateRecord rec{"new", {row("m1", "migrate", "old", "new", "running")}};
        auto a = resolve_active(s.inv, rec, s.state());
        CHECK(a.name == "new");
        REQUIRE(a.running);
        CHECK(a.moved_by->id == "m1");
        CHECK(a.describe().find("is in progress") != std::string::npos);
    }
}

TEST_CASE("host scope: whole-stack commands work on the active provider, the left one only when named") {
    Stack s;
    s.migrated("old", "new");
    auto a = active_provider(s.inv);  // reads the journal beside the inventory
    CHECK(a.name == "new");

    auto plain = host_scope(s.inv, a, "", true);
    CHECK(plain.provider == "new");
    CHECK(names(plain.hosts) == std::vector<std::string>{"new-web1", "new-db1"});
    CHECK(plain.warning.empty());

    auto explicit_old = host_scope(s.inv, a, "old", true);
    CHECK(names(explicit_old.hosts) == std::vector<std::string>{"old-web1", "old-db1"});
    CHECK(explicit_old.warning.find("provider old was left") == 0);

    // Pattern commands (apply PLAYBOOK, run, facts) see every provider but the one left.
    auto patterns = host_scope(s.inv, a, "", false);
    CHECK(names(patterns.hosts) == std::vector<std::string>{"new-web1", "new-db1", "spare-web1"});
    CHECK(patterns.excluded == std::vector<std::string>{"old"});

    CHECK_THROWS_WITH_AS(host_scope(s.inv, a, "nope", true), doctest::Contains("not defined"), Error);
}

TEST_CASE("host scope: a state naming a provider the inventory lost is an error, not a fallback") {
    Stack s;
    StateRecord rec{"gone", {row("m1", "migrate", "old", "gone", "done")}};
    auto a = resolve_active(s.inv, rec, s.state());
    CHECK(a.name == "gone");
    CHECK_THROWS_WITH_AS(host_scope(s.inv, a, "", true), doctest::Contains("does not define"), Error);
    CHECK(names(host_scope(s.inv, a, "old", true).hosts) == std::vector<std::string>{"old-web1", "old-db1"});
}

TEST_CASE("day 2: plan --offline and validate after migrate --to new name new, not the inventory's old") {
    Stack s;
    s.migrated("old", "new");
    auto plan = decamp_cli({"plan", "--offline", "--json", "-i", s.inv_file.string()});
    CHECK(plan.code == 0);
    CHECK(plan.out.find("\"provider\":\"new\"") != std::string::npos);
    CHECK(plan.out.find("\"active_from\":\"state\"") != std::string::npos);
    CHECK(plan.out.find("new-web1") != std::string::npos);
    CHECK(plan.out.find("old-") == std::string::npos);
    CHECK(plan.err.find("the stack runs on provider new (from state") != std::string::npos);

    auto left = decamp_cli({"plan", "--offline", "-i", s.inv_file.string(), "--provider", "old"});
    CHECK(left.code == 0);
    CHECK(left.out.find("old-web1") != std::string::npos);
    CHECK(left.out.find("new-web1") == std::string::npos);
    CHECK(left.err.find("warning: provider old was left") != std::string::npos);

    auto val = decamp_cli({"validate", "--json", "-i", s.inv_file.string()});
    CHECK(val.code == 0);
    CHECK(val.out.find("\"active\":\"new\",\"active_from\":\"state\"") != std::string::npos);
}
