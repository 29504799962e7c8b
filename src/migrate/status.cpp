// `decamp status`: where the stack runs, and any migration in progress.
#include <ostream>

#include "migrate/journal.hpp"
#include "migrate/migration.hpp"
#include "util/value.hpp"

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
        out << "{\"active\":" << json_escape(active) << ",\"active_from\":" << json_escape(ap.from_state ? "state" : "inventory")
            << ",\"hosts\":" << hosts << ",\"left\":[";
        for (size_t i = 0; i < ap.left.size(); ++i) out << (i ? "," : "") << json_escape(ap.left[i]);
        out << "],\"migration\":";
        if (!latest) {
            out << "null}\n";
            return 0;
        }
        out << "{\"id\":" << json_escape(latest->id) << ",\"kind\":" << json_escape(latest->kind)
            << ",\"source\":" << json_escape(latest->source) << ",\"target\":" << json_escape(latest->target)
            << ",\"state\":" << json_escape(latest->state) << ",\"steps\":[";
        for (size_t i = 0; i < steps.size(); ++i)
            out << (i ? "," : "") << "{\"phase\":" << json_escape(steps[i].phase) << ",\"name\":" << json_escape(steps[i].name)
                << ",\"state\":" << json_escape(steps[i].state) << "}";
        out << "]}}\n";
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
