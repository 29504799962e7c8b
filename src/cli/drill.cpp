// decamp drill --to P.
#include "backup/drill.hpp"

#include <iostream>

#include "cli/common.hpp"
#include "cli/confirm.hpp"
#include "cli/interrupt.hpp"
#include "cli/progress.hpp"
#include "engine/pool.hpp"

namespace decamp::cli {

namespace {
// What the drill is about to do, for the confirmation question.
std::string drill_summary(const inventory::Inventory& inv, const backup::DrillOptions& o) {
    std::string hosts;
    for (const auto* h : inv.provider_hosts(o.target)) hosts += (hosts.empty() ? "" : ", ") + h->name + " (" + h->address + ")";
    std::string out = "decamp drill: rebuild " + inv.project + " on provider " + o.target + " from backup " + o.backup_id +
                      "\n  hosts: " + (hosts.empty() ? "-" : hosts) + "\n" +
                      "  apply every role's playbooks there, restore every data set into them, start the app, check health\n" +
                      "  and data against the backup's manifest; production and DNS are not touched\n";
    out += o.keep ? "  the rebuilt stack is left running (--keep)\n"
                  : "  afterwards the app is stopped and the restored data removed on " + o.target + "'s hosts\n";
    return out;
}

}  // namespace

int cmd_drill(const Args& args) {
    backup::DrillOptions o;
    o.target = args.get("to");
    if (o.target.empty()) throw UsageError("drill needs --to PROVIDER (a spare provider)");
    o.backup_id = args.get("backup", "latest");
    o.keep = args.has("keep");
    o.json = args.has("json");
    o.verbosity = args.verbosity;
    Session l = load_all(args, {});
    o.state_path = l.state_path;
    if (!l.inv.backup) throw Error(l.inv.file.string() + ": no backup: section; a drill restores from backups");
    if (!confirm(args, "drill", drill_summary(l.inv, o))) return kExitUsage;
    o.interrupted = install_interrupt_handler(SecondSignal::Exit).stop;
    auto progress = make_progress(true);
    o.progress = progress.get();
    o.pool = &l.pool();
    o.tofu = args.has("trust-on-first-use");
    return backup::run_drill(l.inv, l.role_books, o, std::cout, std::cerr);
}

}  // namespace decamp::cli
