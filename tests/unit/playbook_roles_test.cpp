// Roles in the standard layout: search path, defaults below everything, vars, params,
// meta dependencies, handlers, files and templates from the role, include_role.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>

#include "plan/planner.hpp"
#include "playbook/playbook.hpp"
#include "playbook/task_file.hpp"
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

void write_web_role(const TempDir& t, const std::string& dir) {
    t.write(dir + "/defaults/main.yml", "web_port: 80\nweb_user: www\n");
    t.write(dir + "/vars/main.yml", "web_conf: /etc/web.conf\n");
    t.write(dir + "/tasks/main.yml",
            "- name: conf\n  template: { src: web.conf.j2, dest: \"{{ web_conf }}\" }\n"
            "  notify: restart web\n- import_tasks: extra.yml\n");
    t.write(dir + "/tasks/extra.yml", "- name: extra\n  copy: { src: motd, dest: /etc/motd }\n");
    t.write(dir + "/templates/web.conf.j2", "port={{ web_port }} user={{ web_user }}\n");
    t.write(dir + "/files/motd", "hello\n");
    t.write(dir + "/handlers/main.yml", "- name: restart web\n  service: { name: web, state: restarted }\n");
}

// An empty inventory's one host, h1, for planning a task alone.
struct OneHost {
    inventory::Inventory inv;
    inventory::Host host;
    OneHost() { host.name = "h1"; }
};

tmpl::Options offline_options() {
    tmpl::Options o;
    o.keep_undefined = true;
    return o;
}
}  // namespace

TEST_CASE("playbook: roles: load tasks, handlers, defaults and vars; files come from the role") {
    TempDir t;
    write_web_role(t, "roles/web");
    auto pb = t.write("site.yml",
                      "- hosts: all\n  pre_tasks:\n    - name: first\n      command: /bin/true\n"
                      "  roles:\n    - web\n    - { role: web, web_port: 81, tags: [again] }\n"
                      "  tasks:\n    - name: last\n      command: /bin/true\n");
    auto book = playbook::load(pb);
    const auto& play = book.plays.at(0);
    std::vector<std::string> names;
    for (const auto& task : play.tasks) names.push_back(task.name);
    // pre_tasks, the role, the role again with other params, tasks.
    CHECK(names == std::vector<std::string>{"first", "conf", "extra", "conf", "extra", "last"});
    REQUIRE(play.handlers.size() == 1);
    CHECK(play.handlers[0].name == "restart web");
    const auto& conf = play.tasks[1];
    CHECK(conf.role == "web");
    CHECK(conf.display_name() == "web : conf");
    CHECK(conf.defaults->get("web_port")->as_int() == 80);
    CHECK(conf.vars.get("web_conf")->as_string() == "/etc/web.conf");
    CHECK(play.tasks[3].vars.get("web_port")->as_int() == 81);
    CHECK(play.tasks[3].tags == std::vector<std::string>{"again"});
    // files/ and templates/ of the role first.
    CHECK(playbook::resolve_task_file(play.tasks[2], "motd") == t.path() / "roles/web/files/motd");
    CHECK(playbook::resolve_task_file(conf, "web.conf.j2") == t.path() / "roles/web/templates/web.conf.j2");
}

TEST_CASE("playbook: role defaults are the lowest layer: inventory and host vars override them") {
    TempDir t;
    write_web_role(t, "roles/web");
    auto pb = t.write("site.yml", "- hosts: all\n  roles: [web]\n");
    auto book = playbook::load(pb);
    const auto& conf = book.plays.at(0).tasks.at(0);
    inventory::Inventory inv;
    inv.vars = Value::map();
    inv.vars.set("web_user", Value::string("nginx"));
    inventory::Host h;
    h.name = "h1";
    plan::HostVars vars(inv, h);
    tmpl::Options opts;
    auto steps = plan::plan_task(conf, vars, opts).steps;
    REQUIRE(steps.size() == 1);
    CHECK(steps[0].args.get("content")->as_string() == "port=80 user=nginx\n");
    CHECK(steps[0].args.get("dest")->as_string() == "/etc/web.conf");
}

