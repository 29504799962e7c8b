// Hosts a migration or a drill needs on a provider that orders them: the same plan and
// journaled operations as `decamp hosts create`, then the addresses and key trust the state
// now holds given to the inventory the run goes on with.
#include <fstream>

#include "hosts/hosts.hpp"
#include "hosts/trust.hpp"
#include "inventory/inventory.hpp"
#include "migrate/journal.hpp"

namespace decamp::hosts {

std::string public_key_of(const inventory::Inventory& inv) {
    if (inv.ssh.key.empty())
        throw Error(
            "ssh.key is not set in the inventory: new and reinstalled servers get its public half "
            "(KEY.pub) as their root key");
    std::string path = inv.ssh.key + ".pub";
    std::ifstream f(path);
    std::string line;
    if (!f || !std::getline(f, line) || line.find("ssh-") != 0)
        throw Error("cannot read the SSH public key " + path + " (the public half of ssh.key)");
    return line;
}

std::vector<std::string> unordered(const inventory::Inventory& inv, const std::string& provider) {
    std::vector<std::string> out;
    for (const auto* h : inv.provider_hosts(provider))
        if (h->address.empty()) out.push_back(h->name);
    return out;
}

std::string ensure_hosts(inventory::Inventory& inv, const std::string& provider,
                         const std::vector<std::string>& names, migrate::Journal& journal,
                         const Ensure& opts) {
    if (names.empty()) return "nothing to order";
    auto p = inventory::open_provider(inv, provider);
    Plan plan = make_plan(*p, Action::Create, names, std::nullopt);  // refuses a kind that cannot order
    Context ctx;
    ctx.authorized_key = public_key_of(inv);
    ctx.known_hosts = inv.ssh.known_hosts;
    for (const auto& n : names)
        if (const auto* h = inv.find_host(n)) ctx.ports[n] = h->port;
    ctx.progress = opts.progress;
    Store store(journal);
    std::string failed, summary;
    for (const auto& o : run_plan(*p, plan, store, ctx)) {
        if (!o.ok)
            failed += (failed.empty() ? "" : "; ") + o.host + ": " + o.message;
        else
            summary += (summary.empty() ? "" : "; ") + o.host + ": " + o.message;
    }
    if (!failed.empty()) throw Error("ordering hosts on " + provider + " failed: " + failed);
    fill_addresses(inv, journal.path().string());
    attach_trust(inv, journal.path().string(), opts.tofu);
    std::vector<std::string> missing;
    for (const auto& n : names)
        if (const auto* h = inv.find_host(n); h && h->address.empty()) missing.push_back(n);
    if (!missing.empty())
        throw Error("provider " + provider + " gave no IPv4 address to " + missing.front() +
                    (missing.size() > 1 ? " (and " + std::to_string(missing.size() - 1) + " more)" : ""));
    return summary;
}

}  // namespace decamp::hosts
