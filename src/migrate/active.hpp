// Which provider the stack runs on, and why. The state (the journal beside the inventory)
// is the one source of truth; the inventory's `active:` only says where the stack starts.
// Every command that picks hosts asks here, so that on day 2 after `migrate --to new` a plain
// `apply` converges new, and the provider the stack left is touched only when named.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "inventory/inventory.hpp"
#include "migrate/journal.hpp"

namespace decamp::migrate {

struct ActiveProvider {
    std::string name;                   // the provider the stack runs on
    bool from_state = false;            // false: the inventory's active: (no migration moved it)
    std::filesystem::path state_path;   // the state consulted (it may not exist)
    std::optional<MigrationRow> moved_by;   // the migration that moved the stack onto `name`
    std::optional<MigrationRow> running;    // a migration in progress, if any
    std::vector<std::string> left;      // providers the stack moved away from (never `name`)

    bool was_left(const std::string& provider) const;
    // "provider new (from state .decamp/state.db, migrated 2026-12-01 23:50 UTC)"
    std::string describe() const;
    // "provider old was left: the stack moved to new (migration …, 2026-…)"; "" when not left.
    std::string left_warning(const std::string& provider) const;
};

// What the state holds: its `active` key and every migration recorded (oldest first).
struct StateRecord {
    std::optional<std::string> active;
    std::vector<MigrationRow> migrations;
};

// The rule, pure. A state naming a provider the inventory no longer defines is an Error:
// falling back to `active:` would converge the provider the stack left.
ActiveProvider resolve_active(const inventory::Inventory& inv, const StateRecord& state,
                              const std::filesystem::path& state_path);

// Reads the state (default: default_state_path(inv.file)) and applies the rule.
ActiveProvider active_provider(const inventory::Inventory& inv, const std::filesystem::path& state_path = {});

// The hosts a command may touch, and what to say about them.
struct HostScope {
    std::string provider;                       // "" = every provider the stack has not left
    std::vector<const inventory::Host*> hosts;  // in inventory order
    std::string warning;                        // non-empty: the explicit provider was left
    std::vector<std::string> excluded;          // left providers kept out of an all-provider scope
};

// `explicit_provider` (--provider P): P's hosts, with a warning when the stack left P.
// Otherwise a command that converges the stack's roles (`whole_stack`) works on the active
// provider; one that selects hosts by pattern (apply PLAYBOOK, run, facts) sees every host
// except those of providers the stack left. Throws Error for an undefined provider.
HostScope host_scope(const inventory::Inventory& inv, const ActiveProvider& active,
                     const std::string& explicit_provider, bool whole_stack);

// "YYYY-MM-DD HH:MM UTC".
std::string utc_minute(double unix_time);
// `unix_time` in UTC by strftime's `format` ("" when it does not fit).
std::string utc_format(double unix_time, const char* format);

}  // namespace decamp::migrate
