// HostVars: the variables of one host during one play, layered as Ansible documents its
// precedence (lowest first): role defaults (Task::defaults), the inventory's vars,
// group_vars/all beside the inventory then beside the playbook, the host's other groups
// (its provider and roles, by name) the same way, the host's vars in the inventory,
// host_vars/<host> beside the inventory then beside the playbook; then the play's vars, facts,
// registered results and set_fact, what decamp provides, and the task's vars and loop item.
#include <algorithm>
#include <set>

#include "plan/planner.hpp"

namespace decamp::plan {

using inventory::Host;
using inventory::Inventory;

namespace {

// The names facts are found under (gathered on first use).
const char* const kFactRoots[] = {"facts", "ansible_facts"};

const Value* entry(const Value* dirs, const std::string& name) {
    return dirs && dirs->is_map() ? dirs->get(name) : nullptr;
}

void over(Value& out, const Value* layer) {
    if (layer && layer->is_map())
        for (const auto& [k, v] : layer->entries()) out.set(k, v);
}

// A host's groups below `all`, as group_vars/ names them: its provider and its roles, in
// name order (Ansible's order for groups of the same depth).
std::vector<std::string> groups_of(const Host& host) {
    std::set<std::string> g(host.roles.begin(), host.roles.end());
    if (!host.provider.empty()) g.insert(host.provider);
    g.erase("all");
    return {g.begin(), g.end()};
}

// The inventory's and the playbook's layers for `host`, merged (see the file's comment).
Value layered(const Inventory& inv, const Host& host, const Value* play_groups, const Value* play_hosts) {
    Value out = inv.vars.is_map() ? inv.vars : Value::map();
    over(out, entry(&inv.group_vars, "all"));
    over(out, entry(play_groups, "all"));
    for (const auto& g : groups_of(host)) {
        over(out, entry(&inv.group_vars, g));
        over(out, entry(play_groups, g));
    }
    over(out, &host.vars);
    over(out, entry(&inv.host_vars, host.name));
    over(out, entry(play_hosts, host.name));
    return out;
}

}  // namespace

HostVars::HostVars(const Inventory& inv, const Host& host) : inv_(&inv), host_(&host) {
    vars_ = layered(inv, host, nullptr, nullptr);
    magic_ = Value::map();
    Value h = Value::map();
    h.set("name", Value::string(host.name));
    h.set("address", Value::string(host.address));
    h.set("port", Value::integer(host.port));
    h.set("user", Value::string(host.user));
    h.set("provider", Value::string(host.provider));
    Value roles = Value::list();
    for (const auto& r : host.roles) roles.push(Value::string(r));
    h.set("roles", roles);
    magic_.set("host", h);
    Value p = Value::map();
    p.set("name", Value::string(host.provider));
    magic_.set("provider", p);
    magic_.set("inventory_hostname", Value::string(host.name));
    magic_.set("ansible_host", Value::string(host.address));
    magic_.set("project", Value::string(inv.project));
    // role_hosts / groups: hosts by role within this host's provider, so a web host finds
    // "its" database, old with old and new with new.
    Value role_hosts = Value::map();
    Value groups = Value::map();
    Value all = Value::list();
    for (const auto& other : inv.hosts) {
        if (other.provider != host.provider) continue;
        all.push(Value::string(other.name));
        for (const auto& r : other.roles) {
            Value entry = Value::map();
            entry.set("name", Value::string(other.name));
            entry.set("address", Value::string(other.address));
            if (!role_hosts.get(r)) role_hosts.set(r, Value::list());
            role_hosts.get(r)->push(entry);
            if (!groups.get(r)) groups.set(r, Value::list());
            groups.get(r)->push(Value::string(other.name));
        }
    }
    for (const auto& role : inv.roles) {
        if (!role_hosts.get(role.name)) role_hosts.set(role.name, Value::list());
        if (!groups.get(role.name)) groups.set(role.name, Value::list());
    }
    groups.set("all", all);
    // hostvars: each host of this provider by name, with its variables (inventory's, then
    // its own) and the names decamp gives it. Facts of other hosts are not known here.
    Value hostvars = Value::map();
    for (const auto& other : inv.hosts) {
        if (other.provider != host.provider) continue;
        Value hv = layered(inv, other, nullptr, nullptr);
        hv.set("inventory_hostname", Value::string(other.name));
        hv.set("ansible_host", Value::string(other.address));
        hostvars.set(other.name, hv);
    }
    magic_.set("hostvars", hostvars);
    magic_.set("role_hosts", role_hosts);
    magic_.set("groups", groups);
    magic_.set("secrets", inv.secrets);
}

void HostVars::set_play(const playbook::Play& play) {
    play_ = play.vars;
    vars_ = layered(*inv_, *host_, &play.group_vars, &play.host_vars);
}

void HostVars::set_facts(const Value& facts) {
    facts_ = Value::map();
    for (const char* root : kFactRoots) facts_.set(root, facts);
    facts_loaded_ = true;
}

std::vector<std::string> HostVars::names() const {
    std::vector<std::string> out;
    for (const Value* layer : {&vars_, &magic_})
        for (const auto& [k, v] : layer->entries()) out.push_back(k);
    out.insert(out.end(), std::begin(kFactRoots), std::end(kFactRoots));
    return out;
}

tmpl::Scope HostVars::scope(const Value* task_vars, const Value* item, const Value* defaults) const {
    tmpl::Scope s;
    if (defaults) s.push(defaults);
    s.push(&vars_);
    s.push(&play_);
    s.push(&facts_);
    s.push(&registered_);
    s.push(&magic_);  // magic names cannot be shadowed by accident
    if (task_vars) s.push(task_vars);
    if (item) s.push(item);
    if (on_use_ && !facts_loaded_)
        s.set_fallback([this](const std::string& n) -> const Value* {
            if (std::find(std::begin(kFactRoots), std::end(kFactRoots), n) != std::end(kFactRoots))
                wanted_ = true;
            return nullptr;
        });
    return s;
}

}  // namespace decamp::plan
