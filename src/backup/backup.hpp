// `decamp backup`: every data set of the inventory (PostgreSQL dumps, files trees) read
// from the provider's hosts and streamed through decamp into the restic repository on the
// backup host, with a manifest; list, verify (restore into a scratch place, compare) and
// retention.
#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backup/manifest.hpp"
#include "backup/repo.hpp"
#include "engine/engine.hpp"
#include "inventory/inventory.hpp"
#include "util/text.hpp"

namespace decamp::backup {

// A host's connection (the run's engine::Pool underneath: one per host for the whole run).
using ConnectFn = std::function<transport::Transport&(const inventory::Host&)>;

// The name a data set's stream has inside its snapshot: "1-postgres-forum.dump",
// "2-files-srv_forum_uploads.tar".
std::string stream_name(size_t index, const inventory::DataSet& ds);

// Backs up every data set from the hosts of `provider`; returns the stored manifest.
Manifest run_backup(const inventory::Inventory& inv, Repo& repo, const std::string& provider, const ConnectFn& conn,
                    std::ostream& log);

struct BackupSummary {
    std::string id;
    double time = 0;
    uint64_t bytes = 0;
    int sets = 0;
    std::string snapshot;  // the manifest's snapshot
};
// Complete backups (those with a manifest), newest first.
std::vector<BackupSummary> list_backups(Repo& repo);
// "latest" or an id (a unique prefix will do). Throws Error when there is none.
Manifest load_manifest(Repo& repo, const std::string& id_or_latest);

struct CheckResult {
    std::string what;     // "repository", "postgres forum", "files /srv/…"
    bool ok = false;
    std::string detail;
    double seconds = 0;
};
struct VerifyResult {
    std::string id;
    std::vector<CheckResult> checks;
    bool ok() const;
    uint64_t bytes = 0;
    double seconds = 0;
};
// restic check (--read-data when read_data), then each stream restored into a scratch dir
// on this machine and compared with the manifest (stream sha256; every file's sha256).
VerifyResult verify_backup(Repo& repo, const Manifest& m, bool read_data, std::ostream& log);
std::string verify_markdown(const VerifyResult& r);
std::string verify_json(const VerifyResult& r);

struct PruneResult {
    std::vector<std::string> kept, removed;
    std::vector<std::pair<std::string, std::string>> reasons;
};
// Applies backup.keep; removes the snapshots of the backups it drops (and data snapshots
// older than a day that no manifest names: leftovers of failed runs), then `restic prune`.
PruneResult apply_retention(const inventory::Inventory& inv, Repo& repo, bool dry_run, std::ostream& log);

using util::human_bytes;
std::string human_seconds(double s);

}  // namespace decamp::backup
