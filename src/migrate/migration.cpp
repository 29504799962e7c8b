// The migration orchestrator: phases over the plug-ins (DataMovers, the DNS back-end, the
// health checker, the provisioner, the connection pool and the journal, all handed in).
// Each step is journaled before and after it runs; on --resume, steps already done are
// skipped and a step that was running when the process died runs again (every step is
// idempotent: it checks before it acts). Cutover and rollback are in cutover.cpp, the dry
// run in dry_run.cpp, the real plug-ins in plugins.cpp.
#include <algorithm>
#include <sstream>

#include "migrate/migration_internal.hpp"
#include "util/secret.hpp"
#include "util/shell.hpp"
#include "util/text.hpp"

namespace decamp::migrate {

using inventory::Host;
using util::trim;

std::string encode_rrsets(const std::vector<dns::RRset>& sets) {
    std::string out;
    for (const auto& s : sets) {
        out += s.name + " " + s.type + " " + std::to_string(s.ttl) + " ";
        for (size_t i = 0; i < s.records.size(); ++i) out += (i ? "," : "") + s.records[i];
        out += "\n";
    }
    return out;
}

int migration_ttl(const inventory::Inventory& inv, const MigrateOptions& o) {
    return inv.dns ? std::max(o.lowered_ttl, dns::min_ttl(inv.dns->kind)) : o.lowered_ttl;
}

std::string migration_ttl_note(const inventory::Inventory& inv, const MigrateOptions& o) {
    if (!inv.dns) return "";
    int ttl = migration_ttl(inv, o);
    std::string out =
        "resolvers see the switch within " + std::to_string(ttl) + " s (the TTL during the migration)";
    if (ttl > o.lowered_ttl)
        out += "; DNS kind " + inv.dns->kind + " accepts no TTL below " + std::to_string(ttl) +
               " s, so the plan uses " + std::to_string(ttl) + " s instead of " +
               std::to_string(o.lowered_ttl) + " s";
    return out;
}

std::vector<dns::RRset> decode_rrsets(const std::string& text) {
    std::vector<dns::RRset> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        dns::RRset s;
        std::string recs;
        if (!(ls >> s.name >> s.type >> s.ttl)) continue;
        ls >> recs;
        size_t start = 0;
        while (start < recs.size()) {
            size_t c = recs.find(',', start);
            if (c == std::string::npos) c = recs.size();
            s.records.push_back(recs.substr(start, c - start));
            start = c + 1;
        }
        out.push_back(s);
    }
    return out;
}

// ---- journaled steps and the migration's key/values ----

void Migration::check_interrupted() const {
    if (o_.interrupted && *o_.interrupted) throw Interrupted();
}

std::string Migration::step(const std::string& phase, const std::string& name, const std::function<std::string()>& fn) {
    check_interrupted();
    Journal& j = *p_.state;
    if (auto prev = j.step(mig_.id, name); prev && prev->state == "done") {
        log_ << "  [" << phase << "] " << name << ": done earlier, skipped\n";
        return prev->detail;
    }
    j.step_started(mig_.id, phase, name);
    log_ << "  [" << phase << "] " << name << " …" << std::flush;
    auto t0 = Clock::now();
    try {
        std::string detail = fn();
        j.step_done(mig_.id, name, detail);
        log_ << " done (" << std::chrono::duration<double>(Clock::now() - t0).count() << " s)\n";
        return detail;
    } catch (const Interrupted&) {
        log_ << " interrupted\n";
        throw;
    } catch (const std::exception& e) {
        std::string msg = redactor().mask(e.what());
        j.step_failed(mig_.id, name, msg);
        log_ << " FAILED\n";
        throw StepFailed(name, msg);
    }
}

bool Migration::step_begun(const std::string& name) { return p_.state->step(mig_.id, name).has_value(); }

std::optional<std::string> Migration::get(const std::string& key) { return p_.state->get(key + "/" + mig_.id); }

void Migration::set(const std::string& key, const std::string& value) { p_.state->set(key + "/" + mig_.id, value); }

std::vector<std::string> Migration::migrations_from(const std::string& provider) {
    return p_.state->migrations_from(provider);
}

std::vector<dns::RRset> Migration::target_rrsets(const std::string& provider, int ttl) const {
    std::vector<dns::RRset> out;
    for (const auto& r : inv_.dns->records) {
        dns::RRset s;
        s.name = r.name;
        s.type = r.type;
        s.ttl = ttl > 0 ? ttl : r.ttl;
        for (const auto* h : inv_.hosts_of(provider, r.role)) s.records.push_back(h->address);
        if (s.records.empty())
            throw Error("DNS record " + r.name + ": provider " + provider + " has no host with role " + r.role);
        out.push_back(s);
    }
    return out;
}

// ---- phases ----

