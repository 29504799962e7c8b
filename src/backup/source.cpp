#include "backup/source.hpp"

#include "backup/backup.hpp"
#include "backup/manifest.hpp"
#include "backup/restore.hpp"
#include "migrate/journal.hpp"

namespace decamp::backup {

namespace {
migrate::BackupSource::Info info(const std::string& id, double time, uint64_t bytes) {
    migrate::BackupSource::Info i;
    i.found = true;
    i.id = id;
    i.time = time;
    i.bytes = bytes;
    i.when = iso_time(time);
    i.ago = human_seconds(migrate::Journal::now() - time);
    return i;
}
}  // namespace

migrate::BackupSource::Info RepoBackups::latest() {
    auto li = latest_backup(inv_);
    if (!li.found) {
        Info i;
        i.why = li.why;
        return i;
    }
    return info(li.id, li.time, 0);
}

migrate::BackupSource::Info RepoBackups::find(const std::string& id_or_latest) {
    Repo repo(inv_);
    auto m = load_manifest(repo, id_or_latest);
    return info(m.id, m.time, m.total_bytes());
}

migrate::BackupSource::Info RepoBackups::restore(const std::string& target,
                                                 const std::function<transport::Transport&(const inventory::Host&)>& conn,
                                                 const std::string& id_or_latest, std::ostream& log) {
    auto rr = restore_latest(inv_, target, conn, id_or_latest, log);
    return info(rr.backup_id, rr.backup_time, rr.bytes);
}

}  // namespace decamp::backup
