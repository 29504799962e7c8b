// The backup repository as the migration's BackupSource (migrate --from-backup): the
// newest backup for advice and --dry-run, the manifest a restore will use, the restore.
#pragma once

#include "inventory/inventory.hpp"
#include "migrate/migration.hpp"

namespace decamp::backup {

class RepoBackups : public migrate::BackupSource {
public:
    explicit RepoBackups(const inventory::Inventory& inv) : inv_(inv) {}
    Info latest() override;
    Info find(const std::string& id_or_latest) override;
    Info restore(const std::string& target, const std::function<transport::Transport&(const inventory::Host&)>& conn,
                 const std::string& id_or_latest, std::ostream& log) override;

private:
    const inventory::Inventory& inv_;
};

}  // namespace decamp::backup
