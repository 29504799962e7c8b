// Pieces several subcommands share: loading the inventory with its playbooks (all errors of
// all files in one report), and small output helpers.
#pragma once

#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "inventory/inventory.hpp"
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

// Standard flags.
Flag flag_inventory();
Flag flag_json();
Flag flag_limit();
Flag flag_provider();
Flag flag_forks();

}  // namespace decamp::cli
