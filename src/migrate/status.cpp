// `decamp status`: where the stack runs, and any migration in progress.
#include <ostream>

#include "migrate/journal.hpp"
#include "migrate/migration.hpp"
#include "util/value.hpp"

namespace decamp::migrate {

int run_status(const inventory::Inventory& inv, const std::filesystem::path& state_path, bool json, std::ostream& out) {
    auto path = state_path.empty() ? default_state_path(inv.file) : state_path;
    std::string active = inv.active;
    std::optional<MigrationRow> latest;
    std::vector<StepRow> steps;
    std::string source_of_active = "inventory";
    if (std::filesystem::exists(path)) {
        Journal j(path);
        if (auto a = j.get("active"); a && inv.find_provider(*a)) {
            active = *a;
            source_of_active = "journal";
        }
        latest = j.latest();
        if (latest) steps = j.steps(latest->id);
    }
    size_t hosts = inv.provider_hosts(active).size();
    if (json) {
        out << "{\"active\":" << json_escape(active) << ",\"active_from\":" << json_escape(source_of_active)
            << ",\"hosts\":" << hosts << ",\"migration\":";
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
    out << "project " << inv.project << ": runs on provider " << active << " (" << hosts << " hosts; from the "
        << source_of_active << ")\n";
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
