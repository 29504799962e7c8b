#include "migrate/active.hpp"

#include <algorithm>
#include <ctime>

namespace decamp::migrate {

namespace {

// The state's path as the user would type it: relative when it lies under the working
// directory, absolute otherwise.
std::string shown_path(const std::filesystem::path& p) {
    std::error_code ec;
    auto rel = std::filesystem::proximate(p, ec);
    if (ec || rel.empty() || rel.native().rfind("..", 0) == 0) return p.string();
    return rel.string();
}

std::string undefined_message(const ActiveProvider& a, const inventory::Inventory& inv) {
    return "the state " + shown_path(a.state_path) + " says the stack runs on provider \"" + a.name + "\", which " +
           inv.file.string() + " does not define; put that provider back in the inventory, or pass --provider P to " +
           "work on another one knowingly";
}

}  // namespace

std::string utc_format(double unix_time, const char* format) {
    std::time_t t = static_cast<std::time_t>(unix_time);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    if (std::strftime(buf, sizeof buf, format, &tm) == 0) return "";
    return buf;
}

std::string utc_minute(double unix_time) {
    return utc_format(unix_time, "%Y-%m-%d %H:%M UTC");
}

bool ActiveProvider::was_left(const std::string& provider) const {
    return std::find(left.begin(), left.end(), provider) != left.end();
}

std::string ActiveProvider::describe() const {
    std::string out = "provider " + name + " (";
    if (from_state) {
        out += "from state " + shown_path(state_path);
        if (moved_by) {
            double when = moved_by->finished > 0 ? moved_by->finished : moved_by->started;
            out += ", migrated " + utc_minute(when) + " from " + moved_by->source + " by migration " + moved_by->id;
        }
    } else {
        out += "from the inventory's active:; no migration recorded in " + shown_path(state_path);
    }
    if (running)
        out += "; migration " + running->id + " " + running->source + " → " + running->target + " is in progress";
    return out + ")";
}

std::string ActiveProvider::left_warning(const std::string& provider) const {
    if (!was_left(provider)) return "";
    return "provider " + provider + " was left: the stack runs on " + describe() + "; working on " + provider +
           " only because --provider " + provider + " asks for it";
}

ActiveProvider resolve_active(const inventory::Inventory& inv, const StateRecord& state,
                              const std::filesystem::path& state_path) {
    ActiveProvider a;
    a.state_path = state_path;
    a.name = inv.active;
    if (state.active && !state.active->empty()) {
        a.name = *state.active;
        a.from_state = true;
    }
    for (const auto& m : state.migrations) {
        if (m.kind != "migrate") continue;  // a drill never moves the stack
        if (m.state == "running") a.running = m;
        if (m.state != "done") continue;
        if (std::find(a.left.begin(), a.left.end(), m.source) == a.left.end()) a.left.push_back(m.source);
        if (m.target == a.name) a.moved_by = m;
    }
    // Activated, then stopped before the migration was marked done (resumable).
    if (a.from_state && !a.moved_by && a.running && a.running->target == a.name) a.moved_by = a.running;
    std::erase(a.left, a.name);
    return a;
}

ActiveProvider active_provider(const inventory::Inventory& inv, const std::filesystem::path& state_path) {
    auto path = state_path.empty() ? default_state_path(inv.file) : state_path;
    StateRecord rec;
    if (std::filesystem::exists(path)) {
        Journal j(path);
        rec.active = j.get("active");
        rec.migrations = j.history();
    }
    return resolve_active(inv, rec, path);
}

HostScope host_scope(const inventory::Inventory& inv, const ActiveProvider& active,
                     const std::string& explicit_provider, bool whole_stack) {
    HostScope s;
    if (!explicit_provider.empty()) {
        if (!inv.find_provider(explicit_provider))
            throw Error("provider \"" + explicit_provider + "\" is not defined in " + inv.file.string());
        s.provider = explicit_provider;
        s.hosts = inv.provider_hosts(explicit_provider);
        s.warning = active.left_warning(explicit_provider);
        return s;
    }
    if (whole_stack) {
        if (!inv.find_provider(active.name)) throw Error(undefined_message(active, inv));
        s.provider = active.name;
        s.hosts = inv.provider_hosts(active.name);
        return s;
    }
    for (const auto& h : inv.hosts)
        if (!active.was_left(h.provider)) s.hosts.push_back(&h);
    for (const auto& p : active.left)
        if (inv.find_provider(p)) s.excluded.push_back(p);
    return s;
}

}  // namespace decamp::migrate
