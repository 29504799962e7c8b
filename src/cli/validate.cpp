// decamp validate: load inventory and every playbook; one summary line, or every error.
#include <iostream>

#include "cli/common.hpp"
#include "util/value.hpp"

namespace decamp::cli {

int cmd_validate(const Args& args) {
    std::string path = inventory_path(args);
    bool json = args.has("json");
    Loaded l;
    try {
        l = load_all(args, args.positional);
    } catch (const ConfigError& e) {
        if (!json) throw;
        std::cout << "{\"valid\":false,\"errors\":[";
        bool first = true;
        for (const auto& d : e.diagnostics()) {
            std::cout << (first ? "" : ",") << "{\"file\":" << json_escape(d.mark.file)
                      << ",\"line\":" << d.mark.line << ",\"column\":" << d.mark.column
                      << ",\"path\":" << json_escape(d.path) << ",\"message\":" << json_escape(d.message) << "}";
            first = false;
        }
        std::cout << "]}\n";
        return kExitUsage;
    }
    // The state is part of what apply would read: a state naming a provider the inventory
    // lost is an error here too.
    migrate::ActiveProvider active = migrate::active_provider(l.inv, args.get("state"));
    if (!l.inv.find_provider(active.name)) migrate::host_scope(l.inv, active, "", true);  // throws, says why
    size_t tasks = 0;
    for (const auto* set : {&l.role_books, &l.given_books})
        for (const auto& b : *set)
            for (const auto& p : b.plays) tasks += p.tasks.size() + p.handlers.size();
    size_t books = l.role_books.size() + l.given_books.size();
    if (json) {
        std::cout << "{\"valid\":true,\"providers\":" << l.inv.providers.size() << ",\"hosts\":" << l.inv.hosts.size()
                  << ",\"roles\":" << l.inv.roles.size() << ",\"playbooks\":" << books << ",\"tasks\":" << tasks
                  << ",\"active\":" << json_escape(active.name)
                  << ",\"active_from\":" << json_escape(active.from_state ? "state" : "inventory") << "}\n";
    } else {
        std::cout << path << ": ok — " << l.inv.providers.size() << " providers, " << l.inv.hosts.size() << " hosts, "
                  << l.inv.roles.size() << " roles, " << books << " playbooks, " << tasks << " tasks; the stack runs on "
                  << active.describe() << "\n";
    }
    return kExitOk;
}

}  // namespace decamp::cli
