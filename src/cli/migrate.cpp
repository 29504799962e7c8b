// decamp migrate / status.
#include <iostream>

#include "backup/source.hpp"
#include "cli/common.hpp"
#include "cli/confirm.hpp"
#include "cli/interrupt.hpp"
#include "cli/progress.hpp"
#include "engine/pool.hpp"
#include "migrate/migration.hpp"

namespace decamp::cli {

int cmd_migrate(const Args& args) {
    migrate::MigrateOptions o;
    o.target = args.get("to");
    o.dry_run = args.has("dry-run");
    o.resume = args.has("resume");
    o.abort = args.has("abort");
    o.finish = args.has("finish");
    o.finish_now = args.has("now");
    if (o.finish_now && !o.finish) throw UsageError("--now goes with --finish");
    o.json = args.has("json");
    o.wait_ttl = args.has("wait-ttl");
    o.from_backup = args.has("from-backup");
    if (!args.get("backup").empty()) {
        if (!o.from_backup) throw UsageError("--backup ID goes with --from-backup");
        o.backup_id = args.get("backup");
    }
    o.verbosity = args.verbosity;

    if (o.target.empty() && !o.abort && !o.finish)
        throw UsageError("migrate needs --to PROVIDER (or --abort, or --finish)");
    if (int(o.dry_run) + int(o.resume) + int(o.abort) + int(o.finish) > 1)
        throw UsageError("--dry-run, --resume, --abort and --finish exclude each other");
    Session l = load_all(args, {});
    o.state_path = l.state_path;
    if (!o.dry_run) {
        std::string what = migrate::migrate_summary(l.inv, o);
        if (!what.empty() && !confirm(args, "migrate", what)) return kExitUsage;
    }
    o.interrupted = install_interrupt_handler(SecondSignal::Exit).stop;
    auto progress = make_progress(true);
    o.progress = progress.get();
    o.pool = &l.pool();
    o.tofu = args.has("trust-on-first-use");
    backup::RepoBackups backups(l.inv);
    return migrate::run_migrate(l.inv, l.role_books, o, std::cout, std::cerr, &backups);
}

int cmd_status(const Args& args) {
    Session s = load_inventory(args);
    return migrate::run_status(s.inv, s.state_path, args.has("json"), std::cout);
}

}  // namespace decamp::cli
