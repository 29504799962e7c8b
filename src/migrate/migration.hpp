// `decamp migrate --to P`: preflight → provision → replicate → verify → cutover → report,
// every step journaled (resumable after any crash), abortable before cutover, rolled back
// when the DNS switch or the final health check fails.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "data/mover.hpp"
#include "dns/verify.hpp"
#include "engine/engine.hpp"
#include "inventory/inventory.hpp"
#include "migrate/active.hpp"
#include "migrate/front.hpp"
#include "migrate/health.hpp"
#include "migrate/probe.hpp"
#include "playbook/playbook.hpp"

namespace decamp::migrate {

struct MigrateOptions {
    std::string target;
    bool dry_run = false;
    bool resume = false;
    bool abort = false;
    bool finish = false;      // take down the bridge of the last migration (when its time has come)
    bool finish_now = false;  // with finish: now, without waiting
    bool json = false;
    bool wait_ttl = false;       // really wait for the old TTL to expire before cutover
    bool from_backup = false;    // the source is gone: restore the data from a backup
    std::string backup_id = "latest";
    int lowered_ttl = 30;        // TTL set during the migration
    int catchup_timeout_s = 300;
    int forks = 50;
    int verbosity = 0;
    std::filesystem::path state_path;  // journal; default beside the inventory
    const std::atomic<bool>* interrupted = nullptr;
    engine::Progress* progress = nullptr;  // for the provision phase
    engine::Pool* pool = nullptr;          // the run's connections (the CLI's session); null: its own
    bool tofu = false;                     // --trust-on-first-use for hosts ordered here
};

// The TTL the migration sets on the switched records: --ttl, or the lowest the DNS back-end
// accepts when that is higher (deSEC: 3600 s). It is also how long after the switch a
// resolver may still hand out the old addresses.
int migration_ttl(const inventory::Inventory& inv, const MigrateOptions& o);
// What the preflight says about that: how long the cutover takes to be seen, and when the
// back-end would not go as low as asked, that it plans with its minimum instead.
std::string migration_ttl_note(const inventory::Inventory& inv, const MigrateOptions& o);

// What a migration reaches outside itself. run_migrate builds the real ones from the
// inventory; unit tests pass recording fakes of every one.
class HealthChecker {
public:
    virtual ~HealthChecker() = default;
    // Every health check against the hosts of `provider`, retried for up to `wait_s`.
    virtual std::vector<HealthResult> check(const std::string& provider, int wait_s) = 0;
};

class Provisioner {
public:
    virtual ~Provisioner() = default;
    // Applies every role's playbooks on `provider`'s hosts; a summary ("3 changed, 40 ok").
    // Throws Error when a host failed, Interrupted when the run was interrupted.
    virtual std::string apply(const std::string& provider) = 0;
};

// Orders the target's hosts that do not exist yet, on a provider that can order them
// (plugins.cpp: hosts::ensure_hosts). The migration starts these orders before anything else
// (ordering is slow) and journals one step per host, so a --resume never orders twice.
class HostOrderer {
public:
    virtual ~HostOrderer() = default;
    // The hosts of `provider` that have no address yet: what must be ordered.
    virtual std::vector<std::string> missing(const std::string& provider) = 0;
    // Orders `host` (a server of that name at the provider is adopted instead), then gives it
    // its address and key trust for the rest of the run; a summary. Throws Error.
    virtual std::string order(const std::string& provider, const std::string& host) = 0;
};

struct Interrupted : Error {
    Interrupted() : Error("interrupted") {}
};

class Journal;

// Where `--from-backup` restores from. backup/ has the real one (backup::RepoBackups in
// backup/source.hpp); it is handed in so that migrate/ never includes backup/.
class BackupSource {
public:
    struct Info {
        bool found = false;
        std::string id;
        double time = 0;      // unix seconds: the recovery point
        uint64_t bytes = 0;
        std::string when;     // "2025-01-01T12:00:00Z"
        std::string ago;      // "3.0 min" before now
        std::string why;      // when not found
    };
    virtual ~BackupSource() = default;
    // The newest backup, or why there is none; never throws.
    virtual Info latest() = 0;
    // The backup "latest" or an id names; throws Error when there is none.
    virtual Info find(const std::string& id_or_latest) = 0;
    // Restores it onto the hosts of `target` (staged and checked first: nothing replaced
    // when it does not match its manifest); returns what was restored.
    virtual Info restore(const std::string& target,
                         const std::function<transport::Transport&(const inventory::Host&)>& conn,
                         const std::string& id_or_latest, std::ostream& log) = 0;
};

struct Plugins {
    Journal* state = nullptr;                 // the journal (required)
    engine::Pool* pool = nullptr;             // one connection per host (required)
    dns::DnsBackend* dns = nullptr;           // required when the inventory has dns:
    // Asks every authoritative nameserver until each serves the switched rrsets (or a
    // deadline); empty: not verified.
    std::function<dns::Verification(const std::vector<dns::RRset>& sets)> dns_verify;
    HealthChecker* health = nullptr;          // required
    Provisioner* provisioner = nullptr;       // required
    HostOrderer* orderer = nullptr;           // null: the target's hosts must have addresses
    std::vector<std::unique_ptr<data::DataMover>> movers;  // one per `data:` set, in order
    BackupSource* backups = nullptr;          // required with --from-backup and for its advice
    // Sends requests to both providers' health URLs through the cutover; null: no probe.
    ClientProbe* probe = nullptr;
    // The proxy in front of the app (`app: front:`); null: no bridge, no held requests.
    Front* front = nullptr;
};

// The migration over the given plug-ins (see run_migrate). `plugins.state` may be null for
// a dry run, which reads the state at `state_path` if it exists.
int run_migration(const inventory::Inventory& inv, const MigrateOptions& opts, Plugins& plugins, std::ostream& out,
                  std::ostream& log, const std::filesystem::path& state_path);

// The DNS back-end the inventory's dns: block names (secrets resolved); Error without one.
std::unique_ptr<dns::DnsBackend> make_dns_backend(const inventory::Inventory& inv);

// Runs (or resumes / aborts / dry-runs) a migration. Human progress goes to `log`, the
// final report (Markdown, or JSON with --json) to `out`. Returns the process exit code.
// `backups`: where --from-backup restores from (null: none, --from-backup is refused).
// `inv` gains the addresses (and key trust) of the target hosts the migration orders.
int run_migrate(inventory::Inventory& inv, const std::vector<playbook::Playbook>& role_books,
                const MigrateOptions& opts, std::ostream& out, std::ostream& log,
                BackupSource* backups = nullptr);

// What run_migrate with these options is about to do, for the confirmation question (no
// host is contacted); "" when there is nothing to do (--abort with no migration running).
std::string migrate_summary(const inventory::Inventory& inv, const MigrateOptions& opts);

// `decamp status`.
int run_status(const inventory::Inventory& inv, const std::filesystem::path& state_path, bool json,
               std::ostream& out);

}  // namespace decamp::migrate
