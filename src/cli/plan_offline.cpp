// decamp plan --offline: per host, the ordered steps it would run, from the inventory and
// playbooks alone (no host is contacted; what depends on facts stays as {{ … }}).
#include <iostream>
#include <map>

#include "cli/common.hpp"
#include "plan/planner.hpp"
#include "util/json.hpp"
#include "util/secret.hpp"

namespace decamp::cli {

namespace {

Value display_args(const Value& args) {
    Value out = Value::map();
    for (const auto& [k, v] : args.entries()) {
        if (k == "_src") continue;
        if (k == "content") {
            out.set(k, Value::string("<" + std::to_string(v.to_text().size()) + " bytes>"));
            continue;
        }
        out.set(k, v);
    }
    return out;
}

std::string args_line(const Value& args) {
    std::string out;
    for (const auto& [k, v] : args.entries()) {
        std::string val = v.is_scalar() || v.is_null() ? v.to_text() : v.to_json();
        if (val.size() > 80) val = val.substr(0, 77) + "...";
        if (!out.empty()) out += ' ';
        out += k;
        out += '=';
        out += val;
    }
    return out;
}

struct HostSteps {
    std::vector<std::string> lines;
    json::Value steps = json::Value::Array{};
    size_t count = 0;
};

}  // namespace

int cmd_plan_offline(const Args& args, Session& l) {
    bool as_json = args.has("json");
    Target target = resolve_target(args, l, l.given_books.empty(), std::cerr);
    const std::string& provider = target.scope.provider;
    auto assignments = l.given_books.empty()
                           ? plan::assign_roles(l.inv, l.role_books, provider, args.get("limit"))
                           : plan::assign_plays(l.inv, l.given_books, target.scope.hosts, args.get("limit"));
    tmpl::Options opts;
    opts.keep_undefined = true;
    opts.reveal_secrets = false;
    opts.secret_base_dir = l.inv.base_dir;

    std::vector<const inventory::Host*> order;
    std::map<const inventory::Host*, HostSteps> per_host;
    for (const auto& a : assignments) {
        for (const auto* h : a.hosts) {
            if (!per_host.count(h)) order.push_back(h);
            auto& hs = per_host[h];
            plan::HostVars vars(l.inv, *h);
            vars.set_play(*a.play);
            std::string play_label = (a.play->name.empty() ? a.play->hosts : a.play->name);
            auto emit = [&](const playbook::Task& t, bool handler) {
                auto steps = plan::plan_task(t, vars, opts).steps;  // offline: facts stay unknown
                for (const auto& s : steps) {
                    if (s.skipped) continue;
                    ++hs.count;
                    std::string when = t.when.empty() ? "" : t.when;
                    std::string text = "  " + std::to_string(hs.count) + ". [" + play_label + "] " + t.module + ": " + s.name;
                    if (handler) text += "  (handler, when notified)";
                    if (s.conditional) text += "  (when: " + when + ")";
                    text += "\n     " + args_line(display_args(s.args));
                    if (!s.action.summary.empty()) text += "\n     → " + s.action.summary;
                    hs.lines.push_back(text);
                    json::Value step;
                    step.set("play", play_label)
                        .set("task", s.name)
                        .set("module", t.module)
                        .set("args", display_args(s.args).to_json_value())
                        .set("summary", s.action.summary)
                        .set("handler", handler)
                        .set("conditional", s.conditional)
                        .set("when", when)
                        .set("source", t.mark.str());
                    hs.steps.push(std::move(step));
                }
            };
            for (const auto& t : a.play->tasks) emit(t, false);
            for (const auto& t : a.play->handlers) emit(t, true);
        }
    }
    if (order.empty() && !args.get("limit").empty())
        throw UsageError("no host matches (provider " + provider + ", limit " + args.get("limit") + ")");
    Redactor& r = redactor();
    if (as_json) {
        json::Value hosts = json::Value::Array{};
        for (const auto* h : order) {
            json::Value hv;
            hv.set("name", h->name)
                .set("address", h->address)
                .set("provider", h->provider)
                .set("steps", std::move(per_host[h].steps));
            hosts.push(std::move(hv));
        }
        json::Value out;
        out.set("provider", provider)
            .set("active", target.active.name)
            .set("active_from", target.active.from_state ? "state" : "inventory")
            .set("hosts", std::move(hosts));
        std::cout << r.mask(json::dump(out) + "\n");
        return kExitOk;
    }
    size_t total = 0;
    for (const auto* h : order) {
        std::cout << r.mask(h->name + " (" + h->address + ", provider " + h->provider + ") — " +
                            std::to_string(per_host[h].count) + " steps\n");
        for (const auto& line : per_host[h].lines) std::cout << r.mask(line) << "\n";
        total += per_host[h].count;
    }
    std::cout << "plan (offline): " << order.size() << " hosts, " << total << " steps on "
              << (provider.empty() ? "every provider the stack has not left; it runs on " + target.active.describe()
                  : provider == target.active.name ? target.active.describe()
                                                   : "provider " + provider + " (--provider; the stack runs on " +
                                                         target.active.name + ")")
              << "; nothing was contacted\n";
    return kExitOk;
}

}  // namespace decamp::cli
