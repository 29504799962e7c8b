// decamp apply / plan (check mode) / run / facts: the engine over real hosts.
#include <cstring>
#include <iostream>
#include <set>

#include "cli/common.hpp"
#include "cli/interrupt.hpp"
#include "cli/progress.hpp"
#include "engine/engine.hpp"
#include "engine/pool.hpp"
#include "engine/script.hpp"
#include "util/json.hpp"
#include "util/secret.hpp"

namespace decamp::cli {

namespace {

engine::Options engine_options(const Args& args, bool check) {
    engine::Options o;
    o.check = check;
    o.diff = args.has("diff") || check;
    o.verbosity = args.verbosity;
    o.log = [](const std::string& line) { std::cerr << line << "\n"; };
    Interrupt in = install_interrupt_handler(SecondSignal::KillSteps);
    o.interrupted = in.stop;
    o.kill_steps = in.kill_steps;
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

// Without playbook files, the roles of the provider the stack runs on (or --provider P);
// with files, their plays within every provider the stack has not left.
std::vector<plan::Assignment> assignments(const Args& args, const Session& l, const Target& t) {
    return l.given_books.empty() ? plan::assign_roles(l.inv, l.role_books, t.scope.provider, args.get("limit"))
                                 : plan::assign_plays(l.inv, l.given_books, t.scope.hosts, args.get("limit"));
}

int run_plays(const Args& args, bool check) {
    Session l = load_all(args, args.positional);
    Target target = resolve_target(args, l, l.given_books.empty(), std::cerr);
    auto plays = assignments(args, l, target);
    size_t hosts = 0;
    {
        std::set<const inventory::Host*> seen;
        for (const auto& a : plays) seen.insert(a.hosts.begin(), a.hosts.end());
        hosts = seen.size();
    }
    if (hosts == 0) {
        std::cerr << "decamp: no host matches ("
                  << (target.scope.provider.empty() ? "every provider the stack has not left"
                                                    : "provider " + target.scope.provider)
                  << (args.get("limit").empty() ? "" : ", limit " + args.get("limit")) << ")\n";
        return kExitUsage;
    }
    engine::Report rep;
    {
        auto progress = make_progress(args.has("quiet"));
        engine::Engine eng(l.inv, l.pool(), engine_options(args, check), progress.get());
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
    Session session = load_inventory(args);
    auto hosts =
        select_in_target(session.inv, resolve_target(args, session, false, std::cerr), args.positional[0]);
    std::string command;
    for (const auto& w : args.rest) command += (command.empty() ? "" : " ") + w;
    engine::Report rep;
    {
        auto progress = make_progress(true);
        engine::Engine eng(session.inv, session.pool(), engine_options(args, false), progress.get());
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
    Session session = load_inventory(args);
    auto hosts =
        select_in_target(session.inv, resolve_target(args, session, false, std::cerr), args.positional[0]);
    int code = 0;
    json::Value all = json::Value::Object{};
    for (const auto* h : hosts) {
        try {
            auto r = session.pool().get(*h).run(engine::facts_command());
            Value f = engine::parse_facts(r.out);
            if (args.has("json")) {
                all.set(h->name, f.to_json_value());
            } else {
                std::cout << h->name << ":\n";
                for (const auto& [k, v] : f.entries()) std::cout << "  " << k << ": " << v.to_text() << "\n";
            }
        } catch (const transport::TransportError& e) {
            std::cerr << h->name << ": " << e.what() << "\n";
            code = e.kind() == transport::TransportError::Kind::HostKey ? kExitHostKey : kExitUnreachable;
        }
    }
    if (args.has("json")) std::cout << json::dump(all) << "\n";
    return code;
}

}  // namespace decamp::cli
