// Structure: import_tasks / include_tasks, blocks, import_playbook, vars_files,
// include_vars — each flattened at load with what encloses it.
#include <doctest/doctest.h>

#include <algorithm>

#include "plan/planner.hpp"
#include "playbook/playbook.hpp"
#include "test_util.hpp"

using namespace decamp;
using decamp::test::TempDir;

namespace {

std::vector<Diagnostic> errors_in(const std::filesystem::path& p) {
    try {
        playbook::load(p);
    } catch (const ConfigError& e) {
        return e.diagnostics();
    }
    return {};
}

bool any_message(const std::vector<Diagnostic>& d, const std::string& part) {
    return std::any_of(d.begin(), d.end(),
                       [&](const Diagnostic& x) { return x.message.find(part) != std::string::npos; });
}

}  // namespace

TEST_CASE("playbook: import_tasks inlines a file with the include's when, vars and tags") {
    TempDir t;
    t.write("tasks/common.yml",
            "- name: one\n  debug: { msg: \"{{ greeting }}\" }\n  when: b\n"
            "- name: two\n  command: /bin/true\n");
    auto pb = t.write("pb.yml",
                      "- hosts: all\n  tasks:\n    - import_tasks: tasks/common.yml\n"
                      "      when: a\n      vars: { greeting: hi }\n      tags: [setup]\n"
                      "    - name: after\n      command: /bin/false\n");
    auto book = playbook::load(pb);
    const auto& tasks = book.plays.at(0).tasks;
    REQUIRE(tasks.size() == 3);
    CHECK(tasks[0].name == "one");
    CHECK(tasks[0].when == "(a) and (b)");
    CHECK(tasks[1].when == "a");
    CHECK(tasks[0].vars.get("greeting")->as_string() == "hi");
    CHECK(tasks[1].tags == std::vector<std::string>{"setup"});
    CHECK(tasks[0].mark.file.find("common.yml") != std::string::npos);
    CHECK(tasks[0].mark.line == 1);
    CHECK(tasks[2].name == "after");
    CHECK(tasks[2].tags.empty());
}

TEST_CASE("playbook: an error in an included file is reported at its own file:line") {
    TempDir t;
    t.write("inc.yml", "- name: ok\n  command: /bin/true\n- name: bad\n  aptt: { name: x }\n");
    auto pb = t.write("pb.yml", "- hosts: all\n  tasks:\n    - include_tasks: inc.yml\n");
    auto d = errors_in(pb);
    REQUIRE(!d.empty());
    CHECK(d[0].mark.file.find("inc.yml") != std::string::npos);
    CHECK(d[0].mark.line == 4);
    CHECK(d[0].message.find("aptt") != std::string::npos);
}

TEST_CASE("playbook: a missing include file, a cycle and runaway nesting are errors, not crashes") {
    TempDir t;
    auto pb = t.write("pb.yml", "- hosts: all\n  tasks:\n    - import_tasks: nope.yml\n");
    CHECK(any_message(errors_in(pb), "not found"));

    t.write("a.yml", "- include_tasks: b.yml\n");
    t.write("b.yml", "- include_tasks: a.yml\n");
    auto cyc = t.write("cyc.yml", "- hosts: all\n  tasks:\n    - include_tasks: a.yml\n");
    auto d = errors_in(cyc);
    CHECK(any_message(d, "include cycle: a.yml → b.yml → a.yml"));

    // A chain deeper than the limit (no cycle: every file is distinct).
    for (int i = 0; i < playbook::kMaxIncludeDepth + 3; ++i)
        t.write("deep" + std::to_string(i) + ".yml",
                "- include_tasks: deep" + std::to_string(i + 1) + ".yml\n");
    t.write("deep" + std::to_string(playbook::kMaxIncludeDepth + 3) + ".yml", "- command: /bin/true\n");
    auto deep = t.write("deep.yml", "- hosts: all\n  tasks:\n    - include_tasks: deep0.yml\n");
    CHECK(any_message(errors_in(deep), "nested more than"));

    // Includes that multiply (each file includes the next one ten times) hit the task budget.
    for (int i = 0; i < 6; ++i) {
        std::string body;
        for (int k = 0; k < 10; ++k) body += "- import_tasks: m" + std::to_string(i + 1) + ".yml\n";
        t.write("m" + std::to_string(i) + ".yml", body);
    }
    t.write("m6.yml", "- command: /bin/true\n");
    auto bomb = t.write("bomb.yml", "- hosts: all\n  tasks:\n    - import_tasks: m0.yml\n");
    CHECK(any_message(errors_in(bomb), "more than"));
}