TEST_CASE("playbook: a role by path, meta dependencies first, a role runs once per play, cycles are errors") {
    TempDir t;
    t.write("lib/base/tasks/main.yml", "- name: base\n  command: /bin/true\n");
    t.write("lib/app/meta/main.yml", "dependencies:\n  - role: base\n");
    t.write("lib/app/tasks/main.yml", "- name: app\n  command: /bin/true\n");
    auto pb = t.write("site.yml", "- hosts: all\n  roles:\n    - ./lib/app\n    - ./lib/base\n");
    auto book = playbook::load(pb);
    std::vector<std::string> names;
    for (const auto& task : book.plays.at(0).tasks) names.push_back(task.name);
    CHECK(names == std::vector<std::string>{"base", "app"});

    t.write("lib/x/meta/main.yml", "dependencies: [y]\n");
    t.write("lib/y/meta/main.yml", "dependencies: [x]\n");
    auto cyc = t.write("cyc.yml", "- hosts: all\n  roles: [./lib/x]\n");
    auto d = errors_in(cyc);
    CHECK(std::any_of(d.begin(), d.end(),
                      [](const Diagnostic& x) { return x.message.find("cycle") != std::string::npos; }));

    auto missing = t.write("missing.yml", "- hosts: all\n  roles: [nowhere]\n");
    d = errors_in(missing);
    REQUIRE(!d.empty());
    CHECK(d[0].message.find("role \"nowhere\" not found") != std::string::npos);
    CHECK(d[0].mark.line == 2);
}

TEST_CASE("playbook: roles are found through ANSIBLE_ROLES_PATH and include_role with tasks_from") {
    TempDir t;
    t.write("shelf/tool/tasks/main.yml", "- name: main\n  command: /bin/true\n");
    t.write("shelf/tool/tasks/extra.yml", "- name: extra\n  command: /bin/true\n");
    ::setenv("ANSIBLE_ROLES_PATH", (t.path() / "shelf").c_str(), 1);
    auto pb = t.write("site.yml",
                      "- hosts: all\n  tasks:\n    - include_role: { name: tool, tasks_from: extra }\n"
                      "      when: x\n    - import_role: { name: tool }\n");
    auto book = playbook::load(pb);
    ::unsetenv("ANSIBLE_ROLES_PATH");
    const auto& tasks = book.plays.at(0).tasks;
    REQUIRE(tasks.size() == 2);
    CHECK(tasks[0].name == "extra");
    CHECK(tasks[0].when == "x");
    CHECK(tasks[1].name == "main");
}

TEST_CASE("playbook: a name Ansible does not know is still a load-time error") {
    TempDir t;
    auto pb = t.write("pb.yml",
                      "- hosts: all\n  tasks:\n    - nosuchmodule: { a: 1 }\n    - "
                      "community.docker.docker_container: { name: x }\n");
    auto d = errors_in(pb);
    REQUIRE(d.size() == 1);
    CHECK(d[0].message.find("nosuchmodule") != std::string::npos);
}

TEST_CASE("playbook: a role used by two plays runs in each; a missing role does not add notify errors") {
    TempDir t;
    write_web_role(t, "roles/web");
    auto pb = t.write("site.yml", "- hosts: a\n  roles: [web]\n- hosts: b\n  roles: [web]\n");
    auto book = playbook::load(pb);
    REQUIRE(book.plays.size() == 2);
    CHECK(book.plays[0].tasks.size() == 2);
    CHECK(book.plays[1].tasks.size() == 2);
    CHECK(book.plays[1].handlers.size() == 1);

    auto missing = t.write("m.yml",
                           "- hosts: all\n  roles: [gone]\n  tasks:\n    - command: /bin/true\n"
                           "      notify: restart gone\n");
    auto d = errors_in(missing);
    REQUIRE(d.size() == 1);
    CHECK(d[0].message.find("role \"gone\" not found") != std::string::npos);
}

