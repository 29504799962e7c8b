// The migration orchestrator. Each step is journaled before and after it runs; on --resume,
// steps already done are skipped and a step that was running when the process died runs
// again (every step is idempotent: it checks before it acts).
#include "migrate/migration.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <thread>

#include "backup/backup.hpp"
#include "backup/manifest.hpp"
#include "backup/restore.hpp"
#include "dns/dns.hpp"
#include "engine/script.hpp"
#include "migrate/files.hpp"
#include "migrate/health.hpp"
#include "migrate/journal.hpp"
#include "migrate/pg_replica.hpp"
#include "migrate/report.hpp"
#include "plan/planner.hpp"
#include "util/secret.hpp"
#include "util/shell.hpp"
#include "util/systemd.hpp"

namespace decamp::migrate {

namespace {

using inventory::Host;
using Clock = std::chrono::steady_clock;

struct Interrupted : Error {
    Interrupted() : Error("interrupted") {}
};

struct StepFailed : Error {
    StepFailed(const std::string& step, const std::string& what) : Error(step + ": " + what) {}
};

std::string random_hex(size_t bytes) {
    std::ifstream in("/dev/urandom", std::ios::binary);
    std::string raw(bytes, '\0');
    in.read(raw.data(), static_cast<std::streamsize>(bytes));
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

std::string human_bytes(uint64_t b) {
    char buf[32];
    if (b >= (1ull << 30)) snprintf(buf, sizeof buf, "%.1f GiB", double(b) / (1ull << 30));
    else if (b >= (1ull << 20)) snprintf(buf, sizeof buf, "%.1f MiB", double(b) / (1ull << 20));
    else if (b >= 1024) snprintf(buf, sizeof buf, "%.1f KiB", double(b) / 1024);
    else snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
    return buf;
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    size_t a = s.find_first_not_of(" \n");
    return a == std::string::npos ? "" : s.substr(a);
}

// One rrset per line, "name type ttl addr,addr", for the journal (no JSON parser needed).
std::string encode_rrsets(const std::vector<dns::RRset>& sets) {
    std::string out;
    for (const auto& s : sets) {
        out += s.name + " " + s.type + " " + std::to_string(s.ttl) + " ";
        for (size_t i = 0; i < s.records.size(); ++i) out += (i ? "," : "") + s.records[i];
        out += "\n";
    }
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

class Migration {
public:
    Migration(const inventory::Inventory& inv, const std::vector<playbook::Playbook>& books, const MigrateOptions& o,
              std::ostream& out, std::ostream& log)
        : inv_(inv), books_(books), o_(o), out_(out), log_(log) {
        state_path_ = o.state_path.empty() ? default_state_path(inv.file) : o.state_path;
        if (o.connector) {
            connector_ = o.connector;
        } else {
            owned_connector_ = engine::make_connector(inv);
            connector_ = owned_connector_.get();
        }
    }

    int run();

private:
    // ---- hosts ----
    std::vector<const Host*> hosts_of(const std::string& provider, const std::string& role) const {
        std::vector<const Host*> out;
        for (const auto* h : inv_.provider_hosts(provider))
            if (h->has_role(role)) out.push_back(h);
        return out;
    }
    const Host* first_of(const std::string& provider, const std::string& role) const {
        auto v = hosts_of(provider, role);
        if (v.empty()) throw Error("provider " + provider + " has no host with role " + role);
        return v.front();
    }
    transport::Transport& conn(const Host& h) {
        auto it = conns_.find(h.name);
        if (it != conns_.end()) return *it->second;
        auto t = connector_->connect(h);
        return *(conns_[h.name] = std::move(t));
    }
    std::string sh(const Host& h, const std::string& cmd, const std::string& what) {
        auto r = conn(h).run(cmd);
        if (r.exit_status != 0)
            throw Error(what + " on " + h.name + " failed (exit " + std::to_string(r.exit_status) + "): " +
                        redactor().mask(trim(r.err)));
        return r.out;
    }

    // ---- journaled steps ----
    template <class F>
    std::string step(const std::string& phase, const std::string& name, F&& fn) {
        if (o_.interrupted && *o_.interrupted) throw Interrupted();
        if (auto prev = journal_->step(mig_.id, name); prev && prev->state == "done") {
            log_ << "  [" << phase << "] " << name << ": done earlier, skipped\n";
            return prev->detail;
        }
        journal_->step_started(mig_.id, phase, name);
        log_ << "  [" << phase << "] " << name << " …" << std::flush;
        auto t0 = Clock::now();
        try {
            std::string detail = fn();
            journal_->step_done(mig_.id, name, detail);
            log_ << " done (" << std::chrono::duration<double>(Clock::now() - t0).count() << " s)\n";
            return detail;
        } catch (const Interrupted&) {
            log_ << " interrupted\n";
            throw;
        } catch (const std::exception& e) {
            std::string msg = redactor().mask(e.what());
            journal_->step_failed(mig_.id, name, msg);
            log_ << " FAILED\n";
            throw StepFailed(name, msg);
        }
    }

    pg::ReplicaPlan replica_plan(const inventory::DataSet& ds);
    std::string repl_password();
    dns::DnsBackend& dns_backend();
    std::vector<dns::RRset> target_rrsets(const std::string& provider, int ttl);

    void preflight();
    void preflight_target_and_dns(uint64_t data_bytes);
    void provision();
    void replicate();
    void verify();
    void cutover();
    void rollback(const std::string& why);
    int abort_migration();
    int dry_run();

    const inventory::Inventory& inv_;
    const std::vector<playbook::Playbook>& books_;
    const MigrateOptions& o_;
    std::ostream& out_;
    std::ostream& log_;
    std::filesystem::path state_path_;
    engine::Connector* connector_ = nullptr;
    std::unique_ptr<engine::Connector> owned_connector_;
    std::map<std::string, std::unique_ptr<transport::Transport>> conns_;
    std::unique_ptr<Journal> journal_;
    std::unique_ptr<dns::DnsBackend> dns_;
    MigrationRow mig_;
    std::string source_;
    std::string target_;
    ReportData report_;
};

std::string Migration::repl_password() {
    std::string key = "repl_password/" + mig_.id;
    auto pw = journal_->get(key);
    if (!pw) {
        pw = random_hex(24);
        journal_->set(key, *pw);
    }
    redactor().add(*pw);
    return *pw;
}

pg::ReplicaPlan Migration::replica_plan(const inventory::DataSet& ds) {
    const Host* src = first_of(source_, ds.role);
    const Host* dst = first_of(target_, ds.role);
    pg::ReplicaPlan p;
    p.migration_id = mig_.id;
    p.source_address = src->address;
    p.target_address = dst->address;
    p.database = ds.database;
    p.repl_password = SecretString(repl_password());
    std::string version = journal_->get("pg_version/" + mig_.id).value_or("15");
    p.source = pg::debian_cluster(version);
    p.target = pg::debian_cluster(version);
    return p;
}

dns::DnsBackend& Migration::dns_backend() {
    if (!dns_) {
        dns::BackendConfig cfg;
        cfg.kind = inv_.dns->kind;
        cfg.api = inv_.dns->api;
        cfg.zone = inv_.dns->zone;
        cfg.api_key = resolve_secret(inv_.dns->api_key.as_string(), inv_.base_dir).reveal();
        dns_ = dns::make_backend(cfg);
    }
    return *dns_;
}

std::vector<dns::RRset> Migration::target_rrsets(const std::string& provider, int ttl) {
    std::vector<dns::RRset> out;
    for (const auto& r : inv_.dns->records) {
        dns::RRset s;
        s.name = r.name;
        s.type = r.type;
        s.ttl = ttl > 0 ? ttl : r.ttl;
        for (const auto* h : hosts_of(provider, r.role)) s.records.push_back(h->address);
        if (s.records.empty()) throw Error("DNS record " + r.name + ": provider " + provider + " has no host with role " + r.role);
        out.push_back(s);
    }
    return out;
}

void Migration::preflight() {
    const std::string ph = "preflight";
    // Reaching every host is re-checked on every run (a resumed run must reach them too).
    if (o_.from_backup) {
        log_ << "  [preflight] reach every host of " << target_ << " (the source is not used: --from-backup) …" << std::flush;
    } else {
        log_ << "  [preflight] reach every host of " << source_ << " and " << target_ << " …" << std::flush;
    }
    for (const auto& p : {source_, target_}) {
        if (o_.from_backup && p == source_) continue;
        for (const auto* h : inv_.provider_hosts(p)) {
            transport::RunResult r;
            try {
                r = conn(*h).run("true");
            } catch (const transport::TransportError& e) {
                if (p != source_ || e.kind() == transport::TransportError::Kind::HostKey) throw;
                // The worst day: the old provider is gone. Say what the user can do.
                auto li = backup::latest_backup(inv_);
                std::string advice =
                    li.found ? "the latest backup is " + li.id + " from " + backup::iso_time(li.time) + " (" +
                                   backup::human_seconds(Journal::now() - li.time) + " ago): if " + source_ +
                                   " is gone for good, run: decamp migrate --to " + target_ +
                                   " --from-backup (writes after that backup are lost)"
                             : "and there is no backup to fall back on (" + li.why + ")";
                throw Error("source host " + h->name + " is unreachable (" + e.what() + "); " + advice);
            }
            if (r.exit_status != 0) throw Error("host " + h->name + " does not run commands (exit " + std::to_string(r.exit_status) + ")");
        }
    }
    log_ << " ok\n";
    if (o_.from_backup) {
        std::string d = step(ph, "backup-manifest", [&] {
            backup::Repo repo(inv_);
            auto m = backup::load_manifest(repo, o_.backup_id);
            journal_->set("backup_id/" + mig_.id, m.id);
            journal_->set("backup_time/" + mig_.id, std::to_string(m.time));
            return m.id + " " + std::to_string(m.total_bytes());
        });
        std::istringstream in(d);
        std::string id;
        uint64_t bytes = 0;
        in >> id >> bytes;
        log_ << "    restoring backup " << id << " (" << human_bytes(bytes) << ")\n";
        report_.data.push_back({"backup", id, bytes});
        return preflight_target_and_dns(bytes);
    }

    uint64_t data_bytes = 0;
    for (const auto& ds : inv_.data) {
        if (ds.kind == "postgres") {
            std::string d = step(ph, "postgres-version/" + ds.database, [&] {
                const Host* src = first_of(source_, ds.role);
                std::string v = trim(sh(*src, pg::version_cmd(pg::debian_cluster("15")), "reading the PostgreSQL version"));
                if (v.empty()) throw Error("no PostgreSQL version on " + src->name);
                // Same Debian release on both sides means the same PostgreSQL major from apt.
                const Host* dst = first_of(target_, ds.role);
                std::string codename = ". /etc/os-release; echo $VERSION_CODENAME";
                std::string a = trim(sh(*src, codename, "reading the OS release"));
                std::string b = trim(sh(*dst, codename, "reading the OS release"));
                if (a != b)
                    throw Error("source runs Debian " + a + " and target " + b +
                                ": their PostgreSQL major versions would differ; streaming replication needs the same major");
                journal_->set("pg_version/" + mig_.id, v);
                uint64_t size = std::stoull("0" + trim(sh(*src, pg::data_size_cmd(pg::debian_cluster(v), ds.database), "measuring the database")));
                return v + " " + std::to_string(size);
            });
            std::istringstream in(d);
            std::string v;
            uint64_t size = 0;
            in >> v >> size;
            data_bytes += size;
            report_.data.push_back({"postgres", ds.database, size});
        } else {
            std::string d = step(ph, "files-size/" + ds.path, [&] {
                return std::to_string(files::tree_size(conn(*first_of(source_, ds.role)), ds.path));
            });
            uint64_t size = std::stoull("0" + d);
            data_bytes += size;
            report_.data.push_back({"files", ds.path, size});
        }
    }
    preflight_target_and_dns(data_bytes);
}

void Migration::preflight_target_and_dns(uint64_t data_bytes) {
    const std::string ph = "preflight";
    step(ph, "disk-space", [&] {
        std::string detail;
        for (const auto& ds : inv_.data) {
            for (const auto* h : hosts_of(target_, ds.role)) {
                std::string where = ds.kind == "postgres" ? "/var/lib" : std::filesystem::path(ds.path).parent_path().string();
                std::string cmd = "p=" + shell::quote(where) + "; while [ ! -d \"$p\" ]; do p=$(dirname \"$p\"); done; df -B1 --output=avail \"$p\" | tail -n 1";
                uint64_t avail = std::stoull("0" + trim(sh(*h, cmd, "checking free disk space")));
                uint64_t need = data_bytes + data_bytes / 5 + (256ull << 20);
                if (avail < need)
                    throw Error(h->name + " has " + human_bytes(avail) + " free under " + where + "; the data needs " +
                                human_bytes(need) + " (size + 20% + 256 MiB)");
                detail += h->name + ":" + std::to_string(avail) + " ";
            }
        }
        return detail;
    });
    if (inv_.dns) {
        std::string d = step(ph, "dns-lower-ttl", [&] {
            auto& b = dns_backend();
            b.ping();
            std::vector<dns::RRset> original;
            for (const auto& r : inv_.dns->records) {
                auto cur = b.get(r.name, r.type);
                if (!cur) throw Error("DNS record " + r.name + " " + r.type + " does not exist in zone " + inv_.dns->zone);
                original.push_back(*cur);
            }
            int max_old = 0;
            for (auto s : original) {
                max_old = std::max(max_old, s.ttl);
                if (s.ttl > o_.lowered_ttl) {
                    s.ttl = o_.lowered_ttl;
                    b.replace(s);
                }
            }
            journal_->set("dns_lowered_at/" + mig_.id, std::to_string(Journal::now()));
            journal_->set("dns_old_ttl/" + mig_.id, std::to_string(max_old));
            if (max_old > o_.lowered_ttl)
                log_ << "\n    TTL lowered from " << max_old << " s to " << o_.lowered_ttl
                     << " s; resolvers may keep the old answer for up to " << max_old
                     << " s from now — cut over after that for a clean switch (--wait-ttl waits for you)\n   ";
            return encode_rrsets(original);
        });
        report_.dns_before = decode_rrsets(d);
    }
}

void Migration::provision() {
    step("provision", "apply-roles/" + target_, [&] {
        engine::Options eo;
        eo.forks = o_.forks;
        eo.verbosity = o_.verbosity;
        eo.interrupted = o_.interrupted;
        engine::Engine eng(inv_, *connector_, eo, o_.progress);
        auto rep = eng.run(plan::assign_roles(inv_, books_, target_, ""));
        if (rep.exit_code() != 0) {
            std::string why;
            for (const auto& h : rep.hosts)
                if (!h.error.empty()) why += (why.empty() ? "" : "; ") + h.host + ": " + h.error;
            if (rep.interrupted) throw Interrupted();
            throw Error("applying the roles on " + target_ + " failed: " + why);
        }
        return std::to_string(rep.total(engine::Status::Changed)) + " changed, " +
               std::to_string(rep.total(engine::Status::Ok)) + " ok";
    });
}

void Migration::replicate() {
    const std::string ph = "replicate";
    if (o_.from_backup) {
        step(ph, "restore-from-backup", [&] {
            auto rr = backup::restore_latest(
                inv_, target_, [&](const Host& h) -> transport::Transport& { return conn(h); },
                journal_->get("backup_id/" + mig_.id).value_or(o_.backup_id), log_);
            journal_->set("backup_time/" + mig_.id, std::to_string(rr.backup_time));
            return rr.backup_id + " " + std::to_string(rr.bytes) + " bytes";
        });
        return;
    }
    for (const auto& ds : inv_.data) {
        if (ds.kind == "postgres") {
            auto p = replica_plan(ds);
            const Host* src = first_of(source_, ds.role);
            const Host* dst = first_of(target_, ds.role);
            step(ph, "pg-grant/" + ds.database, [&] {
                std::string v = trim(sh(*dst, pg::version_cmd(p.target), "reading the target's PostgreSQL version"));
                std::string sv = journal_->get("pg_version/" + mig_.id).value_or("");
                if (!sv.empty() && v != sv)
                    throw Error("PostgreSQL " + sv + " on the source but " + v + " on the target: streaming replication needs the same major version");
                pg::grant(conn(*src), p);
                return std::string("replication user and pg_hba line for ") + p.target_address + " only";
            });
            step(ph, "pg-clear-old-fences/" + ds.database, [&] {
                // A target that was the source of an earlier migration still carries that
                // migration's fence in its configuration; the replica must not inherit it.
                std::string cleared;
                for (const auto& prev : journal_->migrations_from(target_)) {
                    auto q = p;
                    q.migration_id = prev;
                    pg::unfence(conn(*dst), q);
                    cleared += prev + " ";
                }
                return cleared.empty() ? std::string("none") : cleared;
            });
            step(ph, "pg-replica/" + ds.database, [&] {
                pg::build_replica(conn(*dst), p);
                return std::string("streaming from ") + p.source_address;
            });
        } else {
            const Host* src = first_of(source_, ds.role);
            for (const auto* dst : hosts_of(target_, ds.role)) {
                std::string d = step(ph, "files-full/" + ds.path + "/" + dst->name, [&] {
                    auto st = files::full_pass(conn(*src), conn(*dst), ds.path, "/var/lib/decamp/marker-" + mig_.id);
                    return std::to_string(st.files) + " " + std::to_string(st.bytes);
                });
                std::istringstream in(d);
                uint64_t n = 0, b = 0;
                in >> n >> b;
                report_.moved_bytes += b;
            }
        }
    }
}

void Migration::verify() {
    step("verify", "health-target", [&] {
        auto res = check_health(inv_, target_, 60);
        if (!all_ok(res)) throw Error("health checks on " + target_ + " failed: " + describe(res));
        return describe(res);
    });
    for (const auto& ds : inv_.data) {
        if (ds.kind != "postgres" || o_.from_backup) continue;
        auto p = replica_plan(ds);
        int64_t lag = pg::lag_bytes(conn(*first_of(source_, ds.role)), p);
        log_ << "    replication lag for " << ds.database << ": " << (lag < 0 ? std::string("not connected!") : std::to_string(lag) + " bytes") << "\n";
        report_.lag_bytes = lag;
        if (lag < 0) throw Error("the target is not streaming from the source (pg_stat_replication has no row for " + p.repl_user + ")");
    }
}

void Migration::cutover() {
    const std::string ph = "cutover";
    if (o_.wait_ttl && inv_.dns) {
        double at = std::stod(journal_->get("dns_lowered_at/" + mig_.id).value_or("0"));
        double ttl = std::stod(journal_->get("dns_old_ttl/" + mig_.id).value_or("0"));
        double left = at + ttl - Journal::now();
        if (left > 0) {
            log_ << "  waiting " << int(left) << " s for the old DNS TTL to expire (--wait-ttl)\n";
            while (left > 0) {
                if (o_.interrupted && *o_.interrupted) throw Interrupted();
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
                left = at + ttl - Journal::now();
            }
        }
    }
    std::vector<const Host*> src_app, dst_app;
    std::vector<std::string> services;
    if (inv_.app) {
        src_app = hosts_of(source_, inv_.app->role);
        dst_app = hosts_of(target_, inv_.app->role);
        services = inv_.app->services;
    }
    // Verified: after the stop, every service must be inactive, or the cutover stops here.
    auto systemctl = [&](systemd::Verb verb) { return systemd::units_cmd(verb, services); };
    if (o_.from_backup) src_app.clear();  // the source is gone: nothing to stop there
    step(ph, "freeze-app", [&] {
        journal_->set("freeze_at/" + mig_.id, std::to_string(Journal::now()));
        for (const auto* h : src_app) sh(*h, systemctl(systemd::Verb::Stop), "stopping the app");
        return std::string("stopped ") + std::to_string(services.size()) + " service(s) on " + std::to_string(src_app.size()) + " host(s)";
    });
    for (const auto& ds : inv_.data) {
        if (ds.kind != "postgres" || o_.from_backup) continue;
        auto p = replica_plan(ds);
        const Host* src = first_of(source_, ds.role);
        const Host* dst = first_of(target_, ds.role);
        step(ph, "pg-fence/" + ds.database, [&] {
            pg::fence(conn(*src), p);
            return std::string("source read-only, clients rejected");
        });
        step(ph, "pg-catch-up/" + ds.database, [&] {
            uint64_t lsn = pg::wait_caught_up(conn(*src), conn(*dst), p, o_.catchup_timeout_s);
            char buf[40];
            snprintf(buf, sizeof buf, "%X/%X", unsigned(lsn >> 32), unsigned(lsn & 0xffffffffu));
            return std::string("replayed up to ") + buf;
        });
    }
    for (const auto& ds : inv_.data) {
        if (ds.kind != "files" || o_.from_backup) continue;
        const Host* src = first_of(source_, ds.role);
        for (const auto* dst : hosts_of(target_, ds.role)) {
            std::string d = step(ph, "files-delta/" + ds.path + "/" + dst->name, [&] {
                auto st = files::delta_pass(conn(*src), conn(*dst), ds.path, "/var/lib/decamp/marker-" + mig_.id);
                return std::to_string(st.files) + " " + std::to_string(st.bytes) + " " + std::to_string(st.deleted);
            });
            std::istringstream in(d);
            uint64_t n = 0, b = 0;
            in >> n >> b;
            report_.moved_bytes += b;
        }
    }
    for (const auto& ds : inv_.data) {
        if (ds.kind != "postgres" || o_.from_backup) continue;
        auto p = replica_plan(ds);
        step(ph, "pg-promote/" + ds.database, [&] {
            pg::promote(conn(*first_of(target_, ds.role)), p);
            return std::string("target is primary");
        });
        step(ph, "pg-drop-repl-user/" + ds.database, [&] {
            // The replica copied the source's roles, ours included; the new primary keeps none.
            pg::revoke(conn(*first_of(target_, ds.role)), p);
            return std::string("replication user dropped on the new primary");
        });
    }
    step(ph, "start-app", [&] {
        for (const auto* h : dst_app) sh(*h, systemctl(systemd::Verb::Restart), "starting the app");
        auto res = check_health(inv_, target_, 60);
        if (!all_ok(res)) throw Error("the app on " + target_ + " is not healthy after promotion: " + describe(res));
        journal_->set("writable_at/" + mig_.id, std::to_string(Journal::now()));
        return describe(res);
    });
    if (inv_.dns) {
        try {
            step(ph, "dns-switch", [&] {
                auto& b = dns_backend();
                int ttl = o_.lowered_ttl;
                for (const auto& s : target_rrsets(target_, ttl)) b.replace(s);
                // Verify at the authoritative server, not in the API's own view.
                if (!inv_.dns->server.empty()) {
                    for (const auto& s : target_rrsets(target_, ttl)) {
                        std::vector<std::string> got;
                        for (int i = 0; i < 20; ++i) {
                            got = dns::query(inv_.dns->server, s.name, s.type);
                            std::sort(got.begin(), got.end());
                            auto want = s.records;
                            std::sort(want.begin(), want.end());
                            if (got == want) break;
                            std::this_thread::sleep_for(std::chrono::milliseconds(250));
                        }
                        auto want = s.records;
                        std::sort(want.begin(), want.end());
                        if (got != want) throw Error("the authoritative server still answers the old records for " + s.name);
                    }
                }
                journal_->set("dns_switched_at/" + mig_.id, std::to_string(Journal::now()));
                return encode_rrsets(target_rrsets(target_, ttl));
            });
            step(ph, "health-final", [&] {
                auto res = check_health(inv_, target_, 30);
                if (!all_ok(res)) throw Error("final health checks failed: " + describe(res));
                return describe(res);
            });
        } catch (const StepFailed& e) {
            // With --from-backup there is no source to go back to: the journal keeps the
            // migration for --resume once the cause is fixed.
            if (!o_.from_backup) rollback(e.what());
            throw;
        }
    }
    step(ph, "activate", [&] {
        journal_->set("active", target_);
        // The DNS TTL goes back to what the inventory asks for, now on the target.
        if (inv_.dns) {
            for (const auto& s : target_rrsets(target_, 0)) dns_backend().replace(s);
        }
        return "active provider: " + target_;
    });
}

void Migration::rollback(const std::string& why) {
    log_ << "  ROLLBACK: " << why << "\n";
    std::string notes;
    if (inv_.dns && !report_.dns_before.empty()) {
        try {
            for (const auto& s : report_.dns_before) dns_backend().replace(s);
            notes += "DNS restored to the source's records; ";
        } catch (const std::exception& e) {
            notes += std::string("DNS could not be written (") + e.what() + ") — it still holds what the switch left, check it; ";
        }
    }
    for (const auto& ds : inv_.data) {
        if (ds.kind != "postgres") continue;
        try {
            pg::unfence(conn(*first_of(source_, ds.role)), replica_plan(ds));
            notes += "source database writable again; ";
        } catch (const std::exception& e) {
            notes += std::string("unfencing failed: ") + e.what() + "; ";
        }
    }
    if (inv_.app) {
        const std::string stop = systemd::units_cmd(systemd::Verb::Stop, inv_.app->services, systemd::Missing::Ignore);
        const std::string start = systemd::units_cmd(systemd::Verb::Start, inv_.app->services);
        for (const auto* h : hosts_of(target_, inv_.app->role)) {
            try {
                conn(*h).run(stop);
            } catch (...) {
            }
        }
        for (const auto* h : hosts_of(source_, inv_.app->role)) {
            try {
                sh(*h, start, "restarting the app on the source");
            } catch (const std::exception& e) {
                notes += std::string("source app restart failed: ") + e.what() + "; ";
            }
        }
        notes += "source app restarted, target app stopped";
    }
    auto res = check_health(inv_, source_, 30);
    notes += std::string("; source health: ") + (all_ok(res) ? "ok" : describe(res));
    log_ << "  rolled back: " << notes << "\n";
    journal_->finish(mig_.id, "rolled-back");
    report_.rollback = notes;
}

int Migration::abort_migration() {
    auto m = journal_->unfinished();
    if (!m) {
        log_ << "decamp: no migration in progress; nothing to abort\n";
        return kExitOk;
    }
    mig_ = *m;
    source_ = m->source;
    target_ = m->target;
    for (const auto& s : journal_->steps(mig_.id))
        if (s.phase == "cutover")
            throw Error("the migration " + mig_.id + " is past the start of cutover (" + s.name +
                        "); it can no longer be aborted — finish it with --resume");
    log_ << "Aborting migration " << mig_.id << " (" << source_ << " → " << target_ << ")\n";
    for (const auto& ds : inv_.data) {
        if (ds.kind != "postgres") continue;
        if (!journal_->step(mig_.id, "pg-grant/" + ds.database)) continue;
        log_ << "  removing the replication user and pg_hba line from the source …" << std::flush;
        pg::revoke(conn(*first_of(source_, ds.role)), replica_plan(ds));
        log_ << " done\n";
    }
    if (inv_.dns) {
        if (auto d = journal_->step(mig_.id, "dns-lower-ttl"); d && d->state == "done") {
            log_ << "  restoring the DNS TTLs …" << std::flush;
            for (const auto& s : decode_rrsets(d->detail)) dns_backend().replace(s);
            log_ << " done\n";
        }
    }
    journal_->finish(mig_.id, "aborted");
    out_ << "Migration " << mig_.id << " aborted; " << source_ << " serves exactly as before.\n";
    return kExitOk;
}

int Migration::dry_run() {
    std::vector<std::string> problems;
    int code = kExitOk;
    auto problem = [&](const std::string& p, int c) {
        problems.push_back(p);
        code = std::max(code, c);
    };
    out_ << "# Migration plan: " << source_ << " → " << target_ << " (dry run: nothing is changed)\n\n## Hosts\n";
    std::vector<std::string> roles;
    for (const auto& r : inv_.roles) roles.push_back(r.name);
    for (const auto& r : roles) {
        std::string a, b;
        for (const auto* h : hosts_of(source_, r)) a += (a.empty() ? "" : ", ") + h->name + " (" + h->address + ")";
        for (const auto* h : hosts_of(target_, r)) b += (b.empty() ? "" : ", ") + h->name + " (" + h->address + ")";
        out_ << "- " << r << ": " << (a.empty() ? "-" : a) << " → " << (b.empty() ? "-" : b) << "\n";
        if (!hosts_of(source_, r).empty() && hosts_of(target_, r).empty())
            problem("role " + r + " has hosts on " + source_ + " but none on " + target_, 5);
    }
    out_ << "\n## Reachability\n";
    for (const auto& p : {source_, target_})
        for (const auto* h : inv_.provider_hosts(p)) {
            if (o_.from_backup && p == source_) continue;
            try {
                conn(*h).run("true");
                out_ << "- " << h->name << ": reachable, host key pinned\n";
            } catch (const transport::TransportError& e) {
                out_ << "- " << h->name << ": " << e.what() << "\n";
                problem(h->name + ": " + e.what(), e.kind() == transport::TransportError::Kind::HostKey ? kExitHostKey : kExitUnreachable);
            }
        }
    out_ << "\n## Data\n";
    if (o_.from_backup) {
        auto li = backup::latest_backup(inv_);
        if (li.found)
            out_ << "- from backup " << li.id << " taken " << backup::iso_time(li.time) << " ("
                 << backup::human_seconds(Journal::now() - li.time) << " ago; writes after it are lost)\n";
        else
            problem("no backup to restore from: " + li.why, 5);
    }
    for (const auto& ds : inv_.data) {
        if (o_.from_backup) break;
        try {
            const Host* src = first_of(source_, ds.role);
            if (ds.kind == "postgres") {
                std::string v = trim(sh(*src, pg::version_cmd(pg::debian_cluster("15")), "reading the PostgreSQL version"));
                uint64_t size = std::stoull("0" + trim(sh(*src, pg::data_size_cmd(pg::debian_cluster(v), ds.database), "measuring")));
                out_ << "- postgres " << ds.database << " on " << src->name << ": " << human_bytes(size) << " (PostgreSQL " << v
                     << ") → streaming replica on " << first_of(target_, ds.role)->name << ", promoted at cutover\n";
            } else {
                uint64_t size = files::tree_size(conn(*src), ds.path);
                out_ << "- files " << ds.path << " on " << src->name << ": " << human_bytes(size) << " → streamed through decamp to";
                for (const auto* h : hosts_of(target_, ds.role)) out_ << " " << h->name;
                out_ << "; changes again at cutover\n";
            }
        } catch (const std::exception& e) {
            out_ << "- " << ds.kind << " " << (ds.database.empty() ? ds.path : ds.database) << ": " << e.what() << "\n";
            problem(e.what(), 5);
        }
    }
    if (inv_.dns) {
        out_ << "\n## DNS (" << inv_.dns->kind << ", zone " << inv_.dns->zone << ")\n";
        try {
            auto& b = dns_backend();
            b.ping();
            for (const auto& want : target_rrsets(target_, 0)) {
                auto cur = b.get(want.name, want.type);
                std::string now = cur ? encode_rrsets({*cur}) : "(absent)\n";
                out_ << "- " << want.name << " " << want.type << ": " << trim(now) << "  →  ";
                for (size_t i = 0; i < want.records.size(); ++i) out_ << (i ? "," : "") << want.records[i];
                out_ << " (ttl " << want.ttl << "; " << o_.lowered_ttl << " during the migration)\n";
                if (!cur) problem("DNS record " + want.name + " does not exist", 5);
            }
        } catch (const std::exception& e) {
            out_ << "- DNS API: " << e.what() << "\n";
            problem(std::string("DNS: ") + e.what(), 5);
        }
    }
    out_ << "\n## Steps\n"
            "1. preflight: reach every host; PostgreSQL versions; free disk on targets; DNS API; lower TTLs\n"
            "2. provision: apply every role's playbooks on " << target_ << "\n"
            "3. replicate: replication user + pg_hba line on the source for the target only; pg_basebackup over TLS;"
            " full pass of each files data set through decamp\n"
            "4. verify: health checks on " << target_ << " with the real Host header; replication lag\n"
            "5. cutover: stop the app on " << source_ << "; fence the source database; wait for the replica; delta pass of files;"
            " promote; start the app on " << target_ << "; switch DNS and verify at the authoritative server; health again\n"
            "6. report: phase durations, data volumes, downtime\n";
    out_ << "\n## Problems\n";
    if (problems.empty()) out_ << "none\n";
    for (const auto& p : problems) out_ << "- " << p << "\n";
    return code;
}

int Migration::run() {
    journal_ = o_.dry_run ? nullptr : std::make_unique<Journal>(state_path_);
    if (o_.dry_run) {
        auto active = active_provider(inv_, state_path_);
        source_ = active.name;
        target_ = o_.target;
        if (source_ == target_) throw Error("the stack already runs on " + active.describe());
        return dry_run();
    }
    try {
        journal_->lock();
    } catch (const LockedError& e) {
        log_ << "decamp: " << e.what() << "\n";
        return kExitLocked;
    }
    if (o_.abort) return abort_migration();

    auto unfinished = journal_->unfinished();
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
        auto active = active_provider(inv_, state_path_);
        std::string src = active.name;
        if (src == o_.target) throw Error("the stack already runs on " + active.describe());
        mig_ = journal_->start("migrate", src, o_.target);
        log_ << "Migration " << mig_.id << ": " << src << " → " << o_.target << "\n";
    }
    source_ = mig_.source;
    target_ = mig_.target;
    report_.id = mig_.id;
    report_.source = source_;
    report_.target = target_;
    try {
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
        log_ << "decamp: interrupted; the journal (" << state_path_.string() << ") has every step — run: decamp migrate --to "
             << target_ << " --resume\n";
        return kExitInterrupted;
    } catch (const transport::TransportError& e) {
        log_ << "decamp: " << redactor().mask(e.what()) << "\n";
        log_ << "The journal keeps the migration; fix the cause and run: decamp migrate --to " << target_
             << " --resume (or --abort before cutover)\n";
        return e.kind() == transport::TransportError::Kind::HostKey ? kExitHostKey : kExitUnreachable;
    } catch (const std::exception& e) {
        log_ << "decamp: migration step failed: " << redactor().mask(e.what()) << "\n";
        fill_report(report_, *journal_, mig_.id);
        if (report_.rollback.empty())
            log_ << "The journal keeps the migration; fix the cause and run: decamp migrate --to " << target_
                 << " --resume (or --abort before cutover)\n";
        out_ << (o_.json ? report_json(report_) : report_markdown(report_));
        return kExitMigrationFailed;
    }
    journal_->finish(mig_.id, "done");
    fill_report(report_, *journal_, mig_.id);
    write_report_files(report_, state_path_.parent_path());
    out_ << (o_.json ? report_json(report_) : report_markdown(report_));
    return kExitOk;
}

}  // namespace

int run_migrate(const inventory::Inventory& inv, const std::vector<playbook::Playbook>& role_books,
                const MigrateOptions& opts, std::ostream& out, std::ostream& log) {
    if (!opts.abort && !inv.find_provider(opts.target))
        throw Error("provider \"" + opts.target + "\" is not defined in " + inv.file.string());
    Migration m(inv, role_books, opts, out, log);
    return m.run();
}

}  // namespace decamp::migrate
