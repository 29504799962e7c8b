// `decamp status`: where the stack runs, and any migration in progress.
#include <ostream>

#include "migrate/journal.hpp"
#include "migrate/migration.hpp"
#include "migrate/report.hpp"
#include "util/json.hpp"

namespace decamp::migrate {

int run_status(const inventory::Inventory& inv, const std::filesystem::path& state_path, bool json, std::ostream& out) {
    auto path = state_path.empty() ? default_state_path(inv.file) : state_path;
    ActiveProvider ap = active_provider(inv, path);
    const std::string& active = ap.name;
    std::optional<MigrationRow> latest;
    std::vector<StepRow> steps;
    std::optional<MigrationRow> bridged;  // the migration whose bridge is open (migrate/bridge.cpp)
    double bridge_until = 0;
    if (std::filesystem::exists(path)) {
        Journal j(path);
        latest = j.latest();
        if (latest) steps = j.steps(latest->id);
        if (auto id = j.get("bridge_open")) {
            bridged = j.migration(*id);
            if (bridged) bridge_until = std::stod(j.get("bridge_until/" + *id).value_or("0"));
        }
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
        if (bridged)
            o.set("bridge", json::Value()
                                .set("migration", bridged->id)
                                .set("from", bridged->source)
                                .set("to", bridged->target)
                                .set("until", json::rounded(bridge_until)));
        else
            o.set("bridge", nullptr);
        out << json::dump(o) << "\n";
        return 0;
    }
    out << "project " << inv.project << ": runs on " << ap.describe() << ", " << hosts << " hosts\n";
    for (const auto& p : ap.left)
        out << "  left provider " << p << ": touched only with --provider " << p << "\n";
    if (bridged)
        out << "  bridge open: " << bridged->source << "'s fronts forward to " << bridged->target
            << " (migration " << bridged->id << ") until " << utc_time(bridge_until)
            << "; then: decamp migrate --finish\n";
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