void Migration::preflight() {
    const std::string ph = "preflight";
    // Reaching every host is re-checked on every run (a resumed run must reach them too).
    if (o_.from_backup)
        log_ << "  [preflight] reach every host of " << target_ << " (the source is not used: --from-backup) …" << std::flush;
    else
        log_ << "  [preflight] reach every host of " << source_ << " and " << target_ << " …" << std::flush;
    for (const auto& p : {source_, target_}) {
        if (o_.from_backup && p == source_) continue;
        for (const auto* h : inv_.provider_hosts(p)) {
            transport::RunResult r;
            try {
                r = conn(*h).run("true");
            } catch (const transport::TransportError& e) {
                if (p != source_ || e.kind() == transport::TransportError::Kind::HostKey) throw;
                // The worst day: the old provider is gone. Say what the user can do.
                auto li = latest_backup();
                std::string advice =
                    li.found ? "the latest backup is " + li.id + " from " + li.when + " (" + li.ago + " ago): if " + source_ +
                                   " is gone for good, run: decamp migrate --to " + target_ +
                                   " --from-backup (writes after that backup are lost)"
                             : "and there is no backup to fall back on (" + li.why + ")";
                throw Error("source host " + h->name + " is unreachable (" + e.what() + "); " + advice);
            }
            if (r.exit_status != 0)
                throw Error("host " + h->name + " does not run commands (exit " + std::to_string(r.exit_status) + ")");
        }
    }
    log_ << " ok\n";
    if (o_.from_backup) {
        step(ph, "backup-manifest", [&] {
            auto b = backups().find(o_.backup_id);
            p_.state->set("backup_id/" + mig_.id, b.id);
            p_.state->set("backup_time/" + mig_.id, std::to_string(b.time));
            set("backup_bytes", std::to_string(b.bytes));
            return b.id + " (" + data::human_bytes(b.bytes) + ")";
        });
        std::string id = p_.state->get("backup_id/" + mig_.id).value_or(o_.backup_id);
        uint64_t bytes = get_u64("backup_bytes");
        log_ << "    restoring backup " << id << " (" << data::human_bytes(bytes) << ")\n";
        report_.data.push_back({"backup", id, bytes});
        return preflight_target_and_dns(bytes);
    }
    uint64_t data_bytes = 0;
    for (auto& m : p_.movers) {
        uint64_t size = m->preflight(*this);
        data_bytes += size;
        report_.data.push_back({m->kind(), m->name(), size});
    }
    preflight_target_and_dns(data_bytes);
}

void Migration::preflight_target_and_dns(uint64_t data_bytes) {
    const std::string ph = "preflight";
    step(ph, "disk-space", [&] {
        std::string detail;
        for (const auto& m : p_.movers) {
            for (const auto* h : inv_.hosts_of(target_, m->data_set().role)) {
                std::string where = m->target_dir();
                std::string cmd = "p=" + shell::quote(where) +
                                  "; while [ ! -d \"$p\" ]; do p=$(dirname \"$p\"); done; df -B1 --output=avail \"$p\" | tail -n 1";
                uint64_t avail = std::stoull("0" + trim(sh(*h, cmd, "checking free disk space")));
                uint64_t need = data_bytes + data_bytes / 5 + (256ull << 20);
                if (avail < need)
                    throw Error(h->name + " has " + data::human_bytes(avail) + " free under " + where + "; the data needs " +
                                data::human_bytes(need) + " (size + 20% + 256 MiB)");
                detail += h->name + ":" + std::to_string(avail) + " ";
            }
        }
        return detail;
    });
    if (!inv_.dns) return;
    std::string d = step(ph, "dns-lower-ttl", [&] {
        log_ << "\n    " << migration_ttl_note(inv_, o_) << "\n   ";
        auto& b = *p_.dns;
        b.ping();
        // The answers before the migration are kept before anything is lowered, and only
        // once: a rerun after a crash must not take its own lowered TTLs for the originals.
        std::vector<dns::RRset> original;
        if (auto saved = get("dns_original")) {
            original = decode_rrsets(*saved);
        } else {
            for (const auto& r : inv_.dns->records) {
                auto cur = b.get(r.name, r.type);
                if (!cur)
                    throw Error("DNS record " + r.name + " " + r.type + " does not exist in zone " +
                                inv_.dns->zone);
                original.push_back(*cur);
            }
            set("dns_original", encode_rrsets(original));
        }
        const int ttl = migration_ttl(inv_, o_);
        int max_old = 0;
        for (auto s : original) {
            max_old = std::max(max_old, s.ttl);
            if (s.ttl > ttl) {
                s.ttl = ttl;
                b.replace(s);
            }
        }
        p_.state->set("dns_lowered_at/" + mig_.id, std::to_string(Journal::now()));
        p_.state->set("dns_old_ttl/" + mig_.id, std::to_string(max_old));
        if (max_old > ttl)
            log_ << "\n    TTL lowered from " << max_old << " s to " << ttl
                 << " s; resolvers may keep the old answer for up to " << max_old
                 << " s from now — cut over after that for a clean switch (--wait-ttl waits for you)\n   ";
        return encode_rrsets(original);
    });
    report_.dns_before = decode_rrsets(d);
}

void Migration::order_hosts() {
    if (!p_.orderer) return;
    for (const auto& name : p_.orderer->missing(target_))
        step("provision", "order-host/" + target_ + "/" + name,
             [&] { return p_.orderer->order(target_, name); });
}

