#include "migrate/report.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "migrate/active.hpp"
#include "migrate/journal.hpp"
#include "util/json.hpp"
#include "util/secret.hpp"

namespace decamp::migrate {

namespace {

std::string secs(double s) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.1f s", s);
    return buf;
}

std::string bytes(uint64_t b) {
    char buf[32];
    if (b >= (1ull << 20)) snprintf(buf, sizeof buf, "%.1f MiB", double(b) / (1ull << 20));
    else if (b >= 1024) snprintf(buf, sizeof buf, "%.1f KiB", double(b) / 1024);
    else snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
    return buf;
}

// Text for one cell of a Markdown table: one line, no column separator.
std::string cell(std::string s) {
    for (auto& c : s)
        if (c == '\n' || c == '|' || c == '\r') c = ' ';
    return s;
}

}  // namespace

std::string utc_time(double unix_time) {
    return utc_format(unix_time, "%Y-%m-%d %H:%M:%S UTC");
}

double old_answers_until(double lowered_at, double old_ttl, double switched_at, double switch_ttl) {
    if (switched_at <= 0) return 0;
    double until = switched_at + std::max(0.0, switch_ttl);
    if (lowered_at > 0) until = std::max(until, lowered_at + std::max(0.0, old_ttl));
    return until;
}

void fill_report(ReportData& r, Journal& j, const std::string& id) {
    auto m = j.migration(id);
    if (!m) return;
    r.id = id;
    r.source = m->source;
    r.target = m->target;
    r.state = m->state;
    double end = m->finished > 0 ? m->finished : Journal::now();
    r.total_s = end - m->started;
    r.phases.clear();
    r.steps.clear();
    std::vector<std::pair<std::string, std::pair<double, double>>> spans;
    for (const auto& s : j.steps(id)) {
        double dur = s.finished > 0 ? s.finished - s.started : 0;
        r.steps.push_back({s.phase, s.name, s.state, redactor().mask(s.detail), dur});
        auto it = std::find_if(spans.begin(), spans.end(), [&](const auto& p) { return p.first == s.phase; });
        if (it == spans.end()) spans.push_back({s.phase, {0, 0}});
        it = std::find_if(spans.begin(), spans.end(), [&](const auto& p) { return p.first == s.phase; });
        it->second.first += dur;  // summed: a resumed run's pauses are not counted
    }
    for (const auto& [name, span] : spans) r.phases.push_back({name, span.first});
    auto getd = [&](const std::string& key) -> double {
        auto v = j.get(key + "/" + id);
        return v ? std::stod(*v) : -1;
    };
    double freeze = getd("freeze_at"), writable = getd("writable_at"), switched = getd("dns_switched_at");
    if (auto b = j.get("backup_id/" + id)) r.backup_id = *b;
    if (auto v = j.get("dns_verified/" + id)) r.dns_verified = *v;
    double btime = getd("backup_time");
    if (btime > 0) {
        r.backup_time = btime;
        r.rpo_s = (switched > 0 ? switched : end) - btime;
    }
    if (auto p = j.get("probe/" + id)) {
        try {
            r.clients = decode_probe_stats(*p);
        } catch (const std::exception&) {  // a state from a broken run: no client figures
            r.clients.clear();
        }
    }
    if (switched > 0) {
        r.old_answers_until =
            old_answers_until(getd("dns_lowered_at"), getd("dns_old_ttl"), switched, getd("dns_switch_ttl"));
        r.old_answers_after_switch_s = r.old_answers_until - switched;
    }
    if (freeze > 0 && writable > 0) r.write_freeze_s = writable - freeze;
    if (freeze > 0 && switched > 0) r.downtime_s = switched - freeze;
    else if (freeze > 0 && writable > 0) r.downtime_s = writable - freeze;
}

