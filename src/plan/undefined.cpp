#include "plan/undefined.hpp"

#include <set>

#include "plan/planner.hpp"
#include "util/schema.hpp"

namespace decamp::plan {

std::vector<Diagnostic> undefined_variables(const inventory::Inventory& inv,
                                            const std::vector<const playbook::Playbook*>& books,
                                            const std::vector<std::string>& also_defined) {
    std::set<std::string> defined;
    // What a host's scope holds, from the planner itself: every host's, and a host without
    // vars of its own for the names decamp provides whatever the inventory lists.
    auto add_host = [&](const inventory::Host& h) {
        for (auto& n : HostVars(inv, h).names()) defined.insert(std::move(n));
    };
    add_host(inventory::Host{});
    for (const auto& h : inv.hosts) add_host(h);
    for (const auto* b : books) defined.insert(b->defines.begin(), b->defines.end());

    // Suggestions are names that work as written; fact names count as defined only so that
    // a bare `os_id` is never a false alarm (they live under facts.*), so none is suggested.
    std::vector<std::string> candidates(defined.begin(), defined.end());
    defined.insert(also_defined.begin(), also_defined.end());
    std::vector<Diagnostic> out;
    for (const auto* b : books)
        for (const auto& u : b->uses) {
            if (defined.count(u.name) || u.name.rfind("ansible_", 0) == 0) continue;
            std::string msg =
                "variable \"" + u.name +
                "\" is not defined anywhere: not in the inventory's or a host's vars, the play's or "
                "task's vars, a register: or set_fact of these playbooks, nor by decamp";
            std::string hint = schema::did_you_mean(u.name, candidates);
            if (!hint.empty()) msg += "; did you mean \"" + hint + "\"?";
            out.push_back(Diagnostic{u.mark, u.path, msg});
        }
    return out;
}

}  // namespace decamp::plan