void Migration::provision() {
    step("provision", "apply-roles/" + target_, [&] { return p_.provisioner->apply(target_); });
}

void Migration::replicate() {
    if (o_.from_backup) {
        step("replicate", "restore-from-backup", [&] {
            auto rr = backups().restore(
                target_, [&](const Host& h) -> transport::Transport& { return conn(h); },
                p_.state->get("backup_id/" + mig_.id).value_or(o_.backup_id), log_);
            p_.state->set("backup_time/" + mig_.id, std::to_string(rr.time));
            return rr.id + " " + std::to_string(rr.bytes) + " bytes";
        });
        return;
    }
    for (auto& m : p_.movers) report_.moved_bytes += m->replicate(*this);
}

void Migration::verify() {
    step("verify", "health-target", [&] {
        auto res = health(target_, 60);
        if (!all_ok(res)) throw Error("health checks on " + target_ + " failed: " + describe(res));
        return describe(res);
    });
    if (o_.from_backup) return;
    for (auto& m : p_.movers) {
        if (auto line = m->verify(*this)) log_ << "    " << *line << "\n";
        if (m->lag_bytes() >= 0) report_.lag_bytes = std::max(report_.lag_bytes, m->lag_bytes());
    }
}

int Migration::run() {
    if (o_.dry_run) {
        auto active = active_provider(inv_, state_path_);
        source_ = active.name;
        target_ = o_.target;
        if (source_ == target_) throw Error("the stack already runs on " + active.describe());
        return dry_run();
    }
    Journal& j = *p_.state;
    try {
        j.lock();
    } catch (const LockedError& e) {
        log_ << "decamp: " << e.what() << "\n";
        return kExitLocked;
    }
    if (o_.abort) return abort_migration();
    if (o_.finish) return finish_bridge();

    auto unfinished = j.unfinished();
    if (unfinished && !o_.resume)
        throw Error("a migration " + unfinished->source + " → " + unfinished->target + " (" + unfinished->id +
                    ") is in progress; continue it with --resume or undo it with --abort");
    if (o_.resume) {
        if (!unfinished) throw Error("there is no migration to resume");
        if (unfinished->target != o_.target)
            throw Error("the migration in progress goes to " + unfinished->target + ", not " + o_.target);
        mig_ = *unfinished;
        log_ << "Resuming migration " << mig_.id << " (" << mig_.source << " → " << mig_.target << ")\n";
    } else {
        auto active = active_provider(inv_, j.path());
        if (active.name == o_.target) throw Error("the stack already runs on " + active.describe());
        close_earlier_bridge();
        mig_ = j.start("migrate", active.name, o_.target);
        log_ << "Migration " << mig_.id << ": " << active.name << " → " << o_.target << "\n";
    }
    source_ = mig_.source;
    target_ = mig_.target;
    report_.id = mig_.id;
    report_.source = source_;
    report_.target = target_;
    const std::string resume_hint =
        "The journal keeps the migration; fix the cause and run: decamp migrate --to " + target_ +
        " --resume (or --abort before cutover)\n";
    try {
        if (p_.orderer && !p_.orderer->missing(target_).empty()) {
            log_ << "provision: ordering the hosts " << target_
                 << " does not have yet (ordering is slow: first)\n";
            order_hosts();
        }
        log_ << "preflight\n";
        preflight();
        log_ << "provision\n";
        provision();
        log_ << "replicate\n";
        replicate();
        log_ << "verify\n";
        verify();
        log_ << "cutover\n";
        cutover();
    } catch (const Interrupted&) {
        log_ << "decamp: interrupted; the journal (" << j.path().string() << ") has every step — run: decamp migrate --to "
             << target_ << " --resume\n";
        return kExitInterrupted;
    } catch (const transport::TransportError& e) {
        log_ << "decamp: " << redactor().mask(e.what()) << "\n" << resume_hint;
        return e.kind() == transport::TransportError::Kind::HostKey ? kExitHostKey : kExitUnreachable;
    } catch (const std::exception& e) {
        log_ << "decamp: migration step failed: " << redactor().mask(e.what()) << "\n";
        fill_report(report_, j, mig_.id);
        if (report_.rollback.empty()) log_ << resume_hint;
        out_ << (o_.json ? report_json(report_) : report_markdown(report_));
        return kExitMigrationFailed;
    }
    j.finish(mig_.id, "done");
    fill_report(report_, j, mig_.id);
    write_report_files(report_, j.path().parent_path());
    out_ << (o_.json ? report_json(report_) : report_markdown(report_));
    return kExitOk;
}

int run_migration(const inventory::Inventory& inv, const MigrateOptions& opts, Plugins& plugins, std::ostream& out,
                  std::ostream& log, const std::filesystem::path& state_path) {
    if ((!plugins.state && !opts.dry_run) || !plugins.pool || !plugins.health || !plugins.provisioner ||
        (inv.dns && !plugins.dns) || plugins.movers.size() != inv.data.size())
        throw Error("internal: a migration needs its state, pool, health checker, provisioner, DNS back-end and movers");
    Migration m(inv, opts, plugins, out, log, state_path);
    return m.run();
}

}  // namespace decamp::migrate
