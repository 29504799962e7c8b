// The pure planner: inventory + playbooks + facts → which plays run on which hosts, and for
// each task on each host the rendered arguments and the module's Action (probe, change, diff).
// No SSH here; the engine feeds it facts and registered results and runs what it returns.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "inventory/inventory.hpp"
#include "modules/module.hpp"
#include "playbook/playbook.hpp"
#include "playbook/template.hpp"

namespace decamp::plan {

// Which hosts one play runs on.
struct Assignment {
    const playbook::Playbook* book = nullptr;
    const playbook::Play* play = nullptr;
    std::vector<const inventory::Host*> hosts;
};

// `decamp apply` without playbook files: every role's playbooks (each file once, in role
// order) on the provider's hosts that have a role using it, intersected with each play's
// `hosts:` and with `limit` (may be empty).
std::vector<Assignment> assign_roles(const inventory::Inventory& inv,
                                     const std::vector<playbook::Playbook>& books,
                                     const std::string& provider, const std::string& limit);

// `decamp apply PLAYBOOK…`: each play on the hosts its `hosts:` names (within `provider`'s
// hosts when provider is non-empty), intersected with limit.
std::vector<Assignment> assign_plays(const inventory::Inventory& inv,
                                     const std::vector<playbook::Playbook>& books,
                                     const std::string& provider, const std::string& limit);
// The same within a given set of hosts (the CLI's scope: every provider the stack has not left).
std::vector<Assignment> assign_plays(const inventory::Inventory& inv,
                                     const std::vector<playbook::Playbook>& books,
                                     const std::vector<const inventory::Host*>& within, const std::string& limit);

// The variables of one host during one play, in Ansible's precedence (host_vars.cpp says
// the order). Owns every layer but the inventory it reads (which outlives it); scope() points
// into them.
class HostVars {
public:
    HostVars(const inventory::Inventory& inv, const inventory::Host& host);
    // The play's vars, and the group_vars/ and host_vars/ beside its playbook.
    void set_play(const playbook::Play& play);
    void set_facts(const Value& facts);
    // Facts gathered on first use: with gather_on_use(true), a template that names `facts`
    // or `ansible_facts` before they are set finds them undefined and marks them wanted;
    // plan_task then answers "needs facts" and the engine gathers them (one read-only round
    // trip) and plans again. A play with gather_facts: true gathers up front. Offline
    // planning leaves this off: facts stay unknown.
    void gather_on_use(bool on) { on_use_ = on; }
    bool has_facts() const { return facts_loaded_; }
    bool facts_wanted() const { return wanted_; }
    void reset_wanted() const { wanted_ = false; }
    void set_registered(const std::string& name, Value result) { registered_.set(name, std::move(result)); }
    const Value& facts() const { return facts_; }
    const Value& registered() const { return registered_; }
    // Scope with an optional task-vars layer and loop item on top, and the task's role
    // defaults (Task::defaults) below everything else.
    tmpl::Scope scope(const Value* task_vars = nullptr, const Value* item = nullptr,
                      const Value* defaults = nullptr) const;
    // Every root name this host's scope has before any task runs: inventory and host vars,
    // what decamp provides (host, role_hosts, secrets, …), facts and ansible_facts (gathered
    // on first use). Play vars and registered results come later; they are not included.
    std::vector<std::string> names() const;

private:
    const inventory::Inventory* inv_;
    const inventory::Host* host_;
    Value vars_;        // inventory, group_vars/, host vars, host_vars/ (merged, see above)
    Value magic_;       // host, provider, inventory_hostname, role_hosts, groups, secrets
    Value play_ = Value::map();
    Value facts_ = Value::map();  // facts, ansible_facts (once gathered)
    bool facts_loaded_ = false;
    bool on_use_ = false;
    mutable bool wanted_ = false;
    Value registered_ = Value::map();
};

// One task instance on one host (a loop gives one per item).
struct Step {
    const playbook::Task* task = nullptr;
    std::string name;           // display name, rendered
    Value args;                 // rendered arguments
    std::optional<Value> item;  // loop item
    modules::Action action;     // empty for debug/set_fact
    // Offline planning: the `when:` could not be decided (needs facts or registered results).
    bool conditional = false;
    bool skipped = false;       // when: false
};

// What planning one task gives: its steps, or "needs facts" (the task names facts that
// have not been gathered yet; gather them and plan it again). Never both.
struct Planned {
    std::vector<Step> steps;
    bool needs_facts = false;
};

// Renders one task for one host. Copy/template `src:` are read (relative to the playbook's
// directory) and turned into `content`. Throws decamp::Error naming the task's file:line
// (unless the error comes from facts not gathered yet: that is needs_facts).
Planned plan_task(const playbook::Task& task, const HostVars& vars, const tmpl::Options& opts);

// Reads the local file a copy/template names (template files are rendered).
std::string read_task_file(const playbook::Task& task, const std::string& src);

}  // namespace decamp::plan
