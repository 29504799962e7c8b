// What `decamp migrate` (not --dry-run) is about to do, shown before it asks for
// confirmation: from the inventory and the state alone, no host is contacted.
#include "data/mover.hpp"
#include "migrate/journal.hpp"
#include "migrate/migration.hpp"

namespace decamp::migrate {

namespace {

std::string host_list(const inventory::Inventory& inv, const std::string& provider, const std::string& role = "") {
    std::string out;
    for (const auto* h : inv.provider_hosts(provider)) {
        if (!role.empty() && !h->has_role(role)) continue;
        out += (out.empty() ? "" : ", ") + h->name + " (" + h->address + ")";
    }
    return out.empty() ? "-" : out;
}

std::string abort_summary(const MigrationRow& m) {
    return "decamp migrate --abort: undo migration " + m.id + " (" + m.source + " → " + m.target + ") before cutover\n" +
           "  remove the replication user and pg_hba line it added on " + m.source + "'s database\n" +
           "  put the DNS TTLs back to what they were\n" +
           "  " + m.source + " keeps serving as before; " + m.target + " keeps what provision installed\n";
}

}  // namespace

std::string migrate_summary(const inventory::Inventory& inv, const MigrateOptions& o) {
    auto path = o.state_path.empty() ? default_state_path(inv.file) : o.state_path;
    std::optional<MigrationRow> running;
    if (std::filesystem::exists(path)) running = Journal(path).unfinished();
    if (o.abort) return running ? abort_summary(*running) : "";
    if (o.finish) {
        std::optional<std::string> id;
        if (std::filesystem::exists(path)) id = Journal(path).get("bridge_open");
        if (!id) return "";
        return "decamp migrate --finish: take down the bridge of migration " + *id +
               (o.finish_now ? " now, without waiting for resolvers to drop the old addresses\n"
                             : " once resolvers can have dropped the old addresses (it waits until then)\n") +
               "  the source's fronts go back to their own app; the target's accept no bridged request\n";
    }

    auto active = active_provider(inv, path);
    std::string source = o.resume && running ? running->source : active.name;
    const std::string& target = o.target;
    if (source == target || !inv.find_provider(target)) return "";  // run_migrate refuses it and says why
    std::string out;
    if (o.resume && running)
        out += "decamp migrate --resume: continue migration " + running->id + " of " + inv.project + " from provider " +
               source + " to provider " + target + " where it stopped\n";
    else
        out += "decamp migrate: move " + inv.project + " from provider " + source + " to provider " + target +
               "\n  the stack runs on " + active.describe() + "\n";
    if (!o.from_backup) out += "  source " + source + ": " + host_list(inv, source) + "\n";
    out += "  target " + target + ": " + host_list(inv, target) + "\n";
    std::string to_order;
    for (const auto* h : inv.provider_hosts(target))
        if (h->address.empty()) to_order += (to_order.empty() ? "" : ", ") + h->name;
    if (!to_order.empty())
        out += "  0. provision first (ordering is slow): ORDER " + to_order + " on " + target +
               " (billed by the provider); addresses and host keys come from it\n";
    out += "  1. preflight: reach every host, check versions and disk" +
           std::string(inv.dns ? ", lower the DNS TTLs to " + std::to_string(migration_ttl(inv, o)) + "s" : "") + "\n";
    out += "  2. provision: apply every role's playbooks on " + target + "\n";
    out += "  3. " + std::string(o.from_backup ? "restore" : "replicate") + ":";
    for (const auto& ds : inv.data) {
        auto m = data::make_mover(ds);
        out += " " + m->label() + " (" +
               (o.from_backup ? "from backup " + o.backup_id + " to " + host_list(inv, target, ds.role)
                              : m->describe_move(inv, source, target)) +
               ");";
    }
    if (inv.data.empty()) out += " no data sets;";
    out.back() = '\n';
    out += "  4. verify: health checks on " + target + "\n";
    out += "  5. cutover:";
    if (inv.app && !o.from_backup) {
        std::string services;
        for (const auto& s : inv.app->services) services += (services.empty() ? "" : ", ") + s;
        out += " stop " + services + " on " + source + " (writes stop until the app runs on " + target + ");";
    }
    if (!o.from_backup)
        for (const auto& ds : inv.data)
            if (auto f = data::make_mover(ds)->describe_fence(source); !f.empty()) out += " " + f + ";";
    out += " promote " + target + "'s data; start the app on " + target + ";";
    if (inv.dns)
        for (const auto& r : inv.dns->records) out += " switch DNS " + r.name + " to " + target + "'s " + r.role + " hosts;";
    out.back() = '\n';
    out += "  afterwards the stack runs on " + target + "; " + source + " is left (apply touches it only with --provider " +
           source + ")\n";
    if (!o.resume) out += "  (decamp migrate --to " + target + " --dry-run checks every host, the data sizes and DNS first)\n";
    return out;
}

}  // namespace decamp::migrate
