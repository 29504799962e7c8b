// HostVars: every layer of a host's variables in Ansible's documented precedence, with
// group_vars/ and host_vars/ beside the inventory and beside the playbook.
#include <doctest/doctest.h>

#include "inventory/inventory.hpp"
#include "plan/planner.hpp"
#include "playbook/playbook.hpp"
#include "playbook/template.hpp"
#include "test_util.hpp"
#include "util/error.hpp"

using namespace decamp;

namespace {

constexpr int kLayers = 12;

// Layer i sets x_i … x_12 to "Li": x_i must then come from layer i, the highest that sets it.
std::string block(int i) {
    std::string s;
    for (int j = i; j <= kLayers; ++j) s += "x" + std::to_string(j) + ": L" + std::to_string(i) + "\n";
    return s;
}
std::string flow(int i) {
    std::string s;
    for (int j = i; j <= kLayers; ++j)
        s += (s.empty() ? "" : ", ") + ("x" + std::to_string(j) + ": L" + std::to_string(i));
    return "{" + s + "}";
}

}  // namespace

TEST_CASE("host vars: role defaults < inventory < group_vars < host vars < host_vars < play < role < task") {
    test::TempDir dir;
    dir.write("pb/roles/r/defaults/main.yml", block(1));
    dir.write("pb/roles/r/tasks/main.yml", "- debug: { msg: hi }\n  vars: " + flow(12) + "\n");
    dir.write("pb/roles/r/vars/main.yml", block(11));
    auto pb = dir.write("pb/site.yml", "- hosts: all\n  vars: " + flow(10) + "\n  roles: [r]\n");
    dir.write("group_vars/all.yml", block(3));
    dir.write("pb/group_vars/all.yml", block(4));
    dir.write("group_vars/web.yml", block(5));
    dir.write("pb/group_vars/web/a.yml", block(6));  // a directory: its files merge in order
    dir.write("pb/group_vars/web/b.yml", "x6: L6\n");
    dir.write("host_vars/h1", block(8));  // no extension
    dir.write("pb/host_vars/h1.yml", block(9));
    dir.write("pb/host_vars/web1.example.com", "x9: dotted\n");
    auto inv = inventory::load(dir.write("inv.yml",
                                         "project: t\nproviders:\n  p:\n    kind: static\n    hosts:\n"
                                         "      h1: { address: 10.0.0.1, roles: [web], vars: " +
                                             flow(7) +
                                             " }\n"
                                             "      h2: { address: 10.0.0.2, roles: [db] }\n"
                                             "roles: { web: { playbooks: [pb/site.yml] }, db: { "
                                             "playbooks: [pb/site.yml] } }\n"
                                             "vars: " +
                                             flow(2) + "\n"));
    auto book = playbook::load(pb);
    REQUIRE(book.plays.size() == 1);
    REQUIRE(book.plays[0].tasks.size() == 1);
    const auto& task = book.plays[0].tasks[0];
    tmpl::Options opts;
    plan::HostVars h1(inv, inv.hosts.at(0));
    h1.set_play(book.plays[0]);
    auto s1 = h1.scope(&task.vars, nullptr, task.defaults.get());
    for (int i = 1; i <= kLayers; ++i) {
        CAPTURE(i);
        CHECK(tmpl::evaluate("x" + std::to_string(i), s1, opts).to_text() == "L" + std::to_string(i));
    }
    // h2 is not in web and has no host_vars: web's and h1's layers are not its own.
    plan::HostVars h2(inv, inv.hosts.at(1));
    h2.set_play(book.plays[0]);
    auto s2 = h2.scope(nullptr, nullptr, task.defaults.get());
    CHECK(tmpl::evaluate("x8", s2, opts).to_text() == "L4");
    CHECK(tmpl::evaluate("x10", s2, opts).to_text() == "L10");
    // Other hosts' inventory-side layers are in hostvars; a dotted host name is one name.
    CHECK(tmpl::evaluate("hostvars['h1'].x8", s2, opts).to_text() == "L8");
    CHECK(book.plays[0].host_vars.get("web1.example.com") != nullptr);
    // Before any play, the inventory's layers alone.
    plan::HostVars bare(inv, inv.hosts.at(0));
    CHECK(tmpl::evaluate("x6", bare.scope(), opts).to_text() == "L5");
}

TEST_CASE("host vars: a group_vars file that is not a map is an error naming the file") {
    test::TempDir dir;
    dir.write("group_vars/all.yml", "- a\n- b\n");
    dir.write("site.yml", "- hosts: all\n  tasks: []\n");
    std::vector<Diagnostic> d;
    try {
        inventory::load(dir.write("inv.yml",
                                  "project: t\nproviders:\n  p:\n    kind: static\n"
                                  "    hosts:\n      h1: { address: 10.0.0.1, roles: [web] }\n"
                                  "roles: { web: { playbooks: [site.yml] } }\n"));
    } catch (const ConfigError& e) {
        d = e.diagnostics();
    }
    REQUIRE(d.size() == 1);
    CHECK(d[0].mark.file == (dir.path() / "group_vars/all.yml").string());
    CHECK(d[0].mark.line == 1);
    CHECK(d[0].message == "expected a map of variable name to value");
}
