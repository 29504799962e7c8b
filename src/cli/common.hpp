// Pieces several subcommands share: the Session (the inventory with its playbooks, loaded
// with all errors of all files in one report; the state; the run's connection pool), which
// provider and hosts a command works on, and small output helpers.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "inventory/inventory.hpp"
#include "migrate/active.hpp"
#include "playbook/playbook.hpp"

namespace decamp::engine {
class Pool;
}

namespace decamp::cli {

// What one command works with, built once by the CLI: the inventory, its playbooks, the
// state (where it lives; the active provider it records is the one source of truth) and
// the one connection pool of the run (one SSH session per host, shared by the engine, the
// migration, backups and drills). Lower layers are handed the pieces they need, never the
// Session itself.
class Session {
public:
    Session();
    ~Session();
    Session(Session&&) noexcept;
    Session& operator=(Session&&) noexcept;

    inventory::Inventory inv;
    std::vector<playbook::Playbook> role_books;   // every role's playbooks, each file once
    std::vector<playbook::Playbook> given_books;  // PLAYBOOK arguments
    std::filesystem::path state_path;             // --state, $DECAMP_STATE, or beside the inventory

    // Which provider the stack runs on, read from the state once.
    const migrate::ActiveProvider& active();
    // The run's connections, made on first use.
    engine::Pool& pool();

private:
    std::optional<migrate::ActiveProvider> active_;
    std::unique_ptr<engine::Pool> pool_;
};

// -i FILE (or $DECAMP_INVENTORY); UsageError when neither is there.
std::string inventory_path(const Args& args);

// Loads the inventory and every playbook it or the command line names. All diagnostics of
// all files are thrown together as one ConfigError.
Session load_all(const Args& args, const std::vector<std::string>& playbook_args);
// The inventory alone (commands that run no playbook: run, facts, backup, status).
Session load_inventory(const Args& args);

// Which provider the stack runs on (the state first, then the inventory's active:) and the
// hosts this command may touch (migrate::host_scope with --provider). Says which on `err`,
// and warns when --provider names a provider the stack left. --state FILE picks the state.
struct Target {
    migrate::ActiveProvider active;
    migrate::HostScope scope;
};
Target resolve_target(const Args& args, Session& s, bool whole_stack, std::ostream& err);

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
Flag flag_tofu();  // --trust-on-first-use

}  // namespace decamp::cli
