// decamp hosts list|create|reinstall|rescue|power: the hosts of an API provider, plan first,
// then one journaled operation per host (hosts/hosts.hpp). Flags and printing only.
#include "hosts/hosts.hpp"

#include <atomic>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/common.hpp"
#include "cli/confirm.hpp"
#include "cli/interrupt.hpp"
#include "migrate/journal.hpp"
#include "provider/provider.hpp"
#include "util/secret.hpp"

namespace decamp::cli {

int run_hosts(const Args& args, std::istream& in, std::ostream& out, std::ostream& err, bool terminal);

namespace {

const std::atomic<bool>* g_stop = nullptr;  // Ctrl-C: stop before the next host

const char* kUsage =
    "decamp hosts list|create|reinstall|rescue|power [on|off|shutdown|reboot|reset] --provider P "
    "[-i FILE] [--limit PATTERN] [--json] [--yes]";

}  // namespace

int run_hosts(const Args& args, std::istream& in, std::ostream& out, std::ostream& err, bool terminal) {
    if (args.positional.empty()) throw UsageError(std::string("usage: ") + kUsage);
    auto action = hosts::parse_action(args.positional[0]);
    if (!action)
        throw UsageError("unknown hosts action \"" + args.positional[0] +
                         "\"; expected list, create, reinstall, rescue or power");
    std::optional<provider::PowerAction> power;
    size_t expected_words = 1;
    if (*action == hosts::Action::Power) {
        if (args.positional.size() < 2 || !(power = provider::parse_power(args.positional[1])))
            throw UsageError("hosts power needs one of: on, off, shutdown, reboot, reset");
        expected_words = 2;
    }
    if (args.positional.size() > expected_words)
        throw UsageError("unexpected argument \"" + args.positional[expected_words] + "\"; usage: " + kUsage);
    std::string prov = args.get("provider");
    if (prov.empty()) throw UsageError("hosts needs --provider P (the provider whose hosts to work on)");
    bool json = args.has("json");

    inventory::Inventory inv = inventory::load(inventory_path(args));
    if (!inv.find_provider(prov))
        throw UsageError("provider \"" + prov + "\" is not defined in " + inv.file.string());
    auto all = inv.provider_hosts(prov);
    auto selected = args.get("limit").empty()
                        ? all
                        : inventory::select_some(inv, args.get("limit"), all, "provider " + prov);
    std::vector<std::string> names;
    names.reserve(selected.size());
    for (const auto* h : selected) names.push_back(h->name);
    std::string key;
    if (*action == hosts::Action::Create || *action == hosts::Action::Reinstall ||
        *action == hosts::Action::Rescue)
        key = hosts::public_key_of(inv);  // before anything is asked or ordered

    auto p = inventory::open_provider(inv, prov);
    hosts::Plan plan = hosts::make_plan(*p, *action, names, power);

    std::string state =
        args.get("state").empty() ? migrate::default_state_path(inv.file).string() : args.get("state");
    if (*action == hosts::Action::List) {
        // Read-only: a state that does not exist yet is not created.
        if (std::filesystem::exists(state)) {
            migrate::Journal journal(state);
            hosts::Store store(journal);
            for (auto& item : plan.items)
                if (auto r = store.get(prov, item.host); r && !r->id.empty() && !item.server)
                    item.what +=
                        " (the state remembers id " + r->id + ", " + r->ipv4 + ": gone at the provider)";
                else if (r && !r->host_key.empty() && item.server && r->id == item.server->id)
                    item.what += "; host key " + r->key_source;
        }
        if (json)
            out << hosts::to_json(plan, {}) << "\n";
        else
            out << "provider " << prov << " (" << p->kind()
                << "; can: " << provider::describe(p->capabilities()) << "):\n"
                << redactor().mask(hosts::render_plan(plan));
        return kExitOk;
    }
    migrate::Journal journal(state);
    hosts::Store store(journal);
    hosts::Context ctx;
    ctx.authorized_key = key;
    ctx.known_hosts = inv.ssh.known_hosts;
    for (const auto* h : selected) ctx.ports[h->name] = h->port;
    ctx.progress = [&](const std::string& line) { err << line << "\n"; };
    ctx.stop = [] { return g_stop && g_stop->load(); };

    std::string title =
        std::string("hosts ") + hosts::action_name(*action) + " on provider " + prov + " (" + p->kind() + ")";
    if (!json) err << title << ":\n" << redactor().mask(hosts::render_plan(plan));
    if (plan.todo() == 0) {
        journal.lock();
        auto outcomes = hosts::run_plan(*p, plan, store, ctx);  // adopts servers into the state
        if (json)
            out << hosts::to_json(plan, outcomes) << "\n";
        else
            err << (*action == hosts::Action::Create ? "nothing to order: every host exists\n"
                                                     : "nothing to do\n");
        return kExitOk;
    }
    if (!confirm(args, "hosts " + std::string(hosts::action_name(*action)),
                 title + ": " + std::to_string(plan.todo()) + " host(s) as listed above", terminal, in, err))
        return kExitUsage;

    journal.lock();
    auto outcomes = hosts::run_plan(*p, plan, store, ctx);
    int failed = 0;
    for (const auto& o : outcomes) failed += !o.ok;
    if (json)
        out << hosts::to_json(plan, outcomes) << "\n";
    else
        err << std::to_string(plan.todo() - failed) << " of " << plan.todo() << " done"
            << (failed ? ", " + std::to_string(failed) + " failed (run again: what is done is not redone)"
                       : "")
            << "\n";
    if (ctx.stop()) {
        err << "interrupted: hosts not started were left alone; run the same command again to finish\n";
        return kExitInterrupted;
    }
    return failed ? kExitHostFailed : kExitOk;
}

int cmd_hosts(const Args& args) {
    g_stop = install_interrupt_handler(SecondSignal::Exit).stop;
    return run_hosts(args, std::cin, std::cout, std::cerr, on_terminal());
}

}  // namespace decamp::cli
