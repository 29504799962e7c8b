#include <doctest/doctest.h>

#include "playbook/playbook.hpp"
#include "test_util.hpp"

using namespace decamp;

namespace {

std::vector<Diagnostic> errors_of(const std::string& text) {
    try {
        playbook::load_text(text, "pb.yml");
    } catch (const ConfigError& e) {
        return e.diagnostics();
    }
    return {};
}

}  // namespace

TEST_CASE("an Ansible-shaped playbook loads") {
    auto book = playbook::load_text(R"(- name: web
  hosts: web
  become: true
  gather_facts: false
  serial: "50%"
  vars: { port: 80 }
  tasks:
    - name: nginx
      apt: { name: [nginx, curl], state: present }
      notify: reload nginx
    - name: old style args
      ansible.builtin.service: name=nginx state=started enabled=yes
    - command: /bin/true
      register: out
      changed_when: false
      when: port == 80
    - name: loop
      file: { path: "/srv/{{ item }}", state: directory, mode: "0755" }
      loop: [a, b]
  handlers:
    - name: reload nginx
      service: { name: nginx, state: reloaded }
)",
                                    "pb.yml");
    REQUIRE(book.plays.size() == 1);
    const auto& p = book.plays[0];
    CHECK(p.hosts == "web");
    CHECK(p.serial == "50%");
    CHECK(p.become == true);
    REQUIRE(p.tasks.size() == 4);
    CHECK(p.tasks[0].module == "apt");
    CHECK(p.tasks[0].notify == std::vector<std::string>{"reload nginx"});
    CHECK(p.tasks[1].module == "service");
    CHECK(p.tasks[1].args.get("state")->as_string() == "started");
    CHECK(p.tasks[2].module == "command");
    CHECK(p.tasks[2].args.get("cmd")->as_string() == "/bin/true");
    CHECK(p.tasks[2].register_as == "out");
    CHECK(p.tasks[2].changed_when == "false");
    CHECK(p.tasks[3].loop->items().size() == 2);
    CHECK(p.handlers.size() == 1);
    CHECK(p.tasks[0].mark.line == 8);
}

TEST_CASE("load-time errors: unknown module, keyword, argument, value, handler") {
    auto errs = errors_of(R"(- hosts: all
  tasks:
    - name: typo module
      aptt: { name: nginx }
    - name: typo keyword
      apt: { name: nginx }
      notfy: x
    - name: unsupported keyword
      command: ls
      delegate_to: localhost
    - name: bad argument
      apt: { nmae: nginx }
    - name: bad value
      apt: { name: nginx, state: presnt }
    - name: notify nothing
      command: ls
      notify: restart nginxx
    - name: two modules
      apt: { name: x }
      copy: { dest: /x, content: y }
  handlers:
    - name: restart nginx
      service: { name: nginx, state: restarted }
)");
    std::string all;
    for (const auto& e : errs) all += e.str() + "\n";
    CAPTURE(all);
    CHECK(errs.size() == 7);
    CHECK(all.find("pb.yml:4:7: 0/tasks/0/aptt: unsupported module \"aptt\"; did you mean \"apt\"?") != std::string::npos);
    CHECK(all.find("did you mean \"notify\"") != std::string::npos);
    CHECK(all.find("\"delegate_to\" is not supported") != std::string::npos);
    CHECK(all.find("unknown key \"nmae\"; did you mean \"name\"") != std::string::npos);
    CHECK(all.find("state") != std::string::npos);
    CHECK(all.find("restart nginxx") != std::string::npos);
    CHECK(all.find("several module keys") != std::string::npos);
    for (const auto& e : errs) CHECK(e.mark.line > 0);
}

TEST_CASE("structure errors") {
    CHECK(errors_of("hosts: all\n").size() == 1);
    CHECK(errors_of("- tasks: []\n")[0].message.find("required key is missing") != std::string::npos);
    CHECK(errors_of("- hosts: all\n  tasks:\n    - name: nothing\n")[0].message.find("no module") != std::string::npos);
    CHECK(errors_of("- hosts: all\n  taks: []\n")[0].message.find("did you mean \"tasks\"") != std::string::npos);
    CHECK(errors_of("- hosts: all\n  tasks:\n    - debug: { msg: hi }\n      when: a ==\n").size() == 1);
    CHECK(errors_of("- import_playbook: x.yml\n").size() == 1);
}
