// decamp dns export: the zone of the inventory's dns: block as RFC 1035 master-file text on
// stdout (rfc2136: a TSIG-signed AXFR from the primary), e.g. to load it elsewhere or diff.
#include "dns/dns.hpp"

#include <iostream>

#include "cli/common.hpp"
#include "migrate/migration.hpp"
#include "util/secret.hpp"

namespace decamp::cli {

int cmd_dns(const Args& args) {
    if (args.positional.size() != 1 || args.positional[0] != "export")
        throw UsageError("usage: decamp dns export [-i FILE]");
    inventory::Inventory inv = inventory::load(inventory_path(args));
    if (!inv.dns) throw UsageError(inv.file.string() + " has no dns: block: nothing to export");
    auto backend = migrate::make_dns_backend(inv);
    std::cout << redactor().mask(backend->export_zone()) << std::flush;
    return kExitOk;
}

}  // namespace decamp::cli
