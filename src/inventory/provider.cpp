// From the inventory's view of a provider to the run-time Provider its kind opens.
#include "provider/provider.hpp"

#include "inventory/inventory.hpp"

namespace decamp::inventory {

std::unique_ptr<provider::Provider> open_provider(const Inventory& inv, const std::string& name) {
    const Provider* p = inv.find_provider(name);
    if (!p) throw Error("provider \"" + name + "\" is not defined in " + inv.file.string());
    provider::Config config{p->name, p->settings, {}, inv.base_dir};
    for (const Host* h : inv.provider_hosts(name)) {
        provider::HostSpec spec;
        spec.name = h->name;
        spec.address = h->address;
        spec.port = h->port;
        spec.user = h->user;
        spec.roles = h->roles;
        spec.vars = h->vars;
        spec.mark = spec.address_mark = spec.roles_mark = h->mark;
        config.hosts.push_back(std::move(spec));
    }
    return provider::kind(p->kind).open(std::move(config));
}

}  // namespace decamp::inventory
