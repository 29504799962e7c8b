// decamp validate: load inventory and every playbook; one summary line, or every error.
#include <iostream>

#include "cli/common.hpp"
#include "util/json.hpp"

namespace decamp::cli {

int cmd_validate(const Args& args) {
    std::string path = inventory_path(args);
    bool json = args.has("json");
    Session l;
    try {
        l = load_all(args, args.positional);
    } catch (const ConfigError& e) {
        if (!json) throw;
        json::Value errors = json::Value::Array{};
        for (const auto& d : e.diagnostics()) {
            json::Value x;
            x.set("file", d.mark.file).set("line", d.mark.line).set("column", d.mark.column);
            x.set("path", d.path).set("message", d.message);
            errors.push(std::move(x));
        }
        json::Value doc;
        doc.set("valid", false).set("errors", std::move(errors));
        std::cout << json::dump(doc) << "\n";
        return kExitUsage;
    }
    // The state is part of what apply would read: a state naming a provider the inventory
    // lost is an error here too.
    const migrate::ActiveProvider& active = l.active();
    if (!l.inv.find_provider(active.name)) migrate::host_scope(l.inv, active, "", true);  // throws, says why
    size_t tasks = 0;
    for (const auto* set : {&l.role_books, &l.given_books})
        for (const auto& b : *set)
            for (const auto& p : b.plays) tasks += p.tasks.size() + p.handlers.size();
    size_t books = l.role_books.size() + l.given_books.size();
    if (json) {
        json::Value doc;
        doc.set("valid", true).set("providers", l.inv.providers.size()).set("hosts", l.inv.hosts.size());
        doc.set("roles", l.inv.roles.size()).set("playbooks", books).set("tasks", tasks);
        doc.set("active", active.name).set("active_from", active.from_state ? "state" : "inventory");
        std::cout << json::dump(doc) << "\n";
    } else {
        std::cout << path << ": ok — " << l.inv.providers.size() << " providers, " << l.inv.hosts.size() << " hosts, "
                  << l.inv.roles.size() << " roles, " << books << " playbooks, " << tasks << " tasks; the stack runs on "
                  << active.describe() << "\n";
    }
    return kExitOk;
}

}  // namespace decamp::cli
