// Internal to the migration: the Migration object the phases (migration.cpp, cutover.cpp,
// dry_run.cpp) share. It is the MoveContext of every DataMover.
#pragma once

#include <chrono>
#include <ostream>

#include "dns/dns.hpp"
#include "migrate/journal.hpp"
#include "migrate/migration.hpp"
#include "migrate/report.hpp"

namespace decamp::migrate {

struct StepFailed : Error {
    StepFailed(const std::string& step, const std::string& what) : Error(step + ": " + what) {}
};

// One rrset per line, "name type ttl addr,addr", for the journal.
std::string encode_rrsets(const std::vector<dns::RRset>& sets);
std::vector<dns::RRset> decode_rrsets(const std::string& text);

class Migration : public data::MoveContext {
public:
    Migration(const inventory::Inventory& inv, const MigrateOptions& o, Plugins& p, std::ostream& out,
              std::ostream& log, std::filesystem::path state_path)
        : inv_(inv), o_(o), p_(p), out_(out), log_(log), state_path_(std::move(state_path)) {}

    int run();

    // ---- data::MoveContext ----
    const std::string& migration_id() const override { return mig_.id; }
    const std::string& source() const override { return source_; }
    const std::string& target() const override { return target_; }
    std::vector<const inventory::Host*> hosts(const std::string& provider, const std::string& role) const override {
        return inv_.hosts_of(provider, role);
    }
    transport::Transport& conn(const inventory::Host& h) override { return p_.pool->get(h); }
    std::string step(const std::string& phase, const std::string& name,
                     const std::function<std::string()>& fn) override;
    bool step_begun(const std::string& name) override;
    std::optional<std::string> get(const std::string& key) override;
    void set(const std::string& key, const std::string& value) override;
    std::vector<std::string> migrations_from(const std::string& provider) override;
    std::ostream& log() override { return log_; }
    int catchup_timeout_s() const override { return o_.catchup_timeout_s; }

private:
    using Clock = std::chrono::steady_clock;

    std::vector<dns::RRset> target_rrsets(const std::string& provider, int ttl) const;
    std::vector<HealthResult> health(const std::string& provider, int wait_s) { return p_.health->check(provider, wait_s); }
    void check_interrupted() const;

    void order_hosts();
    void preflight();
    void preflight_target_and_dns(uint64_t data_bytes);
    void provision();
    void replicate();
    void verify();
    void wait_ttl();
    void cutover();
    // Each health URL at the source's and the target's hosts, labelled for the report.
    std::vector<std::pair<std::string, HealthTarget>> probe_targets() const;
    void switch_dns();
    // The bridge (bridge.cpp).
    const inventory::FrontConfig* front_cfg() const;
    void bridge_accept();
    void bridge_open();
    std::string bridge_rollback();
    void bridge_schedule();
    void close_bridge(const MigrationRow& m);
    int finish_bridge();
    void close_earlier_bridge();
    void rollback(const std::string& why);
    int abort_migration();
    int dry_run();

    const inventory::Inventory& inv_;
    const MigrateOptions& o_;
    Plugins& p_;
    // The backup source --from-backup needs; Error when none was handed in.
    BackupSource& backups() {
        if (!p_.backups) throw Error("no backup source was given to restore from");
        return *p_.backups;
    }
    BackupSource::Info latest_backup() {
        if (p_.backups) return p_.backups->latest();
        BackupSource::Info i;
        i.why = "no backup source was given";
        return i;
    }
    std::ostream& out_;
    std::ostream& log_;
    std::filesystem::path state_path_;
    MigrationRow mig_;
    std::string source_;
    std::string target_;
    ReportData report_;
};

}  // namespace decamp::migrate
