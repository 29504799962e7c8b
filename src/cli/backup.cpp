// decamp backup [run|list|verify|prune].
#include "backup/backup.hpp"

#include <cstdio>
#include <iostream>

#include "backup/manifest.hpp"
#include "cli/common.hpp"
#include "cli/confirm.hpp"
#include "data/mover.hpp"
#include "engine/pool.hpp"
#include "migrate/migration.hpp"
#include "util/json.hpp"

namespace decamp::cli {

namespace {

int backup_list(const inventory::Inventory& inv, bool as_json) {
    backup::Repo repo(inv);
    auto all = backup::list_backups(repo);
    if (as_json) {
        json::Value arr = json::Value::Array{};
        for (const auto& b : all) {
            json::Value v;
            v.set("id", b.id);
            v.set("time", b.time);
            v.set("time_iso", backup::iso_time(b.time));
            v.set("bytes", int64_t(b.bytes));
            v.set("sets", b.sets);
            v.set("snapshot", b.snapshot);
            arr.push(v);
        }
        std::cout << json::dump(arr) << "\n";
        return kExitOk;
    }
    std::cout << "Backups in " << repo.describe() << " (newest first)\n";
    if (all.empty()) std::cout << "  none yet; run: decamp backup\n";
    for (const auto& b : all) {
        char line[256];
        snprintf(line, sizeof line, "  %-26s %s  %10s  %d data set(s)\n", b.id.c_str(), backup::iso_time(b.time).c_str(),
                 backup::human_bytes(b.bytes).c_str(), b.sets);
        std::cout << line;
    }
    return kExitOk;
}

}  // namespace

int cmd_backup(const Args& args) {
    std::string action = args.positional.empty() ? "run" : args.positional[0];
    if (args.positional.size() > (action == "verify" ? 2u : 1u)) throw UsageError("too many arguments; see decamp backup --help");
    Session session = load_inventory(args);
    const inventory::Inventory& inv = session.inv;
    if (!inv.backup) throw Error(inv.file.string() + ": no backup: section (host or address, path, secret, keep)");
    const bool as_json = args.has("json");
    if (action == "list") return backup_list(inv, as_json);
    if (action == "verify") {
        backup::Repo repo(inv);
        std::string id = args.positional.size() > 1 ? args.positional[1] : "latest";
        auto m = backup::load_manifest(repo, id);
        std::cerr << "Verifying backup " << m.id << " (" << backup::iso_time(m.time) << ")\n";
        auto r = backup::verify_backup(repo, m, !args.has("quick"), std::cerr);
        std::cout << (as_json ? backup::verify_json(r) : backup::verify_markdown(r));
        return r.ok() ? kExitOk : kExitMigrationFailed;
    }
    if (action == "prune") {
        backup::Repo repo(inv);
        if (!args.has("dry-run") && !args.has("yes")) {
            // Refused the same way whether or not there is something to remove, so a script
            // without --yes fails on its first run, not on the day a backup expires.
            require_consent_possible(args, "backup prune");
            // Shows what would go, and asks, before anything is removed.
            auto preview = backup::apply_retention(inv, repo, true, std::cerr);
            if (!preview.removed.empty()) {
                std::string what = "decamp backup prune: remove " + std::to_string(preview.removed.size()) +
                                   " backup(s) from " + repo.describe() + " (backup.keep)\n";
                for (const auto& id : preview.removed) what += "  remove " + id + "\n";
                for (const auto& [id, why] : preview.reasons) what += "  keep   " + id + " (" + why + ")\n";
                if (!confirm(args, "backup prune", what)) return kExitUsage;
            }
        }
        auto r = backup::apply_retention(inv, repo, args.has("dry-run"), std::cerr);
        for (const auto& id : r.removed) std::cout << (args.has("dry-run") ? "would remove " : "removed ") << id << "\n";
        for (const auto& [id, why] : r.reasons) std::cout << "keep " << id << " (" << why << ")\n";
        return kExitOk;
    }
    if (action != "run") throw UsageError("unknown backup action '" + action + "'; expected run, list, verify or prune");
    std::string provider = args.get("provider");
    if (provider.empty()) provider = session.active().name;
    if (!inv.find_provider(provider)) throw Error("provider \"" + provider + "\" is not defined in " + inv.file.string());
    backup::Repo repo(inv);
    auto m = backup::run_backup(
        inv, repo, provider,
        [&](const inventory::Host& h) -> transport::Transport& { return session.pool().get(h); }, std::cerr);
    if (!args.has("no-prune")) backup::apply_retention(inv, repo, false, std::cerr);
    if (as_json) {
        std::cout << backup::encode(m) << "\n";
    } else {
        std::cout << "backup " << m.id << " (" << backup::iso_time(m.time) << ", " << m.provider << "): "
                  << backup::human_bytes(m.total_bytes()) << " in " << backup::human_seconds(m.seconds) << "\n";
        for (const auto& e : m.data)
            std::cout << "  " << e.kind << " " << e.name << " from " << e.host << ": " << backup::human_bytes(e.bytes) << ", sha256 "
                      << e.sha256.substr(0, 16) << "…, " << data::make_mover(e)->evidence(e) << "\n";
    }
    return kExitOk;
}

}  // namespace decamp::cli
