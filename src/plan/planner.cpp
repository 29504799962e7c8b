#include "plan/planner.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "modules/args.hpp"
#include "playbook/task_file.hpp"

namespace decamp::plan {

using inventory::Host;
using inventory::Inventory;

namespace {

std::vector<const Host*> provider_scope(const Inventory& inv, const std::string& provider) {
    if (provider.empty()) {
        std::vector<const Host*> all;
        for (const auto& h : inv.hosts) all.push_back(&h);
        return all;
    }
    if (!inv.find_provider(provider))
        throw Fatal(kExitUsage, "provider \"" + provider + "\" is not defined in " + inv.file.string());
    return inv.provider_hosts(provider);
}

std::string limit_scope(const std::string& provider) {
    return provider.empty() ? "the inventory" : "provider " + provider;
}

// Whether a rendered value still holds {{ }} (offline: a value unknown without the host).
bool unresolved(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::String:
            return tmpl::has_template(v.as_string());
        case Value::Kind::List:
            return std::any_of(v.items().begin(), v.items().end(), unresolved);
        case Value::Kind::Map:
            return std::any_of(v.entries().begin(), v.entries().end(),
                               [](const auto& e) { return unresolved(e.second); });
        default:
            return false;
    }
}

Error task_error(const playbook::Task& task, const std::string& what) {
    return Error(task.mark.str() + ": task \"" + task.display_name() + "\": " + what);
}

}  // namespace

std::vector<Assignment> assign_roles(const Inventory& inv, const std::vector<playbook::Playbook>& books,
                                     const std::string& provider, const std::string& limit) {
    auto scope = provider_scope(inv, provider);
    if (!limit.empty()) scope = inventory::select_some(inv, limit, scope, limit_scope(provider));
    std::vector<Assignment> out;
    for (const auto& book : books) {
        // Hosts that have at least one role listing this playbook.
        std::vector<const Host*> eligible;
        for (const Host* h : scope) {
            for (const auto& r : h->roles) {
                const auto* role = inv.find_role(r);
                if (role && std::find(role->playbooks.begin(), role->playbooks.end(), book.path) != role->playbooks.end()) {
                    eligible.push_back(h);
                    break;
                }
            }
        }
        for (const auto& play : book.plays) {
            Assignment a{&book, &play, {}};
            if (!eligible.empty()) a.hosts = inventory::select(inv, play.hosts, eligible);
            out.push_back(std::move(a));
        }
    }
    return out;
}

std::vector<Assignment> assign_plays(const Inventory& inv, const std::vector<playbook::Playbook>& books,
                                     const std::string& provider, const std::string& limit) {
    return assign_plays(inv, books, provider_scope(inv, provider), limit);
}

std::vector<Assignment> assign_plays(const Inventory& inv, const std::vector<playbook::Playbook>& books,
                                     const std::vector<const Host*>& within, const std::string& limit) {
    auto scope = within;
    if (!limit.empty()) scope = inventory::select_some(inv, limit, scope, "the hosts in scope");
    std::vector<Assignment> out;
    for (const auto& book : books)
        for (const auto& play : book.plays) {
            Assignment a{&book, &play, {}};
            if (!scope.empty()) {
                try {
                    a.hosts = inventory::select(inv, play.hosts, scope);
                } catch (const inventory::PatternError& e) {
                    throw inventory::PatternError(play.mark.str() + ": hosts: " + e.what());
                }
            }
            out.push_back(std::move(a));
        }
    return out;
}

std::string read_task_file(const playbook::Task& task, const std::string& src) {
    const std::filesystem::path p = playbook::resolve_task_file(task, src);
    try {
        return playbook::read_task_file(p);
    } catch (const std::runtime_error& e) {
        throw task_error(task, "cannot read " + src + " (" + p.string() + "): " + e.what());
    }
}

