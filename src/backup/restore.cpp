#include "backup/restore.hpp"

#include <chrono>
#include <ostream>

#include "backup/pg_dump.hpp"
#include "backup/pump.hpp"
#include "backup/tar_hash.hpp"
#include "migrate/files.hpp"
#include "migrate/journal.hpp"
#include "migrate/pg_replica.hpp"
#include "util/error.hpp"
#include "util/secret.hpp"
#include "util/sha256.hpp"
#include "util/shell.hpp"
#include "util/systemd.hpp"

namespace decamp::backup {

namespace {

using shell::quote;
using Clock = std::chrono::steady_clock;

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string sh(transport::Transport& t, const std::string& cmd, const std::string& what) {
    auto r = t.run(cmd);
    if (r.exit_status != 0)
        throw Error(redactor().mask(t.describe() + ": " + what + " failed (exit " + std::to_string(r.exit_status) +
                                    "): " + trim(r.err.empty() ? r.out : r.err)));
    return r.out;
}

migrate::pg::Cluster cluster_on(transport::Transport& t) {
    std::string v = trim(sh(t, migrate::pg::version_cmd(migrate::pg::debian_cluster("15")), "reading the PostgreSQL version"));
    return migrate::pg::debian_cluster(v.empty() ? "15" : v);
}

std::string counts_diff(const std::map<std::string, uint64_t>& want, const std::map<std::string, uint64_t>& got) {
    std::string out;
    int n = 0;
    for (const auto& [t, c] : want) {
        auto it = got.find(t);
        if (it == got.end()) out += (n++ < 5 ? t + " missing; " : "");
        else if (it->second != c) out += (n++ < 5 ? t + " has " + std::to_string(it->second) + " rows, the backup " + std::to_string(c) + "; " : "");
    }
    for (const auto& [t, c] : got)
        if (!want.count(t)) out += (n++ < 5 ? t + " is not in the backup; " : "");
    if (n > 5) out += "… (" + std::to_string(n) + " differences); ";
    return out.empty() ? "" : out.substr(0, out.size() - 2);
}

std::string files_diff(const std::map<std::string, std::string>& want, const std::map<std::string, std::string>& got) {
    std::string out;
    int n = 0;
    for (const auto& [p, h] : want) {
        auto it = got.find(p);
        if (it == got.end()) out += (n++ < 5 ? p + " missing; " : "");
        else if (it->second != h) out += (n++ < 5 ? p + " differs; " : "");
    }
    for (const auto& [p, h] : got)
        if (!want.count(p)) out += (n++ < 5 ? p + " is not in the backup; " : "");
    if (n > 5) out += "… (" + std::to_string(n) + " differences); ";
    return out.empty() ? "" : out.substr(0, out.size() - 2);
}

std::string staging_path(const std::string& path) { return path + ".decamp-restore"; }
std::string scratch_db(const std::string& db) { return db.substr(0, 40) + "_decamp_restore"; }

struct Staged {
    const DataEntry* e;
    const inventory::Host* host;
    migrate::pg::Cluster cluster;
};

void app_services(const inventory::Inventory& inv, const std::string& provider, const ConnectFn& conn,
                  const std::string& verb, std::ostream& log) {
    if (!inv.app) return;
    // Stopping tolerates services not installed yet (fresh hosts) but not one left running
    // while its data is replaced; starting must leave every service active.
    const bool start = verb == "start";
    const std::string cmd = start ? systemd::units_cmd(systemd::Verb::Start, inv.app->services)
                                  : systemd::units_cmd(systemd::Verb::Stop, inv.app->services, systemd::Missing::Ignore);
    for (const auto* h : hosts_of(inv, provider, inv.app->role)) {
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
        if (hosts_of(inv, target_provider, e.role).empty())
            throw Error("provider " + target_provider + " has no host with role " + e.role + " to restore " + e.kind + " " + e.name + " onto");
    log << "Restoring backup " << m.id << " (" << iso_time(m.time) << ", from " << m.provider << ") onto " << target_provider << "\n";
    app_services(inv, target_provider, conn, "stop", log);

    std::vector<Staged> staged;
    auto unstage = [&] {
        for (const auto& s : staged) {
            try {
                auto& t = conn(*s.host);
                if (s.e->kind == "postgres") t.run(pg::drop_cmd(s.cluster, scratch_db(s.e->name)));
                else t.run("rm -rf -- " + quote(staging_path(s.e->name)));
            } catch (...) {
            }
        }
    };
    try {
        for (const auto& e : m.data) {
            auto targets = hosts_of(inv, target_provider, e.role);
            if (e.kind == "postgres") targets.resize(1);
            for (const auto* h : targets) {
                auto& t = conn(*h);
                log << "  " << e.kind << " " << e.name << " → " << h->name << " (staging) …" << std::flush;
                Staged s{&e, h, {}};
                util::Sha256 sha;
                TarHasher th;
                const std::string dump = repo.cmd({"dump", e.snapshot, "/" + e.stream});
                std::string sink;
                if (e.kind == "postgres") {
                    s.cluster = cluster_on(t);
                    pg::DbMeta meta;
                    meta.owner = e.owner, meta.encoding = e.encoding, meta.collate = e.collate, meta.ctype = e.ctype;
                    staged.push_back(s);
                    sh(t, pg::restore_prepare_cmd(s.cluster, scratch_db(e.name), meta), "creating the scratch database");
                    sink = pg::restore_cmd(s.cluster, scratch_db(e.name));
                } else {
                    staged.push_back(s);
                    const std::string st = staging_path(e.name);
                    sink = "rm -rf -- " + quote(st) + " && mkdir -p -- " + quote(st) + " && tar -C " + quote(st) +
                           " --numeric-owner -xpf -";
                }
                auto pr = pump(repo.local(), dump, t, sink,
                               [&](std::string_view d) {
                                   sha.update(d);
                                   if (e.kind == "files") th.feed(d);
                               },
                               "restoring " + e.kind + " " + e.name + " onto " + h->name);
                auto digest = sha.finish();
                std::string got = hex(digest.data(), digest.size());
                if (got != e.sha256 || pr.bytes != e.bytes)
                    throw Error("the backup's " + e.kind + " stream " + e.name + " does not match its manifest (sha256 " +
                                got.substr(0, 12) + "…, " + std::to_string(pr.bytes) + " bytes; manifest " +
                                e.sha256.substr(0, 12) + "…, " + std::to_string(e.bytes) + " bytes): the backup is corrupted");
                RestoredSet rs{e.kind, e.name, h->name, pr.bytes, pr.seconds, ""};
                if (e.kind == "postgres") {
                    auto counts = pg::row_counts(t, s.cluster, scratch_db(e.name));
                    std::string d = counts_diff(e.tables, counts);
                    if (!d.empty()) throw Error("restored database " + e.name + " on " + h->name + ": " + d);
                    rs.check = std::to_string(counts.size()) + " tables, row counts match";
                } else {
                    std::string d = files_diff(e.files, migrate::files::checksums(t, staging_path(e.name)));
                    if (!d.empty()) throw Error("restored files " + e.name + " on " + h->name + ": " + d);
                    rs.check = std::to_string(e.files.size()) + " files, sha256 match";
                }
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
    for (const auto& s : staged) {
        auto& t = conn(*s.host);
        if (s.e->kind == "postgres") {
            sh(t, pg::swap_cmd(s.cluster, s.e->name, scratch_db(s.e->name)), "replacing database " + s.e->name);
        } else {
            const std::string p = quote(s.e->name), st = quote(staging_path(s.e->name)), old = quote(s.e->name + ".decamp-old");
            // mv -T: a symlink planted at either name is an error, never a directory to move into.
            sh(t, "rm -rf -- " + old + " && { if [ -e " + p + " ]; then mv -T -- " + p + " " + old + "; fi; } && mv -T -- " + st + " " + p +
                      " && rm -rf -- " + old, "replacing " + s.e->name);
        }
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
        auto hosts = hosts_of(inv, target_provider, e.role);
        if (e.kind == "postgres" && !hosts.empty()) hosts.resize(1);
        for (const auto* h : hosts) {
            auto& t = conn(*h);
            std::string d;
            if (e.kind == "postgres")
                d = counts_diff(e.tables, pg::row_counts(t, cluster_on(t), e.name));
            else
                d = files_diff(e.files, migrate::files::checksums(t, e.name));
            if (!d.empty()) out += h->name + " " + e.kind + " " + e.name + ": " + d + "; ";
        }
    }
    return out;
}

}  // namespace decamp::backup
