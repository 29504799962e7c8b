#include <doctest/doctest.h>

#include "engine/script.hpp"
#include "inventory/inventory.hpp"
#include "plan/undefined.hpp"
#include "playbook/playbook.hpp"
#include "test_util.hpp"

using namespace decamp;

namespace {

const char* kInventory = R"(project: t
ssh: { user: root, key: k, known_hosts: kh }
providers:
  a:
    kind: static
    hosts:
      h1: { address: 198.18.1.11, roles: [web], vars: { only_on_h1: 1 } }
active: a
roles:
  web: { playbooks: [web.yml] }
vars: { inv_var: 1 }
secrets: { db_password: "${env:NOT_NEEDED_HERE}" }
)";

// The undefined-variable diagnostics for these playbooks with kInventory.
std::vector<std::string> undefined(const std::vector<std::string>& texts) {
    test::TempDir dir;
    dir.write("web.yml", "[]\n");
    auto inv = inventory::load(dir.write("inv.yml", kInventory));
    std::vector<playbook::Playbook> books;
    for (size_t i = 0; i < texts.size(); ++i)
        books.push_back(playbook::load_text(texts[i], "pb" + std::to_string(i) + ".yml"));
    std::vector<const playbook::Playbook*> ptrs;
    for (const auto& b : books) ptrs.push_back(&b);
    std::vector<std::string> out;
    for (const auto& d : plan::undefined_variables(inv, ptrs, engine::fact_names())) out.push_back(d.str());
    return out;
}

}  // namespace

TEST_CASE("a variable nothing in the run defines is reported with the task's place") {
    auto ds = undefined({R"(- hosts: all
  tasks:
    - debug: { msg: "{{ undefined_var_zz }}" }
    - command: "echo {{ inv_vra }}"
    - debug: { msg: "{{ item }}" }
)"});
    REQUIRE(ds.size() == 3);
    CHECK(ds[0].find("pb0.yml:3:21: 0/tasks/0/debug/msg: variable \"undefined_var_zz\" is not defined") == 0);
    CHECK(ds[1].find("did you mean \"inv_var\"?") != std::string::npos);
    CHECK(ds[2].find("\"item\"") != std::string::npos);  // no loop on that task
}

TEST_CASE("names something can define are not reported") {
    auto ds = undefined({R"(- hosts: all
  vars: { play_var: 1 }
  tasks:
    - command: /bin/true
      register: registered
    - set_fact: { fact_from_set_fact: "{{ registered.stdout }}" }
    - debug:
        msg: >-
          {{ inv_var }} {{ only_on_h1 }} {{ play_var }} {{ registered.rc }} {{ registered_later.rc }}
          {{ fact_from_set_fact }} {{ host.address }} {{ role_hosts.web[0].name }} {{ groups.all }}
          {{ inventory_hostname }} {{ ansible_host }} {{ project }} {{ provider.name }}
          {{ secrets.db_password }} {{ facts.os_id }} {{ ansible_facts.arch }} {{ os_family }}
          {{ ansible_distribution }} {{ optional_one | default('x') }} {{ d_alias | d(1) }}
    - debug: { msg: "{{ item }}" }
      loop: "{{ [1, 2] }}"
    - debug: { msg: "{{ guarded_elsewhere }}" }
    - debug: { msg: "{{ only_when_set }}" }
      when: only_when_set is defined
    - debug: { msg: "{{ under_when }}" }
      when: false
)",
                         R"(- hosts: all
  tasks:
    - command: /bin/true
      register: registered_later
      when: guarded_elsewhere is not defined
)"});
    CHECK(ds.empty());
    if (!ds.empty()) MESSAGE(ds[0]);
}
