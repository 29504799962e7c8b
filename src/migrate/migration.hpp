// `decamp migrate --to P`: preflight → provision → replicate → verify → cutover → report,
// every step journaled (resumable after any crash), abortable before cutover, rolled back
// when the DNS switch or the final health check fails.
#pragma once

#include <atomic>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "inventory/inventory.hpp"
#include "migrate/active.hpp"
#include "playbook/playbook.hpp"

namespace decamp::migrate {

struct MigrateOptions {
    std::string target;
    bool dry_run = false;
    bool resume = false;
    bool abort = false;
    bool json = false;
    bool wait_ttl = false;       // really wait for the old TTL to expire before cutover
    bool from_backup = false;    // the source is gone: restore the data from a backup
    std::string backup_id = "latest";
    int lowered_ttl = 30;        // TTL set during the migration
    int catchup_timeout_s = 300;
    int forks = 50;
    int verbosity = 0;
    std::filesystem::path state_path;  // journal; default beside the inventory
    const std::atomic<bool>* interrupted = nullptr;
    engine::Progress* progress = nullptr;  // for the provision phase
    engine::Connector* connector = nullptr;  // tests may inject; default from inventory
};

// Runs (or resumes / aborts / dry-runs) a migration. Human progress goes to `log`, the
// final report (Markdown, or JSON with --json) to `out`. Returns the process exit code.
int run_migrate(const inventory::Inventory& inv, const std::vector<playbook::Playbook>& role_books,
                const MigrateOptions& opts, std::ostream& out, std::ostream& log);

// What run_migrate with these options is about to do, for the confirmation question (no
// host is contacted); "" when there is nothing to do (--abort with no migration running).
std::string migrate_summary(const inventory::Inventory& inv, const MigrateOptions& opts);

// `decamp status`.
int run_status(const inventory::Inventory& inv, const std::filesystem::path& state_path, bool json,
               std::ostream& out);

}  // namespace decamp::migrate