TEST_CASE("playbook: a task file named by a template expands to each file it can name, under its condition") {
    TempDir t;
    t.write("setup-Debian.yml", "- name: deb\n  apt: { name: nginx }\n");
    t.write("setup-RedHat.yml", "- name: rh\n  dnf: { name: nginx }\n");
    auto pb =
        t.write("pb.yml", "- hosts: all\n  tasks:\n    - include_tasks: \"setup-{{ os_family }}.yml\"\n");
    auto book = playbook::load(pb);
    const auto& tasks = book.plays.at(0).tasks;
    REQUIRE(tasks.size() == 2);
    CHECK(tasks[0].when == "('setup-' ~ ( os_family ) ~ '.yml') == 'setup-Debian.yml'");
    CHECK(tasks[1].module == "dnf");  // an Ansible module decamp lacks loads; it fails where it runs

    // Planned for a host: only the file the name renders to runs.
    inventory::Inventory inv;
    inventory::Host h;
    h.name = "h1";
    h.vars = Value::map();
    h.vars.set("os_family", Value::string("Debian"));
    plan::HostVars vars(inv, h);
    tmpl::Options opts;
    auto deb = plan::plan_task(tasks[0], vars, opts).steps;
    auto rh = plan::plan_task(tasks[1], vars, opts).steps;
    REQUIRE(deb.size() == 1);
    CHECK(!deb[0].skipped);
    REQUIRE(rh.size() == 1);
    CHECK(rh[0].skipped);
}

TEST_CASE("playbook: block, rescue and always with block-level when, vars, become and tags") {
    auto book = playbook::load_text(R"(- hosts: all
  tasks:
    - name: group
      when: ready
      become: true
      vars: { pkg: nginx }
      tags: [web]
      block:
        - name: install
          apt: { name: "{{ pkg }}" }
          tags: [pkg]
      rescue:
        - name: report
          debug: { msg: failed }
      always:
        - name: done
          debug: { msg: done }
)",
                                    "pb.yml");
    const auto& tasks = book.plays.at(0).tasks;
    REQUIRE(tasks.size() == 3);
    CHECK(tasks[0].when == "ready");
    CHECK(tasks[0].become == std::optional<bool>(true));
    CHECK(tasks[0].vars.get("pkg")->as_string() == "nginx");
    CHECK(tasks[0].tags == std::vector<std::string>{"web", "pkg"});
    CHECK(!tasks[0].rescue);
    CHECK(tasks[1].rescue);
    CHECK(!tasks[2].rescue);
    CHECK(tasks[2].name == "done");

    // A rescue step is conditional offline and not run on a host.
    inventory::Inventory inv;
    inventory::Host h;
    h.name = "h1";
    plan::HostVars vars(inv, h);
    vars.set_play(playbook::Play{});
    tmpl::Options offline;
    offline.keep_undefined = true;
    auto steps = plan::plan_task(tasks[1], vars, offline).steps;
    REQUIRE(steps.size() == 1);
    CHECK(steps[0].conditional);
    tmpl::Options live;
    live.keep_undefined = false;
    steps = plan::plan_task(tasks[1], vars, live).steps;
    CHECK(steps.at(0).skipped);
}

TEST_CASE(
    "playbook: a block's own keys are checked; a bad block when is reported once, where it is written") {
    auto d = std::vector<Diagnostic>{};
    try {
        playbook::load_text(
            "- hosts: all\n  tasks:\n    - block:\n        - command: /bin/true\n"
            "        - command: /bin/false\n      when: \"a ==\"\n      bogus: 1\n",
            "pb.yml");
    } catch (const ConfigError& e) {
        d = e.diagnostics();
    }
    CHECK(any_message(d, "unknown key \"bogus\""));
    // The condition's syntax is reported at the block, not once per task in it.
    size_t n = std::count_if(d.begin(), d.end(),
                             [](const Diagnostic& x) { return x.path.find("when") != std::string::npos; });
    CHECK(n <= 1);
}