TEST_CASE("plan offline: an argument only a host can tell does not fail the module's checks") {
    auto book = playbook::load_text(
        "- hosts: all\n  tasks:\n    - set_fact: { pkg: \"{{ ansible_facts.x }}\" }\n"
        "    - package: { name: \"{{ pkg }}\" }\n",
        "pb.yml");
    OneHost one;
    plan::HostVars vars(one.inv, one.host);
    const tmpl::Options offline = offline_options();
    auto steps = plan::plan_task(book.plays[0].tasks.at(1), vars, offline).steps;
    REQUIRE(steps.size() == 1);
    CHECK(steps[0].action.summary == "package with arguments known only on the host");
    tmpl::Options live;  // on a host, an unknown value is an error naming it
    CHECK_THROWS(plan::plan_task(book.plays[0].tasks.at(1), vars, live).steps);
}

TEST_CASE("plan: a yum argument of package loads, and fails only where the task runs") {
    auto book = playbook::load_text(
        "- hosts: all\n  tasks:\n"
        "    - package: { name: git, enablerepo: epel }\n"
        "      when: ansible_facts.os_family == 'RedHat'\n"
        "    - package: { name: git, enablerepo: epel }\n"
        "    - package: { name: git, enablerepo: \"{{ ansible_facts.repo }}\" }\n"
        "      when: ansible_facts.os_family == 'RedHat'\n",
        "pb.yml");
    OneHost one;
    plan::HostVars vars(one.inv, one.host);
    const tmpl::Options offline = offline_options();
    auto steps = plan::plan_task(book.plays[0].tasks.at(0), vars, offline).steps;
    REQUIRE(steps.size() == 1);
    CHECK(steps[0].conditional);
    CHECK(steps[0].action.summary.find("enablerepo is an argument of yum/dnf") != std::string::npos);
    CHECK_THROWS_WITH(plan::plan_task(book.plays[0].tasks.at(1), vars, offline),
                      doctest::Contains("pb.yml:5:7"));
    // Its value known only on the host: still conditional, not an error.
    auto templated = plan::plan_task(book.plays[0].tasks.at(2), vars, offline).steps;
    REQUIRE(templated.size() == 1);
    CHECK(templated[0].conditional);
}

TEST_CASE("plan: with_dict loops over item.key / item.value; with_list as loop; one loop keyword only") {
    auto book = playbook::load_text(
        "- hosts: all\n  vars: { users: { alice: 1001, bob: 1002 } }\n  tasks:\n"
        "    - debug: { msg: \"{{ item.key }}={{ item.value }}\" }\n"
        "      with_dict: \"{{ users }}\"\n"
        "    - debug: { msg: \"{{ item.key }}\" }\n"
        "      with_dict: { x: 1 }\n"
        "    - debug: { msg: \"{{ item }}\" }\n"
        "      with_list: [a, b]\n",
        "pb.yml");
    OneHost one;
    plan::HostVars vars(one.inv, one.host);
    vars.set_play(book.plays[0]);
    tmpl::Options opts;
    auto s0 = plan::plan_task(book.plays[0].tasks.at(0), vars, opts).steps;
    REQUIRE(s0.size() == 2);
    CHECK(s0[0].args.get("msg")->as_string() == "alice=1001");
    CHECK(s0[1].args.get("msg")->as_string() == "bob=1002");
    auto s1 = plan::plan_task(book.plays[0].tasks.at(1), vars, opts).steps;
    REQUIRE(s1.size() == 1);
    CHECK(s1[0].args.get("msg")->as_string() == "x");
    CHECK(plan::plan_task(book.plays[0].tasks.at(2), vars, opts).steps.size() == 2);
    std::vector<Diagnostic> d;
    (void)playbook::load_text(
        "- hosts: all\n  tasks:\n    - debug: { msg: hi }\n      loop: [1]\n      with_dict: {a: 1}\n"
        "    - debug: { msg: hi }\n      with_dict: \"a {{ b }}\"\n",
        "pb.yml", d);
    REQUIRE(d.size() == 2);
    CHECK(d[0].message.find("give one of loop and with_dict") != std::string::npos);
    CHECK(d[1].message.find("expected a map or a") != std::string::npos);
    CHECK(d[1].mark.line == 7);
}
