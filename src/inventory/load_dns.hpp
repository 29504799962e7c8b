// The inventory's `dns:` block, checked offline (inventory/ internal): the keys every kind
// shares (zone, records, nameservers) and each kind's own, a key of another kind named as
// such, secrets only as references. Diagnostics go to the loader's collector.
#pragma once

#include <string>
#include <vector>

#include "inventory/inventory.hpp"
#include "util/schema.hpp"

namespace decamp::inventory {

// A role named by a record, checked by the loader once every role is known.
struct DnsRoleRef {
    Mark mark;
    std::string path;
    std::string role;
};

// Reads `dns` into `out`; false when it is not even a map.
bool load_dns_block(schema::Checker& c, const Value& dns, DnsConfig& out, std::vector<DnsRoleRef>& roles);

// A ${env:…} / ${file:…} reference as a secret Value; anything else is an error at `v`
// that never echoes the value.
Value secret_reference(schema::Checker& c, const Value& v, const std::string& path,
                       const std::string& env_example);

}  // namespace decamp::inventory
