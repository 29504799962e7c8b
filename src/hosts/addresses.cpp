// The addresses of hosts whose provider assigned them, from the state into the inventory.
#include <filesystem>

#include "hosts/hosts.hpp"
#include "inventory/inventory.hpp"
#include "migrate/journal.hpp"

namespace decamp::hosts {

std::vector<std::string> fill_addresses(inventory::Inventory& inv, const std::string& state) {
    std::vector<std::string> missing;
    bool any = false;
    for (const auto& h : inv.hosts) any = any || h.address.empty();
    if (!any) return missing;
    std::filesystem::path path =
        state.empty() ? migrate::default_state_path(inv.file) : std::filesystem::path(state);
    std::optional<migrate::Journal> journal;
    if (std::filesystem::exists(path)) journal.emplace(path);
    for (auto& h : inv.hosts) {
        if (!h.address.empty()) continue;
        if (journal) {
            Store store(*journal);
            if (auto r = store.get(h.provider, h.name); r && !r->ipv4.empty()) {
                h.address = r->ipv4;
                continue;
            }
        }
        missing.push_back(h.name);
    }
    return missing;
}

}  // namespace decamp::hosts
