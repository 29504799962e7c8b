// decamp apply / plan (check mode) / run / facts: the engine over real hosts.
#include <csignal>
#include <cstring>
#include <set>
#include <iostream>

#include "cli/common.hpp"
#include "cli/progress.hpp"
#include "engine/engine.hpp"
#include "engine/script.hpp"
#include "util/secret.hpp"

namespace decamp::cli {

namespace {

std::atomic<bool> g_interrupted{false};

void on_sigint(int) {
    // First Ctrl-C: finish the running batch on each host, then stop. Second: default action.
    g_interrupted = true;
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
}

engine::Options engine_options(const Args& args, bool check) {
    engine::Options o;
    o.check = check;
    o.diff = args.has("diff") || check;
    o.verbosity = args.verbosity;
    o.log = [](const std::string& line) { std::cerr << line << "\n"; };
    o.interrupted = &g_interrupted;
    if (auto f = args.get("forks"); !f.empty()) {
        try {
            o.forks = std::stoi(f);
        } catch (...) {
            throw UsageError("--forks expects a number");
        }
        if (o.forks < 1) throw UsageError("--forks expects a number of at least 1");
    }
    return o;
}

int finish(const Args& args, const engine::Report& rep) {
    if (args.has("json")) std::cout << rep.to_json() << "\n";
    else std::cout << rep.recap();
    return rep.exit_code();
}

std::vector<plan::Assignment> assignments(const Args& args, const Loaded& l) {
    std::string provider = args.get("provider", l.given_books.empty() ? l.inv.active : "");
    if (!args.get("provider").empty() && !l.inv.find_provider(args.get("provider")))
        throw UsageError("provider \"" + args.get("provider") + "\" is not defined in the inventory");
    return l.given_books.empty() ? plan::assign_roles(l.inv, l.role_books, provider, args.get("limit"))
                                 : plan::assign_plays(l.inv, l.given_books, provider, args.get("limit"));
}

int run_plays(const Args& args, bool check) {
    Loaded l = load_all(args, args.positional);
    auto plays = assignments(args, l);
    size_t hosts = 0;
    {
        std::set<const inventory::Host*> seen;
        for (const auto& a : plays) seen.insert(a.hosts.begin(), a.hosts.end());
        hosts = seen.size();
    }
    if (hosts == 0)
        throw UsageError("no host matches (provider " + args.get("provider", l.inv.active) +
                         (args.get("limit").empty() ? "" : ", limit " + args.get("limit")) + ")");
    auto connector = engine::make_connector(l.inv);
    std::signal(SIGINT, on_sigint);
    std::signal(SIGTERM, on_sigint);
    engine::Report rep;
    {
        auto progress = make_progress(args.has("quiet"));
        engine::Engine eng(l.inv, *connector, engine_options(args, check), progress.get());
        rep = eng.run(plays);
    }
    return finish(args, rep);
}

}  // namespace

int cmd_apply(const Args& args) { return run_plays(args, false); }
int cmd_plan_check(const Args& args) { return run_plays(args, true); }

int cmd_run(const Args& args) {
    if (args.positional.size() != 1 || args.rest.empty())
        throw UsageError("usage: decamp run PATTERN -- COMMAND [ARGS...]");
    inventory::Inventory inv = inventory::load(inventory_path(args));
    std::vector<const inventory::Host*> all;
    for (const auto& h : inv.hosts) all.push_back(&h);
    auto hosts = inventory::select_some(inv, args.positional[0], all, "the inventory");
    std::string command;
    for (const auto& w : args.rest) command += (command.empty() ? "" : " ") + w;
    auto connector = engine::make_connector(inv);
    std::signal(SIGINT, on_sigint);
    engine::Report rep;
    {
        auto progress = make_progress(true);
        engine::Engine eng(inv, *connector, engine_options(args, false), progress.get());
        rep = eng.run_command(hosts, command, args.has("become"));
    }
    if (args.has("json")) {
        std::cout << rep.to_json() << "\n";
    } else {
        for (const auto& h : rep.hosts) {
            for (const auto& s : h.steps) {
                std::cout << "== " << h.host << " (" << engine::status_name(s.status) << ", rc=" << s.rc << ")\n";
                std::cout << s.stdout_tail;
                if (!s.stdout_tail.empty() && s.stdout_tail.back() != '\n') std::cout << "\n";
                if (!s.stderr_tail.empty()) std::cerr << s.stderr_tail << (s.stderr_tail.back() == '\n' ? "" : "\n");
                if (s.status == engine::Status::Unreachable) std::cout << s.message << "\n";
            }
        }
    }
    return rep.exit_code();
}

int cmd_facts(const Args& args) {
    if (args.positional.empty()) throw UsageError("usage: decamp facts HOST|PATTERN");
    inventory::Inventory inv = inventory::load(inventory_path(args));
    std::vector<const inventory::Host*> all;
    for (const auto& h : inv.hosts) all.push_back(&h);
    auto hosts = inventory::select_some(inv, args.positional[0], all, "the inventory");
    auto connector = engine::make_connector(inv);
    int code = 0;
    std::string json = "{";
    for (const auto* h : hosts) {
        try {
            auto t = connector->connect(*h);
            auto r = t->run(engine::facts_command());
            Value f = engine::parse_facts(r.out);
            t->close();
            if (args.has("json")) {
                json += (json.size() > 1 ? "," : "") + json_escape(h->name) + ":" + f.to_json();
            } else {
                std::cout << h->name << ":\n";
                for (const auto& [k, v] : f.entries()) std::cout << "  " << k << ": " << v.to_text() << "\n";
            }
        } catch (const transport::TransportError& e) {
            std::cerr << h->name << ": " << e.what() << "\n";
            code = e.kind() == transport::TransportError::Kind::HostKey ? kExitHostKey : kExitUnreachable;
        }
    }
    if (args.has("json")) std::cout << json << "}\n";
    return code;
}

}  // namespace decamp::cli
