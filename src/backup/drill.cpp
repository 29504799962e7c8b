#include "backup/drill.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <ostream>

#include "backup/backup.hpp"
#include "backup/restore.hpp"
#include "data/mover.hpp"
#include "engine/pool.hpp"
#include "hosts/hosts.hpp"
#include "migrate/health.hpp"
#include "migrate/journal.hpp"
#include "migrate/migration.hpp"
#include "plan/planner.hpp"
#include "util/error.hpp"
#include "util/json.hpp"
#include "util/secret.hpp"
#include "util/shell.hpp"
#include "util/systemd.hpp"

namespace decamp::backup {

namespace {

using Clock = std::chrono::steady_clock;

struct Interrupted : Error {
    Interrupted() : Error("interrupted") {}
};

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string fmt_obj(int64_t s) { return s ? human_seconds(double(s)) : "not set"; }

// Stops the stack on the drill provider and removes its data (see drill.hpp).
std::string teardown(const inventory::Inventory& inv, const std::string& target, const ConnectFn& conn) {
    std::string notes;
    auto note = [&](const std::string& s) { notes += (notes.empty() ? "" : "; ") + s; };
    if (inv.app) {
        const std::string cmd = systemd::units_cmd(systemd::Verb::DisableNow, inv.app->services, systemd::Missing::Ignore);
        for (const auto* h : inv.hosts_of(target, inv.app->role)) {
            auto r = conn(*h).run(cmd);
            note(h->name + (r.exit_status ? ": app NOT stopped (" + trim(r.err) + ")" : ": app stopped"));
        }
    }
    for (const auto& ds : inv.data) {
        auto mover = data::make_mover(ds);
        for (const auto* h : inv.hosts_of(target, ds.role))
            if (std::string n = mover->teardown(conn(*h), *h); !n.empty()) note(n);
    }
    return notes.empty() ? "nothing to tear down" : notes;
}

}  // namespace

std::string drill_markdown(const DrillReport& r) {
    std::string out = "# Drill on " + r.target + ": " + (r.ok() ? "PASSED" : "FAILED") + "\n\n";
    if (!r.error.empty()) out += "**Error:** " + r.error + "\n\n";
    out += "- backup: " + (r.backup_id.empty() ? "-" : r.backup_id + " (taken " + iso_time(r.backup_time) + " from " + r.backup_provider + ")") + "\n";
    out += "- RTO (drill start → healthy, data checked): " + (r.rto_s < 0 ? std::string("not reached") : human_seconds(r.rto_s)) +
           " — objective " + fmt_obj(r.rto_objective_s) + (r.rto_objective_s ? (r.rto_met ? " (met)" : " (**MISSED**)") : "") + "\n";
    out += "- RPO (backup age at drill start): " + (r.rpo_s < 0 ? std::string("-") : human_seconds(r.rpo_s)) + " — objective " +
           fmt_obj(r.rpo_objective_s) + (r.rpo_objective_s ? (r.rpo_met ? " (met)" : " (**MISSED**)") : "") + "\n";
    out += "- data restored: " + human_bytes(r.bytes) + "\n";
    out += "- DNS: not touched\n\n## Phases\n\n| phase | time | result | detail |\n|---|---|---|---|\n";
    for (const auto& p : r.phases)
        out += "| " + p.name + " | " + human_seconds(p.seconds) + " | " + (p.ok ? "ok" : "**FAILED**") + " | " + p.detail + " |\n";
    if (!r.restored.empty()) {
        out += "\n## Data checks\n\n";
        for (const auto& s : r.restored) out += "- " + s + "\n";
    }
    out += "\n## Teardown\n\n" + (r.teardown.empty() ? std::string("kept (--keep)") : r.teardown) + "\n";
    return out;
}

std::string drill_json(const DrillReport& r) {
    json::Value v;
    v.set("target", r.target);
    v.set("state", r.state);
    v.set("ok", r.ok());
    v.set("error", r.error);
    v.set("backup_id", r.backup_id);
    v.set("backup_provider", r.backup_provider);
    v.set("backup_time", r.backup_time);
    v.set("started", r.started);
    v.set("rto_s", r.rto_s);
    v.set("rpo_s", r.rpo_s);
    v.set("rto_objective_s", r.rto_objective_s);
    v.set("rpo_objective_s", r.rpo_objective_s);
    v.set("rto_met", r.rto_met);
    v.set("rpo_met", r.rpo_met);
    v.set("bytes", int64_t(r.bytes));
    v.set("dns_touched", false);
    json::Value ph = json::Value::Array{};
    for (const auto& p : r.phases) {
        json::Value x;
        x.set("name", p.name);
        x.set("seconds", p.seconds);
        x.set("ok", p.ok);
        x.set("detail", p.detail);
        ph.push(x);
    }
    v.set("phases", ph);
    json::Value rs = json::Value::Array{};
    for (const auto& s : r.restored) rs.push(s);
    v.set("data_checks", rs);
    v.set("teardown", r.teardown);
    return json::dump(v) + "\n";
}

int run_drill(inventory::Inventory& inv, const std::vector<playbook::Playbook>& role_books,
              const DrillOptions& o, std::ostream& out, std::ostream& log) {
    if (!inv.find_provider(o.target)) throw Error("provider \"" + o.target + "\" is not defined in " + inv.file.string());
    const auto state_path = o.state_path.empty() ? migrate::default_state_path(inv.file) : o.state_path;
    const std::string active = migrate::active_provider(inv, state_path).name;
    if (active == o.target)
        throw Error("the stack runs on " + o.target + "; a drill rebuilds on a spare provider and tears it down — pick another one");
    migrate::Journal journal(state_path);
    try {
        journal.lock();
    } catch (const migrate::LockedError& e) {
        log << "decamp: " << e.what() << "\n";
        return kExitLocked;
    }
    std::unique_ptr<engine::Pool> own_pool;
    engine::Pool* pool = o.pool;
    if (!pool) {
        own_pool = std::make_unique<engine::Pool>(inv);
        pool = own_pool.get();
    }
    ConnectFn conn = [pool](const inventory::Host& h) -> transport::Transport& { return pool->get(h); };

    DrillReport rep;
    rep.target = o.target;
    rep.started = migrate::Journal::now();
    if (inv.objectives) {
        rep.rto_objective_s = inv.objectives->rto_s;
        rep.rpo_objective_s = inv.objectives->rpo_s;
    }
    const auto t0 = Clock::now();
    auto phase = [&](const std::string& name, auto&& fn) {
        if (o.interrupted && *o.interrupted) throw Interrupted();
        log << name << " …\n" << std::flush;
        DrillReport::Phase p{name, 0, true, ""};
        auto s = Clock::now();
        try {
            p.detail = fn();
        } catch (...) {
            p.ok = false;
            p.seconds = std::chrono::duration<double>(Clock::now() - s).count();
            try {
                throw;
            } catch (const std::exception& e) {
                p.detail = redactor().mask(e.what());
            }
            rep.phases.push_back(p);
            throw;
        }
        p.seconds = std::chrono::duration<double>(Clock::now() - s).count();
        rep.phases.push_back(p);
    };

    log << "Drill on " << o.target << " (production stays on " << active << "; DNS is not touched)\n";
    bool provisioned = false;
    int code = kExitOk;
    try {
        std::unique_ptr<Repo> repo;
        Manifest m;
        if (auto missing = hosts::unordered(inv, o.target); !missing.empty())
            phase("order-hosts", [&] {  // first: ordering is slow; a rerun adopts, never orders twice
                hosts::Ensure e;
                e.tofu = o.tofu;
                e.progress = [&log](const std::string& line) { log << "  " << line << "\n"; };
                return hosts::ensure_hosts(inv, o.target, missing, journal, e);
            });
        phase("preflight", [&] {
            for (const auto* h : inv.provider_hosts(o.target)) {
                auto r = conn(*h).run("true");
                if (r.exit_status != 0) throw Error(h->name + " does not run commands");
            }
            repo = std::make_unique<Repo>(inv);
            m = load_manifest(*repo, o.backup_id);
            rep.backup_id = m.id;
            rep.backup_provider = m.provider;
            rep.backup_time = m.time;
            rep.rpo_s = rep.started - m.time;
            return "hosts of " + o.target + " reachable; backup " + m.id + " (" + iso_time(m.time) + ")";
        });
        phase("check-backup", [&] {
            // Structure only here (fast); every stream's checksum is checked while it is
            // restored, before anything replaces data on the target.
            repo->run({"check"}, "checking the repository", 0);
            return std::string("repository structure ok");
        });
        phase("provision", [&] {
            provisioned = true;
            engine::Options eo;
            eo.forks = o.forks;
            eo.verbosity = o.verbosity;
            eo.interrupted = o.interrupted;
            engine::Engine eng(inv, *pool, eo, o.progress);  // the drill's own connections
            auto er = eng.run(plan::assign_roles(inv, role_books, o.target, ""));
            if (er.interrupted) throw Interrupted();
            if (er.exit_code() != 0) {
                std::string why;
                for (const auto& h : er.hosts)
                    if (!h.error.empty()) why += (why.empty() ? "" : "; ") + h.host + ": " + h.error;
                throw Error("applying the roles on " + o.target + " failed: " + why);
            }
            return std::to_string(er.total(engine::Status::Changed)) + " changed, " + std::to_string(er.total(engine::Status::Ok)) + " ok";
        });
        phase("restore", [&] {
            auto rr = restore_backup(inv, *repo, m, o.target, conn, log);
            rep.bytes = rr.bytes;
            for (const auto& s : rr.sets)
                rep.restored.push_back(s.kind + " " + s.name + " → " + s.host + ": " + s.check + " (" + human_bytes(s.bytes) + " in " +
                                       human_seconds(s.seconds) + ")");
            return human_bytes(rr.bytes) + " restored and checked against the manifest";
        });
        phase("health", [&] {
            auto res = migrate::check_health(inv, o.target, o.health_wait_s);
            if (!migrate::all_ok(res)) throw Error("health checks failed: " + migrate::describe(res));
            return migrate::describe(res);
        });
        phase("data-checks", [&] {
            std::string d = check_against_manifest(inv, m, o.target, conn);
            if (!d.empty()) throw Error("live data differs from the backup: " + d);
            return std::string("row counts and file checksums match the manifest");
        });
        rep.rto_s = std::chrono::duration<double>(Clock::now() - t0).count();
        rep.state = "passed";
        if (rep.rto_objective_s && rep.rto_s > double(rep.rto_objective_s)) rep.rto_met = false;
        if (rep.rpo_objective_s && rep.rpo_s > double(rep.rpo_objective_s)) rep.rpo_met = false;
        if (!rep.rto_met || !rep.rpo_met) {
            rep.state = "objective-missed";
            rep.error = std::string(!rep.rto_met ? "RTO " + human_seconds(rep.rto_s) + " exceeds the objective " + fmt_obj(rep.rto_objective_s) : "") +
                        (!rep.rto_met && !rep.rpo_met ? "; " : "") +
                        (!rep.rpo_met ? "RPO " + human_seconds(rep.rpo_s) + " exceeds the objective " + fmt_obj(rep.rpo_objective_s) : "");
            code = kExitMigrationFailed;
        }
    } catch (const Interrupted&) {
        rep.state = "interrupted";
        rep.error = "interrupted";
        code = kExitInterrupted;
    } catch (const std::exception& e) {
        rep.state = "failed";
        rep.error = redactor().mask(e.what());
        code = kExitMigrationFailed;
    }
    if (!o.keep && provisioned) {
        log << "teardown …\n";
        auto s = Clock::now();
        try {
            rep.teardown = teardown(inv, o.target, conn);
        } catch (const std::exception& e) {
            rep.teardown = std::string("teardown failed: ") + e.what();
        }
        rep.phases.push_back({"teardown", std::chrono::duration<double>(Clock::now() - s).count(), true, ""});
    } else if (o.keep) {
        rep.teardown = "kept (--keep): the stack runs on " + o.target + "; DNS does not point at it";
    } else {
        rep.teardown = "nothing was provisioned";
    }
    // Reports beside the journal, as migrations keep theirs.
    try {
        auto dir = state_path.parent_path() / "reports";
        std::filesystem::create_directories(dir);
        std::string base = "drill-" + make_id(rep.started, o.target);
        std::ofstream(dir / (base + ".md")) << drill_markdown(rep);
        std::ofstream(dir / (base + ".json")) << drill_json(rep);
    } catch (...) {
    }
    out << (o.json ? drill_json(rep) : drill_markdown(rep));
    return code;
}

}  // namespace decamp::backup