TEST_CASE("playbook: import_playbook, vars_files and include_vars") {
    TempDir t;
    t.write("vars.yml", "port: 8080\nname: app\n");
    t.write("vars/Debian.yml", "pkg: apache2\n");
    t.write("vars/RedHat.yml", "pkg: httpd\n");
    t.write("other.yml",
            "- hosts: all\n  vars_files: [vars.yml]\n  vars: { port: 80 }\n  tasks:\n"
            "    - include_vars: \"{{ os }}.yml\"\n"
            "    - name: show\n      debug: { msg: \"{{ port }} {{ pkg }}\" }\n");
    auto pb = t.write("site.yml",
                      "- import_playbook: other.yml\n- hosts: all\n  tasks:\n    - command: /bin/true\n");
    auto book = playbook::load(pb);
    REQUIRE(book.plays.size() == 2);
    const auto& play = book.plays[0];
    CHECK(play.vars.get("port")->as_int() == 8080);  // vars_files over vars
    CHECK(play.vars.get("name")->as_string() == "app");
    // One set_fact per file the name can render to (vars/ first, then beside the playbook).
    auto by_name = [&](const std::string& n) {
        return std::find_if(play.tasks.begin(), play.tasks.end(), [&](const auto& x) { return x.name == n; });
    };
    auto deb = by_name("include_vars Debian.yml");
    REQUIRE(deb != play.tasks.end());
    CHECK(deb->module == "set_fact");
    CHECK(deb->args.get("pkg")->as_string() == "apache2");
    CHECK(deb->when == "(( os ) ~ '.yml') == 'Debian.yml'");
    REQUIRE(by_name("include_vars RedHat.yml") != play.tasks.end());
    CHECK(by_name("include_vars RedHat.yml")->args.get("pkg")->as_string() == "httpd");
    CHECK(play.tasks.back().name == "show");

    auto cyc = t.write("loop.yml", "- import_playbook: loop.yml\n");
    CHECK(any_message(errors_in(cyc), "include cycle"));
}

TEST_CASE("playbook: include_vars with first_found takes the first candidate that exists") {
    TempDir t;
    t.write("vars/Debian.yml", "a: 1\n");
    t.write("vars/main.vars", "a: 2\n");
    auto pb = t.write("pb.yml",
                      "- hosts: all\n  tasks:\n    - include_vars: \"{{ item }}\"\n      with_first_found:\n"
                      "        - \"{{ distro }}.yml\"\n        - main.vars\n        - never.yml\n");
    auto book = playbook::load(pb);
    const auto& tasks = book.plays.at(0).tasks;
    REQUIRE(tasks.size() == 2);
    CHECK(tasks[0].when == "(( distro ) ~ '.yml') == 'Debian.yml'");
    CHECK(tasks[1].args.get("a")->as_int() == 2);
    // On a host: the fallback only when the first candidate does not exist for it.
    inventory::Inventory inv;
    for (const char* distro : {"Debian", "Alpine"}) {
        inventory::Host h;
        h.name = "h1";
        h.vars = Value::map();
        h.vars.set("distro", Value::string(distro));
        plan::HostVars vars(inv, h);
        tmpl::Options opts;
        const bool debian = std::string(distro) == "Debian";
        CHECK(plan::plan_task(tasks[0], vars, opts).steps.at(0).skipped == !debian);
        CHECK(plan::plan_task(tasks[1], vars, opts).steps.at(0).skipped == debian);
    }
}

TEST_CASE("playbook: key=value arguments keep {{ }} with spaces; command takes inline creates=/chdir=") {
    auto book = playbook::load_text(R"(- hosts: all
  vars: { dir: /srv/app }
  tasks:
    - file: "path={{ dir }} state=directory mode=0755"
    - command: creates=/etc/done chdir=/tmp  /bin/echo "a b" {{ dir }}
    - shell: echo hi > /tmp/x removes=/tmp/y
)",
                                    "pb.yml");
    const auto& tasks = book.plays.at(0).tasks;
    REQUIRE(tasks.size() == 3);
    CHECK(tasks[0].args.get("path")->as_string() == "{{ dir }}");
    CHECK(tasks[0].args.get("state")->as_string() == "directory");
    CHECK(tasks[1].args.get("cmd")->as_string() == "/bin/echo \"a b\" {{ dir }}");
    CHECK(tasks[1].args.get("creates")->as_string() == "/etc/done");
    CHECK(tasks[1].args.get("chdir")->as_string() == "/tmp");
    CHECK(tasks[2].args.get("cmd")->as_string() == "echo hi > /tmp/x");
    CHECK(tasks[2].args.get("removes")->as_string() == "/tmp/y");
}

