// Pieces several subcommands share: loading the inventory with its playbooks (all errors of
// all files in one report), which provider and hosts a command works on, and small output
// helpers.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "inventory/inventory.hpp"
#include "migrate/active.hpp"
#include "playbook/playbook.hpp"

namespace decamp::cli {

struct Loaded {
    inventory::Inventory inv;
    std::vector<playbook::Playbook> role_books;   // every role's playbooks, each file once
    std::vector<playbook::Playbook> given_books;  // PLAYBOOK arguments
};

// -i FILE (or $DECAMP_INVENTORY); UsageError when neither is there.
std::string inventory_path(const Args& args);

// Loads the inventory and every playbook it or the command line names. All diagnostics of
// all files are thrown together as one ConfigError.
Loaded load_all(const Args& args, const std::vector<std::string>& playbook_args);

// Which provider the stack runs on (the state first, then the inventory's active:) and the
// hosts this command may touch (migrate::host_scope with --provider). Says which on `err`,
// and warns when --provider names a provider the stack left. --state FILE picks the state.
struct Target {
    migrate::ActiveProvider active;
    migrate::HostScope scope;
};
Target resolve_target(const Args& args, const inventory::Inventory& inv, bool whole_stack, std::ostream& err);

// `decamp run/facts PATTERN`: the hosts PATTERN selects within the target's scope. A pattern
// that names only hosts of a provider the stack left is refused with a hint to --provider.
std::vector<const inventory::Host*> select_in_target(const inventory::Inventory& inv, const Target& t,
                                                     const std::string& pattern);

// Standard flags.
Flag flag_inventory();
Flag flag_json();
Flag flag_limit();
Flag flag_provider();
Flag flag_forks();
Flag flag_state();
Flag flag_yes();
Flag flag_tags();
Flag flag_skip_tags();

}  // namespace decamp::cli
