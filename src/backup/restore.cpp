#include "backup/restore.hpp"

#include <chrono>
#include <ostream>

#include "data/mover.hpp"
#include "data/tar_hash.hpp"
#include "migrate/journal.hpp"
#include "transport/pump.hpp"
#include "util/error.hpp"
#include "util/secret.hpp"
#include "util/sha256.hpp"
#include "util/shell.hpp"
#include "util/systemd.hpp"

namespace decamp::backup {

namespace {

using Clock = std::chrono::steady_clock;

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

struct Staged {
    const DataEntry* e;
    const inventory::Host* host;
    std::unique_ptr<data::StagedRestore> restore;
};

void app_services(const inventory::Inventory& inv, const std::string& provider, const ConnectFn& conn,
                  const std::string& verb, std::ostream& log) {
    if (!inv.app) return;
    // Stopping tolerates services not installed yet (fresh hosts) but not one left running
    // while its data is replaced; starting must leave every service active.
    const bool start = verb == "start";
    const std::string cmd = start ? systemd::units_cmd(systemd::Verb::Start, inv.app->services)
                                  : systemd::units_cmd(systemd::Verb::Stop, inv.app->services, systemd::Missing::Ignore);
    for (const auto* h : inv.hosts_of(provider, inv.app->role)) {
        auto r = conn(*h).run(cmd);
        if (r.exit_status != 0)
            throw Error(h->name + ": " + (start ? "starting" : "stopping") + " the app failed: " + trim(r.err));
        log << "  app " << verb << " on " << h->name << "\n";
    }
}

}  // namespace

RestoreResult restore_backup(const inventory::Inventory& inv, Repo& repo, const Manifest& m,
                             const std::string& target_provider, const ConnectFn& conn, std::ostream& log) {
    const auto t0 = Clock::now();
    RestoreResult res;
    res.backup_id = m.id;
    res.backup_provider = m.provider;
    res.backup_time = m.time;
    if (!inv.find_provider(target_provider)) throw Error("provider " + target_provider + " is not in the inventory");
    for (const auto& e : m.data)
        if (inv.hosts_of(target_provider, e.role).empty())
            throw Error("provider " + target_provider + " has no host with role " + e.role + " to restore " + e.kind + " " + e.name + " onto");
    log << "Restoring backup " << m.id << " (" << iso_time(m.time) << ", from " << m.provider << ") onto " << target_provider << "\n";
    app_services(inv, target_provider, conn, "stop", log);

    std::vector<Staged> staged;
    auto unstage = [&] {
        for (auto& s : staged) s.restore->unstage();
    };
    try {
        for (const auto& e : m.data) {
            auto mover = data::make_mover(e);
            auto targets = inv.hosts_of(target_provider, e.role);
            if (!mover->restore_on_every_host()) targets.resize(1);
            for (const auto* h : targets) {
                auto& t = conn(*h);
                log << "  " << e.kind << " " << e.name << " → " << h->name << " (staging) …" << std::flush;
                util::Sha256 sha;
                const std::string dump = repo.cmd({"dump", e.snapshot, "/" + e.stream});
                staged.push_back({&e, h, mover->stage(t, *h, e)});
                auto& st = *staged.back().restore;
                const std::string sink = st.sink();
                auto pr = transport::pump(
                    repo.local(), dump, t, sink, [&](std::string_view d) { sha.update(d); },
                    "restoring " + e.kind + " " + e.name + " onto " + h->name);
                auto digest = sha.finish();
                std::string got = data::hex(digest.data(), digest.size());
                if (got != e.sha256 || pr.bytes != e.bytes)
                    throw Error("the backup's " + e.kind + " stream " + e.name + " does not match its manifest (sha256 " +
                                got.substr(0, 12) + "…, " + std::to_string(pr.bytes) + " bytes; manifest " +
                                e.sha256.substr(0, 12) + "…, " + std::to_string(e.bytes) + " bytes): the backup is corrupted");
                RestoredSet rs{e.kind, e.name, h->name, pr.bytes, pr.seconds, st.check()};
                log << " " << human_bytes(pr.bytes) << " in " << human_seconds(pr.seconds) << ", " << rs.check << "\n";
                res.bytes += pr.bytes;
                res.sets.push_back(rs);
            }
        }
    } catch (...) {
        unstage();
        throw;
    }
    // Everything checked out: swap the staged data in.
    for (auto& s : staged) {
        s.restore->swap();
        log << "  " << s.e->kind << " " << s.e->name << " on " << s.host->name << " replaced by the restored copy\n";
    }
    app_services(inv, target_provider, conn, "start", log);
    res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    res.age_s = migrate::Journal::now() - m.time;
    return res;
}

RestoreResult restore_latest(const inventory::Inventory& inv, const std::string& target_provider,
                             const ConnectFn& conn, const std::string& backup_id_or_latest, std::ostream& log) {
    Repo repo(inv);
    Manifest m = load_manifest(repo, backup_id_or_latest);
    return restore_backup(inv, repo, m, target_provider, conn, log);
}

LatestInfo latest_backup(const inventory::Inventory& inv) {
    LatestInfo li;
    if (!inv.backup) {
        li.why = "the inventory has no backup: section";
        return li;
    }
    try {
        Repo repo(inv);
        auto all = list_backups(repo);
        if (all.empty()) {
            li.why = "no backup in " + repo.describe() + " yet";
            return li;
        }
        li.found = true;
        li.id = all.front().id;
        li.time = all.front().time;
    } catch (const std::exception& e) {
        li.why = e.what();
    }
    return li;
}

std::string check_against_manifest(const inventory::Inventory& inv, const Manifest& m,
                                   const std::string& target_provider, const ConnectFn& conn) {
    std::string out;
    for (const auto& e : m.data) {
        auto mover = data::make_mover(e);
        auto hosts = inv.hosts_of(target_provider, e.role);
        if (!mover->restore_on_every_host() && !hosts.empty()) hosts.resize(1);
        for (const auto* h : hosts) {
            std::string d = mover->live_diff(conn(*h), e);
            if (!d.empty()) out += h->name + " " + e.kind + " " + e.name + ": " + d + "; ";
        }
    }
    return out;
}

}  // namespace decamp::backup