TEST_CASE("playbook: include and block keys are checked; check_mode: true and loops on includes are errors") {
    TempDir t;
    t.write("inc.yml", "- command: /bin/true\n");
    auto pb = t.write("pb.yml",
                      "- hosts: all\n  tasks:\n    - include_tasks: inc.yml\n      loop: [1, 2]\n"
                      "    - command: /bin/true\n      check_mode: true\n"
                      "    - command: /bin/true\n      check_mode: false\n"
                      "    - include_tasks: \"{{ x }}\"\n");
    auto d = errors_in(pb);
    CHECK(any_message(d, "unknown key \"loop\""));
    CHECK(any_message(d, "check_mode: true is not supported"));
    CHECK(any_message(d, "no task file matches"));
    CHECK(d.size() == 3);
}

TEST_CASE("playbook: hostvars holds the provider's hosts with their vars") {
    inventory::Inventory inv;
    inv.vars = Value::map();
    inv.vars.set("site", Value::string("x"));
    inventory::Host a;
    a.name = "a";
    a.address = "192.0.2.1";
    a.provider = "p";
    a.vars = Value::map();
    a.vars.set("port", Value::integer(81));
    inventory::Host b = a;
    b.name = "b";
    b.address = "192.0.2.2";
    inv.hosts = {a, b};
    auto book = playbook::load_text(
        "- hosts: all\n  tasks:\n    - debug: { msg: \"{{ hostvars['b'].ansible_host }} "
        "{{ hostvars.a.port }} {{ hostvars.b.site }}\" }\n",
        "pb.yml");
    plan::HostVars vars(inv, inv.hosts[0]);
    tmpl::Options opts;
    auto steps = plan::plan_task(book.plays[0].tasks.at(0), vars, opts).steps;
    CHECK(steps.at(0).args.get("msg")->as_string() == "192.0.2.2 81 x");
}

TEST_CASE("playbook: an Ansible keyword decamp does not run yet fails only where its task runs") {
    auto book = playbook::load_text(R"(- hosts: all
  tasks:
    - name: BSD only
      command: pkg install nginx
      environment: { ASSUME_ALWAYS_YES: "yes" }
      when: os == 'FreeBSD'
    - name: retried
      command: /bin/true
      until: r is succeeded
      register: r
    - name: zipped loop
      debug: { msg: "{{ item[0] }}" }
      with_together: [[a], [1]]
)",
                                    "pb.yml");
    const auto& tasks = book.plays.at(0).tasks;
    REQUIRE(tasks.size() == 3);
    CHECK(tasks[0].unsupported == "environment");
    inventory::Inventory inv;
    inventory::Host h;
    h.name = "h1";
    h.vars = Value::map();
    h.vars.set("os", Value::string("Debian"));
    plan::HostVars vars(inv, h);
    tmpl::Options live;
    CHECK(plan::plan_task(tasks[0], vars, live).steps.at(0).skipped);  // never runs here: no error
    CHECK_THROWS_WITH_AS(plan::plan_task(tasks[1], vars, live).steps,
                         doctest::Contains("keyword until is not supported"), Error);
    CHECK_THROWS_WITH_AS(plan::plan_task(tasks[2], vars, live).steps,
                         doctest::Contains("keyword with_together"), Error);
    // Offline, where the condition cannot be decided: a conditional step that says why.
    inventory::Host unknown;
    unknown.name = "h2";
    plan::HostVars uvars(inv, unknown);
    tmpl::Options offline;
    offline.keep_undefined = true;
    auto steps = plan::plan_task(tasks[0], uvars, offline).steps;
    CHECK(steps.at(0).conditional);
    CHECK(steps.at(0).action.summary.find("environment") != std::string::npos);
}
