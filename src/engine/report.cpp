// Run reports: exit code, recap for people, JSON for CI. Every text here has already been
// through the redactor.
#include <cstdio>

#include "engine/engine.hpp"
#include "util/json.hpp"

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
    // Key order is part of the interface: tests/integration grep `"host":…,"address":…`.
    json::Value totals;
    totals.set("ok", total(Status::Ok))
        .set("changed", total(Status::Changed))
        .set("failed", total(Status::Failed))
        .set("skipped", total(Status::Skipped))
        .set("unreachable", total(Status::Unreachable));
    json::Value hs = json::Value::Array{};
    for (const auto& h : hosts) {
        json::Value steps = json::Value::Array{};
        for (const auto& s : h.steps) {
            json::Value st;
            st.set("play", s.play)
                .set("task", s.task)
                .set("module", s.module)
                .set("source", s.source)
                .set("status", status_name(s.status))
                .set("changed", s.status == Status::Changed)
                .set("rc", s.rc)
                .set("seconds", json::rounded(s.seconds))
                .set("message", s.message)
                .set("diff", s.diff)
                .set("stdout_tail", s.stdout_tail)
                .set("stderr_tail", s.stderr_tail);
            steps.push(std::move(st));
        }
        json::Value hv;
        hv.set("host", h.host)
            .set("address", h.address)
            .set("state", state_name(h.state))
            .set("error", h.error)
            .set("ok", h.ok)
            .set("changed", h.changed)
            .set("failed", h.failed)
            .set("skipped", h.skipped)
            .set("seconds", json::rounded(h.seconds))
            .set("steps", std::move(steps));
        hs.push(std::move(hv));
    }
    json::Value out;
    out.set("check_mode", check_mode)
        .set("seconds", json::rounded(seconds))
        .set("interrupted", interrupted)
        .set("exit_code", exit_code())
        .set("totals", std::move(totals))
        .set("hosts", std::move(hs));
    return json::dump(out);
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