std::string report_markdown(const ReportData& r) {
    std::string o = "# decamp migration " + r.id + ": " + r.source + " → " + r.target + "\n\n";
    o += "- state: " + r.state + "\n- total: " + secs(r.total_s) + "\n";
    if (r.downtime_s >= 0) o += "- downtime (app stopped on " + r.source + " → DNS answers " + r.target + "): " + secs(r.downtime_s) + "\n";
    if (r.write_freeze_s >= 0) o += "- write freeze (app stopped → app healthy on " + r.target + "): " + secs(r.write_freeze_s) + "\n";
    if (r.rpo_s >= 0)
        o += "- restored from backup " + r.backup_id + "; data-loss window (RPO): writes after the backup, " +
             secs(r.rpo_s) + " before the switch, are not on " + r.target + "\n";
    if (!r.dns_verified.empty()) o += "- DNS at the authoritative nameservers: " + r.dns_verified + "\n";
    if (r.lag_bytes >= 0) o += "- replication lag before cutover: " + std::to_string(r.lag_bytes) + " bytes\n";
    if (r.old_answers_until > 0)
        o += "- resolvers may hand out " + r.source + "'s addresses until " + utc_time(r.old_answers_until) +
             " (" + secs(r.old_answers_after_switch_s) +
             " after the DNS switch); clients holding them reach " + r.source + " until then\n";
    if (!r.rollback.empty()) o += "- ROLLED BACK: " + r.rollback + "\n";
    if (!r.clients.empty()) {
        o += "\n## What clients saw during cutover (decamp's own probe)\n\n"
             "| address | requests | failed | held | longest wait | first failure "
             "|\n|---|---|---|---|---|---|\n";
        for (const auto& c : r.clients)
            o += "| " + cell(c.label) + " | " + std::to_string(c.sent) + " | " + std::to_string(c.failed) +
                 " | " + std::to_string(c.held) + " | " + secs(c.longest_s) + " | " +
                 (c.failed ? cell(c.first_failure) + " (failing over " +
                                 secs(c.last_failure_at - c.first_failure_at) + ")"
                           : std::string("none")) +
                 " |\n";
    }
    o += "\n## Phases\n\n| phase | time |\n|---|---|\n";
    for (const auto& p : r.phases) o += "| " + p.name + " | " + secs(p.seconds) + " |\n";
    o += "\n## Data\n\n| data set | size |\n|---|---|\n";
    for (const auto& d : r.data) o += "| " + d.kind + " " + d.name + " | " + bytes(d.bytes) + " |\n";
    if (r.moved_bytes) o += "\nFiles streamed through decamp: " + bytes(r.moved_bytes) + "\n";
    o += "\n## Steps\n\n| phase | step | state | time | detail |\n|---|---|---|---|---|\n";
    for (const auto& s : r.steps) {
        std::string d = cell(s.detail);
        if (d.size() > 120) d = d.substr(0, 117) + "...";
        o += "| " + s.phase + " | " + s.name + " | " + s.state + " | " + secs(s.seconds) + " | " + d + " |\n";
    }
    return redactor().mask(o);
}

std::string report_json(const ReportData& r) {
    // Key order is kept: tests/integration grep "total_seconds":…,"downtime_seconds":….
    json::Value phases = json::Value::Object{};
    for (const auto& p : r.phases) phases.set(p.name, json::rounded(p.seconds));
    json::Value data = json::Value::Array{};
    for (const auto& d : r.data) data.push(json::Value().set("kind", d.kind).set("name", d.name).set("bytes", d.bytes));
    json::Value steps = json::Value::Array{};
    for (const auto& s : r.steps) {
        json::Value st;
        st.set("phase", s.phase)
            .set("name", s.name)
            .set("state", s.state)
            .set("seconds", json::rounded(s.seconds))
            .set("detail", s.detail);
        steps.push(std::move(st));
    }
    json::Value o;
    o.set("id", r.id)
        .set("source", r.source)
        .set("target", r.target)
        .set("state", r.state)
        .set("total_seconds", json::rounded(r.total_s))
        .set("downtime_seconds", json::rounded(r.downtime_s))
        .set("write_freeze_seconds", json::rounded(r.write_freeze_s))
        .set("replication_lag_bytes", r.lag_bytes)
        .set("backup_id", r.backup_id)
        .set("rpo_seconds", json::rounded(r.rpo_s))
        .set("files_bytes_moved", r.moved_bytes)
        .set("rolled_back", !r.rollback.empty())
        .set("rollback", r.rollback)
        .set("dns_verified", r.dns_verified)
        .set("old_answers_until", json::rounded(r.old_answers_until))
        .set("old_answers_after_switch_seconds", json::rounded(r.old_answers_after_switch_s))
        .set("clients", json::parse(encode_probe_stats(r.clients)))
        .set("phases", std::move(phases))
        .set("data", std::move(data))
        .set("steps", std::move(steps));
    return redactor().mask(json::dump(o) + "\n");
}

void write_report_files(const ReportData& r, const std::filesystem::path& dir) {
    auto d = dir / "reports";
    std::filesystem::create_directories(d);
    std::ofstream(d / (r.id + ".md")) << report_markdown(r);
    std::ofstream(d / (r.id + ".json")) << report_json(r);
}

}  // namespace decamp::migrate
