// Statically undefined variables: a root name some task always evaluates (playbook::VarUse)
// that nothing in the whole run can define — not the inventory's or any host's vars, not a
// register: or set_fact of any playbook loaded, not a name decamp provides (host,
// role_hosts, secrets, facts, …), nor a fact name. apply would fail that task on every host;
// this says so at load time, with the task's file:line:column.
//
// Conservative on purpose (a false alarm on working content is worse than a miss): names
// under a condition, in vars values, guarded anywhere by `is defined` or default(), and
// every ansible_* name are never reported.
#pragma once

#include <string>
#include <vector>

#include "inventory/inventory.hpp"
#include "playbook/playbook.hpp"
#include "util/error.hpp"

namespace decamp::plan {

// `also_defined`: names other parts provide (the engine's fact names).
std::vector<Diagnostic> undefined_variables(const inventory::Inventory& inv,
                                            const std::vector<const playbook::Playbook*>& books,
                                            const std::vector<std::string>& also_defined);

}  // namespace decamp::plan
