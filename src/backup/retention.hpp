// Retention (`backup: keep: {last, daily, weekly, monthly}`), as restic's `forget` reads
// it but over whole decamp backups (a manifest and its data snapshots go together):
// `daily: 7` keeps the newest backup of each of the 7 newest days that have a backup (UTC),
// weekly by ISO week, monthly by calendar month; `last: N` the N newest. The newest backup
// is always kept; an empty policy keeps everything. Pure, so it is tested by dates alone.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "inventory/inventory.hpp"

namespace decamp::backup {

struct Dated {
    std::string id;
    double time = 0;  // unix seconds
};

// Ids to keep, each with the reasons ("daily 2025-01-03", "weekly 2025-W01", "last").
struct Kept {
    std::set<std::string> ids;
    std::vector<std::pair<std::string, std::string>> reasons;  // id, reason
};

Kept select_kept(const std::vector<Dated>& backups, const inventory::BackupKeep& keep);

}  // namespace decamp::backup
