// `decamp drill --to P`: rehearse the worst case. Provision the stack on P, restore the
// latest (or a chosen) backup, start the app, run the health checks and the data checks
// against the manifest, and report RTO (drill start → healthy with the data checked) and
// RPO (the backup's age) with each phase's duration. Never touches DNS. Tears down
// afterwards unless --keep.
//
// Teardown on bare metal you keep renting: the hosts stay (they are paid for and a real
// recovery would need them), the stack on them is stopped and its data removed — the app
// services stopped and disabled, the restored databases dropped and the PostgreSQL service
// stopped and disabled, the files trees deleted. Packages and configuration stay, so the
// next drill's provision is quick; a host that reboots starts nothing of the stack.
#pragma once

#include <atomic>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "inventory/inventory.hpp"
#include "playbook/playbook.hpp"

namespace decamp::backup {

struct DrillOptions {
    std::string target;
    std::string backup_id = "latest";
    bool keep = false;
    bool json = false;
    int forks = 50;
    int verbosity = 0;
    int health_wait_s = 120;
    std::filesystem::path state_path;        // the journal, for its lock and the active provider
    const std::atomic<bool>* interrupted = nullptr;
    engine::Progress* progress = nullptr;
    engine::Pool* pool = nullptr;  // the run's connections (the CLI's session); null: its own
    bool tofu = false;             // --trust-on-first-use for hosts the drill orders
};

struct DrillReport {
    std::string target, backup_id, backup_provider, state = "failed", error;
    double backup_time = 0;
    double started = 0;
    double rto_s = -1, rpo_s = -1;
    int64_t rto_objective_s = 0, rpo_objective_s = 0;
    bool rto_met = true, rpo_met = true;
    struct Phase {
        std::string name;
        double seconds = 0;
        bool ok = true;
        std::string detail;
    };
    std::vector<Phase> phases;
    std::vector<std::string> restored;   // "postgres forum → spare-db1: 3 tables, row counts match"
    std::string teardown;
    uint64_t bytes = 0;
    bool ok() const { return state == "passed"; }
};

std::string drill_markdown(const DrillReport& r);
std::string drill_json(const DrillReport& r);

// Returns the exit code: 0 passed and objectives met, 5 failed or an objective missed,
// 6 locked, 130 interrupted. The report goes to `out`, progress to `log`.
// `inv` gains the addresses (and key trust) of the target hosts the drill orders first.
int run_drill(inventory::Inventory& inv, const std::vector<playbook::Playbook>& role_books,
              const DrillOptions& opts, std::ostream& out, std::ostream& log);

}  // namespace decamp::backup