namespace {

std::vector<Step> plan_steps(const playbook::Task& task, const HostVars& vars, const tmpl::Options& opts) {
    std::vector<Value> items;
    bool looped = task.loop.has_value();
    if (looped) {
        auto s = vars.scope(&task.vars, nullptr, task.defaults.get());
        Value l;
        try {
            l = tmpl::render_value(*task.loop, s, opts);
        } catch (const std::exception& e) {
            throw task_error(task, std::string("loop: ") + e.what());
        }
        if (l.is_list()) items = l.items();
        else if (l.is_string() && opts.keep_undefined) items.push_back(l);  // unknown offline
        else throw task_error(task, "loop: expected a list, got " + l.to_text());
    } else {
        items.push_back(Value());
    }

    std::vector<Step> steps;
    for (const auto& it : items) {
        Value item_layer = Value::map();
        if (looped) item_layer.set("item", it);
        auto scope = vars.scope(&task.vars, looped ? &item_layer : nullptr, task.defaults.get());
        Step st;
        st.task = &task;
        if (looped) st.item = it;
        // A block's rescue runs only after a failure in the block: offline a conditional step,
        // on a host not run (decamp stops a host at its first failure).
        if (task.rescue) {
            st.name = task.display_name();
            st.conditional = opts.keep_undefined;
            st.skipped = !opts.keep_undefined;
            if (st.skipped) {
                steps.push_back(std::move(st));
                continue;
            }
        }
        try {
            st.name = task.name.empty() ? task.display_name() : tmpl::render(task.name, scope, opts);
            if (!task.when.empty()) {
                std::optional<bool> decided;
                try {
                    decided = tmpl::try_condition(task.when, scope, opts);
                } catch (const tmpl::TemplateError&) {
                    if (task.unsupported.empty())
                        throw;  // else: the keyword is the reason (an item it would give)
                }
                if (!decided) {
                    if (!opts.keep_undefined && task.unsupported.empty())
                        (void)tmpl::evaluate_condition(task.when, scope, opts);  // throws, naming it
                    st.conditional = true;
                } else if (!*decided) {
                    st.skipped = true;
                    steps.push_back(std::move(st));
                    continue;
                }
            }
            // An Ansible keyword decamp does not run: an error only where the task runs.
            if (!task.unsupported.empty()) {
                if (!st.conditional || !opts.keep_undefined)
                    throw task_error(task, "keyword " + task.unsupported +
                                               " is not supported by decamp yet (this task would run here)");
                st.action.summary = "keyword " + task.unsupported + " is not supported by decamp yet";
                steps.push_back(std::move(st));
                continue;
            }
            st.args = tmpl::render_value(task.args, scope, opts);
            modules::require_no_nul(st.args);  // a rendered value may bring one
            if (task.module == "copy" || task.module == "template") {
                if (const Value* src = st.args.get("src")) {
                    if (st.args.get("content"))
                        throw task_error(task, "give either src or content, not both");
                    // A rendered template keeps the provenance of what went into it: content
                    // derived from a secret is never shown by -v or in a report.
                    Value text = Value::string(read_task_file(task, src->to_text()));
                    if (task.module == "template") {
                        try {
                            text = tmpl::render_text(text.as_string(), scope, opts);
                        } catch (const tmpl::TemplateError& e) {
                            throw task_error(task, "template " + src->to_text() + ": " + e.what());
                        }
                    }
                    Value args = Value::map();
                    for (const auto& [k, v] : st.args.entries())
                        if (k != "src") args.set(k, v);
                    args.set("content", std::move(text));
                    args.set("_src", *src);
                    st.args = args;
                }
            }
            if (task.module != "debug" && task.module != "set_fact") {
                const modules::Module* mod = modules::find(task.module);
                // Not an argument error (those fail the load) but what this host lacks (a yum
                // argument of `package` where apt runs): like a module decamp lacks, an error
                // only where the task runs.
                auto plan_module = [&] {
                    try {
                        st.action = mod->plan(st.args);
                    } catch (const modules::ArgError&) {
                        throw;
                    } catch (const Error& e) {
                        if (!st.conditional) throw task_error(task, e.what());
                        st.action.summary = e.what();
                    }
                };
                // An Ansible module decamp does not implement: an error only where it runs.
                if (!mod && st.conditional)
                    st.action.summary = "module " + task.module + " is not implemented by decamp";
                else if (!mod)
                    throw task_error(task, "module " + task.module +
                                               " is not implemented by decamp (it is an Ansible module; this "
                                               "task would run here)");
                else if (opts.keep_undefined && unresolved(st.args)) {
                    // Offline, an argument still holds what only a host can tell (a fact, a
                    // registered result, a set_fact of one): the module cannot judge it yet.
                    try {
                        plan_module();
                    } catch (const modules::ArgError&) {
                        st.action.summary = task.module + " with arguments known only on the host";
                    }
                } else
                    plan_module();
            }
        } catch (const modules::ArgError& e) {
            throw task_error(task, (e.key().empty() ? "" : e.key() + ": ") + e.what());
        } catch (const tmpl::TemplateError& e) {
            throw task_error(task, e.what());
        }
        steps.push_back(std::move(st));
    }
    return steps;
}

}  // namespace

Planned plan_task(const playbook::Task& task, const HostVars& vars, const tmpl::Options& opts) {
    Planned out;
    vars.reset_wanted();
    try {
        out.steps = plan_steps(task, vars, opts);
    } catch (const std::exception&) {
        if (!vars.facts_wanted()) throw;  // an error of the task itself
    }
    // Facts named before they were gathered: whatever was rendered (an error, or a default()
    // standing in for them) is not the answer.
    if (vars.facts_wanted()) {
        out.steps.clear();
        out.needs_facts = true;
    }
    return out;
}

}  // namespace decamp::plan
