// Every secret the inventory declares is known to the masker before anything is printed,
// so a host that prints a secret's value is masked even when no task has used it yet.
#pragma once

#include "inventory/inventory.hpp"

namespace decamp::inventory {

// Resolves every secret reference in the inventory (secrets:, vars, host vars, provider
// settings, dns api_key) and registers each value with redactor(). One that cannot be
// resolved is skipped silently: it is reported only where it is really needed. One that
// resolves to fewer than 6 characters is a ConfigError (file:line:column; the value is never
// shown): it could not be masked without mangling ordinary text.
void remember_secrets(const Inventory& inv);

}  // namespace decamp::inventory
