// Host selection on a loaded inventory.
#include "inventory/inventory.hpp"

namespace decamp::inventory {

std::vector<const Host*> Inventory::hosts_of(const std::string& provider, const std::string& role) const {
    std::vector<const Host*> out;
    for (const auto* h : provider_hosts(provider))
        if (h->has_role(role)) out.push_back(h);
    return out;
}

}  // namespace decamp::inventory
