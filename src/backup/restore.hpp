// Restoring a backup onto a provider's hosts: the rebuild `decamp drill` rehearses and
// `decamp migrate --from-backup` performs when the old provider is gone.
// Each stream is restored into a staging place first (a scratch database, a sibling
// directory) and checked against the manifest (stream sha256, row counts per table, every
// file's sha256); only when every data set checks out are the real database and trees
// replaced. A corrupted backup therefore changes nothing on the target.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "backup/backup.hpp"
#include "backup/manifest.hpp"
#include "inventory/inventory.hpp"

namespace decamp::backup {

struct RestoredSet {
    std::string kind, name, host;
    uint64_t bytes = 0;
    double seconds = 0;
    std::string check;  // "12 tables, row counts match" / "34 files match"
};

struct RestoreResult {
    std::string backup_id;
    std::string backup_provider;   // where the backup was read from
    double backup_time = 0;        // unix seconds: the recovery point
    double age_s = 0;              // now − backup_time when the restore finished: the RPO
    uint64_t bytes = 0;
    double seconds = 0;
    std::vector<RestoredSet> sets;
};

// Restores every data set of `backup_id_or_latest` ("latest" or an id) onto the hosts of
// `target_provider` (postgres: the first host of the role; files: every host of the role).
// Stops the inventory's app services on the target's app hosts first and starts them
// again at the end. Throws decamp::Error (nothing replaced) when the backup is missing,
// unreadable or does not match its manifest.
RestoreResult restore_latest(const inventory::Inventory& inv, const std::string& target_provider,
                             const ConnectFn& conn, const std::string& backup_id_or_latest, std::ostream& log);

// The same with an open repository and a loaded manifest (drill).
RestoreResult restore_backup(const inventory::Inventory& inv, Repo& repo, const Manifest& m,
                             const std::string& target_provider, const ConnectFn& conn, std::ostream& log);

// For preflight messages: the newest backup, or nothing (no backup: section, no backup yet,
// repository unreachable — `why` says which).
struct LatestInfo {
    bool found = false;
    std::string id;
    double time = 0;
    std::string why;
};
LatestInfo latest_backup(const inventory::Inventory& inv);

// Data checks on the live (swapped-in) data of the target against the manifest; "" when
// everything matches, else what differs.
std::string check_against_manifest(const inventory::Inventory& inv, const Manifest& m,
                                   const std::string& target_provider, const ConnectFn& conn);

}  // namespace decamp::backup
