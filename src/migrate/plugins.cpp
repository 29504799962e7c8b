// The real plug-ins of a migration, built from the inventory: health checks over HTTP, the
// engine applying the roles over the run's connection pool, the DNS back-end of `dns: kind:`
// with its authoritative server, a DataMover per `data:` set.
#include "dns/dns.hpp"
#include "engine/pool.hpp"
#include "hosts/hosts.hpp"
#include "migrate/journal.hpp"
#include "migrate/migration_internal.hpp"
#include "plan/planner.hpp"
#include "util/secret.hpp"

namespace decamp::migrate {

namespace {

class InventoryHealth : public HealthChecker {
public:
    explicit InventoryHealth(const inventory::Inventory& inv) : inv_(inv) {}
    std::vector<HealthResult> check(const std::string& provider, int wait_s) override {
        return check_health(inv_, provider, wait_s);
    }

private:
    const inventory::Inventory& inv_;
};

class EngineProvisioner : public Provisioner {
public:
    EngineProvisioner(const inventory::Inventory& inv, const std::vector<playbook::Playbook>& books,
                      const MigrateOptions& o, engine::Pool& pool)
        : inv_(inv), books_(books), o_(o), pool_(pool) {}

    std::string apply(const std::string& provider) override {
        engine::Options eo;
        eo.forks = o_.forks;
        eo.verbosity = o_.verbosity;
        eo.interrupted = o_.interrupted;
        engine::Engine eng(inv_, pool_, eo, o_.progress);  // the migration's own connections
        auto rep = eng.run(plan::assign_roles(inv_, books_, provider, ""));
        if (rep.exit_code() != 0) {
            if (rep.interrupted) throw Interrupted();
            std::string why;
            for (const auto& h : rep.hosts)
                if (!h.error.empty()) why += (why.empty() ? "" : "; ") + h.host + ": " + h.error;
            throw Error("applying the roles on " + provider + " failed: " + why);
        }
        return std::to_string(rep.total(engine::Status::Changed)) + " changed, " +
               std::to_string(rep.total(engine::Status::Ok)) + " ok";
    }

private:
    const inventory::Inventory& inv_;
    const std::vector<playbook::Playbook>& books_;
    const MigrateOptions& o_;
    engine::Pool& pool_;
};

// Target hosts ordered through hosts/ (the same journaled operations as `decamp hosts create`).
class InventoryOrderer : public HostOrderer {
public:
    InventoryOrderer(inventory::Inventory& inv, Journal& state, const MigrateOptions& o, std::ostream& log)
        : inv_(inv), state_(state), o_(o), log_(log) {}
    std::vector<std::string> missing(const std::string& provider) override {
        return hosts::unordered(inv_, provider);
    }
    std::string order(const std::string& provider, const std::string& host) override {
        hosts::Ensure e;
        e.tofu = o_.tofu;
        e.progress = [this](const std::string& line) { log_ << "\n    " << line; };
        return hosts::ensure_hosts(inv_, provider, {host}, state_, e);
    }

private:
    inventory::Inventory& inv_;
    Journal& state_;
    const MigrateOptions& o_;
    std::ostream& log_;
};

}  // namespace

std::unique_ptr<dns::DnsBackend> make_dns_backend(const inventory::Inventory& inv) {
    if (!inv.dns) throw Error(inv.file.string() + " has no dns: block");
    dns::BackendConfig cfg;
    cfg.kind = inv.dns->kind;
    cfg.api = inv.dns->api;
    cfg.zone = inv.dns->zone;
    if (inv.dns->api_key.kind() == Value::Kind::Secret)
        cfg.api_key = resolve_secret(inv.dns->api_key.as_string(), inv.base_dir).reveal();
    cfg.server = inv.dns->server;
    cfg.tsig.name = inv.dns->tsig_name;
    cfg.tsig.algorithm = inv.dns->tsig_algorithm;
    if (inv.dns->tsig_secret.kind() == Value::Kind::Secret)
        cfg.tsig.secret = resolve_secret(inv.dns->tsig_secret.as_string(), inv.base_dir).reveal();
    return dns::make_backend(cfg);
}

int run_migrate(inventory::Inventory& inv, const std::vector<playbook::Playbook>& role_books,
                const MigrateOptions& opts, std::ostream& out, std::ostream& log, BackupSource* backups) {
    if (!opts.abort && !opts.finish && !inv.find_provider(opts.target))
        throw Error("provider \"" + opts.target + "\" is not defined in " + inv.file.string());
    auto state_path = opts.state_path.empty() ? default_state_path(inv.file) : opts.state_path;
    // A dry run neither creates the state nor takes its lock.
    std::unique_ptr<Journal> state = opts.dry_run ? nullptr : std::make_unique<Journal>(state_path);
    std::unique_ptr<engine::Pool> own_pool;
    engine::Pool* pool = opts.pool;
    if (!pool) {
        own_pool = std::make_unique<engine::Pool>(inv);
        pool = own_pool.get();
    }
    InventoryHealth health(inv);
    EngineProvisioner provisioner(inv, role_books, opts, *pool);
    std::unique_ptr<dns::DnsBackend> dns;
    Plugins p;
    p.state = state.get();
    p.pool = pool;
    p.health = &health;
    p.provisioner = &provisioner;
    std::unique_ptr<InventoryOrderer> orderer;
    if (state) {
        orderer = std::make_unique<InventoryOrderer>(inv, *state, opts, log);
        p.orderer = orderer.get();
    }
    if (inv.dns) {
        dns = make_dns_backend(inv);
        p.dns = dns.get();
        // Where to verify: `nameservers:`; else for rfc2136 the zone's NS (asked at the
        // primary), for powerdns the one `server:` it names.
        std::vector<std::string> fixed = inv.dns->nameservers;
        if (fixed.empty() && inv.dns->kind != "rfc2136" && !inv.dns->server.empty())
            fixed = {inv.dns->server};
        if (!fixed.empty() || inv.dns->kind == "rfc2136")
            p.dns_verify = [fixed, primary = inv.dns->server,
                            zone = inv.dns->zone](const std::vector<dns::RRset>& sets) {
                dns::VerifyOptions opts;
                opts.deadline_ms = 30000;
                return dns::verify_rrsets(fixed.empty() ? dns::zone_nameservers(primary, zone) : fixed, sets,
                                          opts);
            };
    }
    for (const auto& ds : inv.data) p.movers.push_back(data::make_mover(ds));
    p.backups = backups;
    std::unique_ptr<ClientProbe> probe = make_http_probe();
    p.probe = probe.get();
    std::unique_ptr<Front> front;
    if (inv.app && inv.app->front) {
        front = make_front(*inv.app->front);
        p.front = front.get();
    }
    return run_migration(inv, opts, p, out, log, state_path);
}

}  // namespace decamp::migrate
