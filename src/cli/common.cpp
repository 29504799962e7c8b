#include "cli/common.hpp"

#include <algorithm>
#include <ostream>

#include "engine/pool.hpp"
#include "engine/script.hpp"
#include "hosts/hosts.hpp"
#include "hosts/trust.hpp"
#include "plan/tags.hpp"
#include "plan/undefined.hpp"

namespace decamp::cli {

Session::Session() = default;
Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

const migrate::ActiveProvider& Session::active() {
    if (!active_) active_ = migrate::active_provider(inv, state_path);
    return *active_;
}

engine::Pool& Session::pool() {
    if (!pool_) pool_ = std::make_unique<engine::Pool>(inv);
    return *pool_;
}

namespace {
// Hosts an API provider made: addresses from the state, and the keys the trust store holds.
void from_state(inventory::Inventory& inv, const Args& args) {
    hosts::fill_addresses(inv, args.get("state"));
    hosts::attach_trust(inv, args.get("state"), args.has("trust-on-first-use"));
}

std::filesystem::path state_path_of(const Args& args, const inventory::Inventory& inv) {
    const std::string given = args.get("state");
    return given.empty() ? migrate::default_state_path(inv.file) : std::filesystem::path(given);
}
}  // namespace

Session load_inventory(const Args& args) {
    Session out;
    out.inv = inventory::load(inventory_path(args));
    from_state(out.inv, args);
    out.state_path = state_path_of(args, out.inv);
    return out;
}

std::string inventory_path(const Args& args) {
    std::string p = args.get("inventory", default_inventory());
    if (p.empty()) throw UsageError("no inventory given: pass -i FILE or set DECAMP_INVENTORY");
    return p;
}

Session load_all(const Args& args, const std::vector<std::string>& playbook_args) {
    Session out;
    std::vector<Diagnostic> diags;
    bool inventory_ok = true;
    try {
        out.inv = inventory::load(inventory_path(args));
        from_state(out.inv, args);
    } catch (const ConfigError& e) {
        diags = e.diagnostics();
        inventory_ok = false;
    }
    // Even with a broken inventory, the playbooks it names are checked in the same run.
    std::vector<std::filesystem::path> paths;
    for (const auto& r : out.inv.roles)
        for (const auto& p : r.playbooks)
            if (std::find(paths.begin(), paths.end(), p) == paths.end()) paths.push_back(p);
    bool all_read = true;  // every playbook parsed, so what each defines is known
    auto load_book = [&](const std::filesystem::path& p, std::vector<playbook::Playbook>& into) {
        auto book = playbook::load(p, diags);
        if (book) into.push_back(std::move(*book));
        else all_read = false;
    };
    for (const auto& p : paths) {
        if (!std::filesystem::is_regular_file(p)) continue;  // already reported
        load_book(p, out.role_books);
    }
    for (const auto& p : playbook_args) load_book(std::filesystem::absolute(p).lexically_normal(), out.given_books);
    // Variables nothing defines, reported with the other errors, but only when the inventory
    // and every playbook could be read: a file that could not would hide the vars or
    // register: that define them (no false alarms).
    if (inventory_ok && all_read) {
        std::vector<const playbook::Playbook*> books;
        for (const auto* set : {&out.role_books, &out.given_books})
            for (const auto& b : *set) books.push_back(&b);
        auto undefined = plan::undefined_variables(out.inv, books, engine::fact_names());
        diags.insert(diags.end(), undefined.begin(), undefined.end());
    }
    if (!diags.empty()) throw ConfigError(std::move(diags));
    out.state_path = state_path_of(args, out.inv);
    // --tags / --skip-tags (plan, apply): after every check, so a filtered-out task is still
    // validated.
    const plan::TagFilter tags = plan::parse_tag_filter(args.get("tags"), args.get("skip-tags"));
    for (auto* set : {&out.role_books, &out.given_books})
        for (auto& b : *set) plan::filter_tags(b, tags);
    return out;
}

Target resolve_target(const Args& args, Session& s, bool whole_stack, std::ostream& err) {
    Target t;
    t.active = s.active();
    t.scope = migrate::host_scope(s.inv, t.active, args.get("provider"), whole_stack);
    if (!t.scope.warning.empty()) {
        err << "decamp: warning: " << t.scope.warning << "\n";
    } else if (!t.scope.provider.empty() && t.scope.provider != t.active.name) {
        err << "decamp: working on provider " << t.scope.provider << " (--provider); the stack runs on "
            << t.active.describe() << "\n";
    } else {
        err << "decamp: the stack runs on " << t.active.describe() << "\n";
    }
    for (const auto& p : t.scope.excluded)
        err << "decamp: hosts of provider " << p << " are left out: the stack left it (pass --provider " << p
            << " to work on them)\n";
    return t;
}

std::vector<const inventory::Host*> select_in_target(const inventory::Inventory& inv, const Target& t,
                                                     const std::string& pattern) {
    const std::string scope = t.scope.provider.empty() ? "the providers the stack has not left"
                                                        : "provider " + t.scope.provider;
    auto hosts = inventory::select(inv, pattern, t.scope.hosts);
    if (!hosts.empty()) return hosts;
    if (t.scope.excluded.empty()) return inventory::select_some(inv, pattern, t.scope.hosts, scope);  // throws
    std::vector<const inventory::Host*> all;
    for (const auto& h : inv.hosts) all.push_back(&h);
    auto wide = inventory::select(inv, pattern, all);
    if (wide.empty()) return inventory::select_some(inv, pattern, t.scope.hosts, scope);  // throws
    const std::string& p = wide.front()->provider;
    throw UsageError("\"" + pattern + "\" selects only hosts of provider " + p + ", which the stack left (it runs on " +
                     t.active.name + "); pass --provider " + p + " to work on them");
}

Flag flag_inventory() { return {"inventory", 'i', true, "inventory file (default: $DECAMP_INVENTORY)"}; }
Flag flag_tags() {
    return {"tags", 't', true, "only tasks with one of these tags (a,b; always/never/tagged/untagged)"};
}
Flag flag_skip_tags() {
    return {"skip-tags", 0, true, "leave out tasks with one of these tags (a,b)"};
}
Flag flag_json() { return {"json", 0, false, "machine-readable JSON on stdout"}; }
Flag flag_limit() { return {"limit", 'l', true, "host pattern: names, roles, providers, globs, a,b, !x, &y"}; }
Flag flag_forks() { return {"forks", 'f', true, "hosts worked on at once (default 50)"}; }
Flag flag_provider() {
    return {"provider", 'p', true, "provider whose hosts to use (default: the one the stack runs on, per the state)"};
}
Flag flag_state() { return {"state", 0, true, "state file (default: .decamp/state.db beside the inventory)"}; }
Flag flag_tofu() {
    return {"trust-on-first-use", 0, false,
            "accept the SSH key of a provider's server that came with no key from the provider, "
            "unverified (recorded as tofu)"};
}
Flag flag_yes() { return {"yes", 'y', false, "do not ask for confirmation (needed without a terminal)"}; }

}  // namespace decamp::cli
