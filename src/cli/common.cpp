#include "cli/common.hpp"

#include <algorithm>

namespace decamp::cli {

std::string inventory_path(const Args& args) {
    std::string p = args.get("inventory", default_inventory());
    if (p.empty()) throw UsageError("no inventory given: pass -i FILE or set DECAMP_INVENTORY");
    return p;
}

Loaded load_all(const Args& args, const std::vector<std::string>& playbook_args) {
    Loaded out;
    std::vector<Diagnostic> diags;
    try {
        out.inv = inventory::load(inventory_path(args));
    } catch (const ConfigError& e) {
        diags = e.diagnostics();
    }
    // Even with a broken inventory, the playbooks it names are checked in the same run.
    std::vector<std::filesystem::path> paths;
    for (const auto& r : out.inv.roles)
        for (const auto& p : r.playbooks)
            if (std::find(paths.begin(), paths.end(), p) == paths.end()) paths.push_back(p);
    for (const auto& p : paths) {
        if (!std::filesystem::is_regular_file(p)) continue;  // already reported
        try {
            out.role_books.push_back(playbook::load(p));
        } catch (const ConfigError& e) {
            diags.insert(diags.end(), e.diagnostics().begin(), e.diagnostics().end());
        }
    }
    for (const auto& p : playbook_args) {
        auto abs = std::filesystem::absolute(p).lexically_normal();
        try {
            out.given_books.push_back(playbook::load(abs));
        } catch (const ConfigError& e) {
            diags.insert(diags.end(), e.diagnostics().begin(), e.diagnostics().end());
        }
    }
    if (!diags.empty()) throw ConfigError(std::move(diags));
    return out;
}

Flag flag_inventory() { return {"inventory", 'i', true, "inventory file (default: $DECAMP_INVENTORY)"}; }
Flag flag_json() { return {"json", 0, false, "machine-readable JSON on stdout"}; }
Flag flag_limit() { return {"limit", 'l', true, "host pattern: names, roles, providers, globs, a,b, !x, &y"}; }
Flag flag_forks() { return {"forks", 'f', true, "hosts worked on at once (default 50)"}; }
Flag flag_provider() { return {"provider", 'p', true, "provider whose hosts to use (default: the active one)"}; }

}  // namespace decamp::cli
