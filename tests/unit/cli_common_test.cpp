#include <doctest/doctest.h>

#include "cli/common.hpp"
#include "test_util.hpp"

using namespace decamp;

namespace {

cli::Args args_for(const std::filesystem::path& inventory) {
    cli::Args a;
    a.values["inventory"] = inventory.string();
    return a;
}

const char* kInventory = R"(project: t
ssh: { user: root, key: k, known_hosts: kh }
providers:
  a: { kind: static, hosts: { h1: { address: local, roles: [x] } } }
active: a
roles:
  x: { playbooks: [p.yml] }
)";

}  // namespace

TEST_CASE(
    "load_all (validate, plan --offline, apply) reports unknown filters and undefined variables together") {
    test::TempDir dir;
    auto inv = dir.write("inv.yml", kInventory);
    dir.write("p.yml", R"(- hosts: all
  vars: { foo: bar }
  tasks:
    - debug: { msg: "{{ foo | nosuchfilter }}" }
    - debug: { msg: "{{ undefined_var_zz }}" }
)");
    std::vector<Diagnostic> ds;
    try {
        (void)cli::load_all(args_for(inv), {});
    } catch (const ConfigError& e) {
        ds = e.diagnostics();
    }
    REQUIRE(ds.size() == 2);
    CHECK(ds[0].mark.line == 4);
    CHECK(ds[0].message.find("unknown filter \"nosuchfilter\"") != std::string::npos);
    CHECK(ds[1].mark.line == 5);
    CHECK(ds[1].path == "0/tasks/1/debug/msg");
    CHECK(ds[1].message.find("\"undefined_var_zz\" is not defined") != std::string::npos);
}

TEST_CASE(
    "load_all: a playbook that cannot be parsed turns the undefined-variable check off (no false alarm)") {
    test::TempDir dir;
    auto inv = dir.write("inv.yml", kInventory);
    dir.write("p.yml", "- hosts: all\n  tasks:\n    - debug: { msg: \"{{ registered_there.rc }}\" }\n");
    dir.write("other.yml", "- hosts: all\n  tasks: [ { command: /bin/true, register: registered_there\n");
    std::vector<Diagnostic> ds;
    try {
        (void)cli::load_all(args_for(inv), {(dir.path() / "other.yml").string()});
    } catch (const ConfigError& e) {
        ds = e.diagnostics();
    }
    REQUIRE(!ds.empty());
    for (const auto& d : ds) CHECK(d.message.find("is not defined") == std::string::npos);
}

TEST_CASE("load_all: the example inventory and its playbooks have nothing to report") {
    CHECK_NOTHROW((void)cli::load_all(args_for(test::source_dir() + "/inventory/example.yml"), {}));
}
