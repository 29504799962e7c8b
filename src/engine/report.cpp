// Run reports: exit code, recap for people, JSON for CI. Every text here has already been
// through the redactor.
#include <cstdio>

#include "engine/engine.hpp"
#include "util/value.hpp"

namespace decamp::engine {

namespace {

const char* state_name(HostState s) {
    switch (s) {
        case HostState::Ok: return "ok";
        case HostState::Failed: return "failed";
        case HostState::Unreachable: return "unreachable";
        case HostState::HostKeyRefused: return "host-key-refused";
        case HostState::Interrupted: return "interrupted";
    }
    return "?";
}

std::string num(double d) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.3f", d);
    return buf;
}

}  // namespace

int Report::exit_code() const {
    if (interrupted) return 130;
    int code = 0;
    for (const auto& h : hosts) {
        switch (h.state) {
            case HostState::HostKeyRefused: code = std::max(code, 4); break;
            case HostState::Unreachable: code = std::max(code, 3); break;
            case HostState::Failed: code = std::max(code, 1); break;
            default: break;
        }
    }
    return code;
}

int Report::total(Status s) const {
    int n = 0;
    for (const auto& h : hosts)
        for (const auto& st : h.steps) n += st.status == s;
    return n;
}

std::string Report::to_json() const {
    std::string out = "{\"check_mode\":" + std::string(check_mode ? "true" : "false") +
                      ",\"seconds\":" + num(seconds) + ",\"interrupted\":" + (interrupted ? "true" : "false") +
                      ",\"exit_code\":" + std::to_string(exit_code()) + ",\"totals\":{\"ok\":" +
                      std::to_string(total(Status::Ok)) + ",\"changed\":" + std::to_string(total(Status::Changed)) +
                      ",\"failed\":" + std::to_string(total(Status::Failed)) + ",\"skipped\":" +
                      std::to_string(total(Status::Skipped)) + ",\"unreachable\":" +
                      std::to_string(total(Status::Unreachable)) + "},\"hosts\":[";
    for (size_t i = 0; i < hosts.size(); ++i) {
        const auto& h = hosts[i];
        out += (i ? "," : "") + std::string("{\"host\":") + json_escape(h.host) + ",\"address\":" + json_escape(h.address) +
               ",\"state\":\"" + state_name(h.state) + "\",\"error\":" + json_escape(h.error) +
               ",\"ok\":" + std::to_string(h.ok) + ",\"changed\":" + std::to_string(h.changed) +
               ",\"failed\":" + std::to_string(h.failed) + ",\"skipped\":" + std::to_string(h.skipped) +
               ",\"seconds\":" + num(h.seconds) + ",\"steps\":[";
        for (size_t j = 0; j < h.steps.size(); ++j) {
            const auto& s = h.steps[j];
            out += (j ? "," : "") + std::string("{\"play\":") + json_escape(s.play) + ",\"task\":" + json_escape(s.task) +
                   ",\"module\":" + json_escape(s.module) + ",\"source\":" + json_escape(s.source) +
                   ",\"status\":\"" + status_name(s.status) + "\",\"changed\":" +
                   (s.status == Status::Changed ? "true" : "false") + ",\"rc\":" + std::to_string(s.rc) +
                   ",\"seconds\":" + num(s.seconds) + ",\"message\":" + json_escape(s.message) +
                   ",\"diff\":" + json_escape(s.diff) + ",\"stdout_tail\":" + json_escape(s.stdout_tail) +
                   ",\"stderr_tail\":" + json_escape(s.stderr_tail) + "}";
        }
        out += "]}";
    }
    return out + "]}";
}

std::string Report::recap() const {
    std::string out = check_mode ? "\nPLAN RECAP (check mode: nothing was changed)\n" : "\nRECAP\n";
    for (const auto& h : hosts) {
        char line[256];
        snprintf(line, sizeof line, "  %-20s ok=%-4d %s=%-4d failed=%-3d skipped=%-3d %-12s %.1fs\n", h.host.c_str(),
                 h.ok, check_mode ? "would-change" : "changed", h.changed, h.failed, h.skipped, state_name(h.state),
                 h.seconds);
        out += line;
        if (!h.error.empty()) out += "      " + h.error + "\n";
    }
    char tot[256];
    snprintf(tot, sizeof tot, "%zu hosts, %d ok, %d %s, %d failed, %d unreachable in %.1fs\n", hosts.size(),
             total(Status::Ok), total(Status::Changed), check_mode ? "would change" : "changed", total(Status::Failed),
             total(Status::Unreachable), seconds);
    out += tot;
    if (total(Status::Changed) == 0 && total(Status::Failed) == 0 && exit_code() == 0)
        out += check_mode ? "Nothing to change: every host is converged.\n" : "No changes: every host was already converged.\n";
    return out;
}

}  // namespace decamp::engine
