// `decamp status`: where the stack runs, and any migration in progress.
#include <ostream>

#include "migrate/journal.hpp"
#include "migrate/migration.hpp"
#include "util/json.hpp"

namespace decamp::migrate {

int run_status(const inventory::Inventory& inv, const std::filesystem::path& state_path, bool json, std::ostream& out) {
    auto path = state_path.empty() ? default_state_path(inv.file) : state_path;
    ActiveProvider ap = active_provider(inv, path);
    const std::string& active = ap.name;
    std::optional<MigrationRow> latest;
    std::vector<StepRow> steps;
    if (std::filesystem::exists(path)) {
        Journal j(path);
        latest = j.latest();
        if (latest) steps = j.steps(latest->id);
    }
    size_t hosts = inv.provider_hosts(active).size();
    if (json) {
        json::Value left = json::Value::Array{};
        for (const auto& p : ap.left) left.push(p);
        json::Value o;
        o.set("active", active)
            .set("active_from", ap.from_state ? "state" : "inventory")
            .set("hosts", uint64_t(hosts))
            .set("left", std::move(left));
        if (latest) {
            json::Value st = json::Value::Array{};
            for (const auto& s : steps) st.push(json::Value().set("phase", s.phase).set("name", s.name).set("state", s.state));
            json::Value m;
            m.set("id", latest->id)
                .set("kind", latest->kind)
                .set("source", latest->source)
                .set("target", latest->target)
                .set("state", latest->state)
                .set("steps", std::move(st));
            o.set("migration", std::move(m));
        } else {
            o.set("migration", nullptr);
        }
        out << json::dump(o) << "\n";
        return 0;
    }
    out << "project " << inv.project << ": runs on " << ap.describe() << ", " << hosts << " hosts\n";
    for (const auto& p : ap.left)
        out << "  left provider " << p << ": touched only with --provider " << p << "\n";
    if (!latest) {
        out << "no migration recorded (" << path.string() << ")\n";
        return 0;
    }
    out << "latest migration " << latest->id << ": " << latest->source << " → " << latest->target << ", " << latest->state
        << "\n";
    if (latest->state == "running") {
        size_t done = 0;
        std::string last;
        for (const auto& s : steps) {
            done += s.state == "done";
            if (s.state != "done") last = s.phase + "/" + s.name + " (" + s.state + ")";
        }
        out << "  " << done << " of " << steps.size() << " recorded steps done" << (last.empty() ? "" : "; stopped at " + last)
            << "\n  continue: decamp migrate --to " << latest->target << " --resume   or undo: decamp migrate --abort\n";
    }
    return 0;
}

}  // namespace decamp::migrate
