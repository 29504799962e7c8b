#include "backup/backup.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <set>
#include <sstream>

#include "backup/retention.hpp"
#include "data/mover.hpp"
#include "data/tar_hash.hpp"
#include "migrate/journal.hpp"
#include "transport/pump.hpp"
#include "util/error.hpp"
#include "util/json.hpp"
#include "util/secret.hpp"
#include "util/sha256.hpp"
#include "util/shell.hpp"

namespace decamp::backup {

namespace {

using data::hex;
using Clock = std::chrono::steady_clock;

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    size_t a = s.find_first_not_of(" \n");
    return a == std::string::npos ? "" : s.substr(a);
}

std::string random_hex(size_t bytes) {
    std::ifstream in("/dev/urandom", std::ios::binary);
    std::string raw(bytes, '\0');
    in.read(raw.data(), static_cast<std::streamsize>(bytes));
    return hex(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
}

// The snapshot id from `restic backup --json` (its last line is the summary).
std::string snapshot_id(const std::string& out) {
    std::istringstream in(out);
    std::string line, id;
    while (std::getline(in, line)) {
        if (line.find("\"summary\"") == std::string::npos) continue;
        try {
            auto v = json::parse(line);
            id = v["snapshot_id"].string_or("");
        } catch (const json::ParseError&) {
        }
    }
    if (id.empty()) throw Error("restic did not report the snapshot it saved");
    return id;
}

struct Sha {
    util::Sha256 s;
    std::string hex_digest() {
        auto d = s.finish();
        return hex(d.data(), d.size());
    }
};

shell::Argv restic_stdin_backup(const std::string& project, const std::string& stream, const std::vector<std::string>& tags) {
    shell::Argv a = {"backup", "--json", "--stdin", "--stdin-filename", stream, "--host", "decamp-" + project};
    for (const auto& t : tags) a.insert(a.end(), {"--tag", t});
    return a;
}

}  // namespace

std::string stream_name(size_t index, const inventory::DataSet& ds) {
    auto mover = data::make_mover(ds);
    std::string what = mover->name();
    std::string clean;
    for (char c : what) clean += (isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
    while (!clean.empty() && clean.front() == '_') clean.erase(0, 1);
    if (clean.size() > 80) clean.resize(80);
    return std::to_string(index) + "-" + ds.kind + "-" + clean + mover->stream_ext();
}

std::string human_seconds(double s) {
    char buf[48];
    if (s < 120) snprintf(buf, sizeof buf, "%.1f s", s);
    else if (s < 7200) snprintf(buf, sizeof buf, "%.0f min %.0f s", std::floor(s / 60), std::fmod(s, 60));
    else snprintf(buf, sizeof buf, "%.0f h %.0f min", std::floor(s / 3600), std::fmod(s, 3600) / 60);
    return buf;
}

// ---- backup ----

Manifest run_backup(const inventory::Inventory& inv, Repo& repo, const std::string& provider, const ConnectFn& conn,
                    std::ostream& log) {
    const auto t0 = Clock::now();
    Manifest m;
    m.time = migrate::Journal::now();
    m.id = make_id(m.time, random_hex(2));
    m.project = inv.project;
    m.provider = provider;
    m.software["decamp"] = DECAMP_VERSION;
    log << "Backup " << m.id << " of " << provider << " into " << repo.describe() << "\n";
    repo.ensure_init();
    m.software["restic"] = repo.version();
    const std::vector<std::string> tags = {"decamp-data", "decamp-id:" + m.id};
    size_t index = 0;
    for (const auto& ds : inv.data) {
        ++index;
        auto mover = data::make_mover(ds);
        if (!mover->holds_data()) {
            log << "  " << mover->label() << ": cache only, nothing to back up\n";
            continue;
        }
        auto hosts = inv.hosts_of(provider, ds.role);
        if (hosts.empty()) throw Error("provider " + provider + " has no host with role " + ds.role);
        const inventory::Host& h = *hosts.front();
        transport::Transport& t = conn(h);
        DataEntry e;
        e.kind = ds.kind;
        e.name = mover->name();
        e.role = ds.role;
        e.host = h.name;
        e.stream = stream_name(index, ds);
        log << "  " << ds.kind << " " << e.name << " from " << h.name << " …" << std::flush;
        Sha sha;
        auto read = mover->backup(t, h, m.id);
        transport::PumpResult pr = transport::pump(
            t, read->command(), repo.local(), repo.cmd(restic_stdin_backup(inv.project, e.stream, tags)),
            [&](std::string_view d) {
                sha.s.update(d);
                read->tap(d);
            },
            read->what(), read->ok_status());
        read->finish(e, m.software);
        e.snapshot = snapshot_id(pr.sink.out);
        e.bytes = pr.bytes;
        e.sha256 = sha.hex_digest();
        e.seconds = pr.seconds;
        log << " " << human_bytes(e.bytes) << " in " << human_seconds(e.seconds) << " ("
            << human_bytes(uint64_t(double(e.bytes) / std::max(pr.seconds, 0.001))) << "/s), " << mover->evidence(e) << "\n";
        m.data.push_back(std::move(e));
    }
    m.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    transport::RunOptions o;
    o.stdin_data = encode(m);
    char tm[32];
    snprintf(tm, sizeof tm, "%.0f", m.time);
    auto r = repo.local().run(
        repo.cmd(restic_stdin_backup(inv.project, "manifest.json",
                                     {"decamp-manifest", "decamp-id:" + m.id, "decamp-time:" + std::string(tm),
                                      "decamp-bytes:" + std::to_string(m.total_bytes()),
                                      "decamp-sets:" + std::to_string(m.data.size())})),
        o);
    if (r.exit_status != 0) throw Error("storing the manifest failed: " + trim(r.err));
    log << "  manifest stored; backup " << m.id << " complete: " << human_bytes(m.total_bytes()) << " in "
        << human_seconds(m.seconds) << "\n";
    return m;
}

// ---- list / manifest ----

std::vector<BackupSummary> list_backups(Repo& repo) {
    std::vector<BackupSummary> out;
    for (const auto& s : repo.snapshots({"decamp-manifest"})) {
        BackupSummary b;
        b.id = s.tag_value("decamp-id");
        if (!valid_id(b.id)) continue;
        std::string t = s.tag_value("decamp-time");
        b.time = t.empty() ? s.time : std::atof(t.c_str());
        b.bytes = std::strtoull(s.tag_value("decamp-bytes").c_str(), nullptr, 10);
        b.sets = std::atoi(s.tag_value("decamp-sets").c_str());
        b.snapshot = s.id;
        out.push_back(b);
    }
    std::sort(out.begin(), out.end(), [](const BackupSummary& a, const BackupSummary& b) {
        return a.time != b.time ? a.time > b.time : a.id > b.id;
    });
    return out;
}

Manifest load_manifest(Repo& repo, const std::string& id_or_latest) {
    auto all = list_backups(repo);
    if (all.empty()) throw Error("there is no backup in " + repo.describe() + " yet; run: decamp backup");
    const BackupSummary* pick = nullptr;
    if (id_or_latest.empty() || id_or_latest == "latest") {
        pick = &all.front();
    } else {
        for (const auto& b : all) {
            if (b.id.rfind(id_or_latest, 0) != 0) continue;
            if (pick) throw Error("backup id '" + id_or_latest + "' is ambiguous (" + pick->id + ", " + b.id + ", …)");
            pick = &b;
        }
        if (!pick) throw Error("no backup '" + id_or_latest + "' in " + repo.describe() + "; see: decamp backup list");
    }
    std::string text = repo.run({"dump", pick->snapshot, "/manifest.json"}, "reading the manifest of " + pick->id, 300);
    Manifest m = decode(text);
    if (m.id != pick->id) throw Error("the manifest of " + pick->id + " names backup " + m.id);
    return m;
}

// ---- verify ----

bool VerifyResult::ok() const {
    if (checks.empty()) return false;
    for (const auto& c : checks)
        if (!c.ok) return false;
    return true;
}

VerifyResult verify_backup(Repo& repo, const Manifest& m, bool read_data, std::ostream& log) {
    VerifyResult res;
    res.id = m.id;
    const auto t0 = Clock::now();
    {
        CheckResult c;
        c.what = read_data ? "repository (restic check --read-data)" : "repository (restic check)";
        log << "  " << c.what << " …" << std::flush;
        auto s = Clock::now();
        shell::Argv args = {"check"};
        if (read_data) args.push_back("--read-data");
        auto r = repo.try_run(args, 0);
        c.ok = r.exit_status == 0;
        std::string err = trim(r.err);
        if (err.size() > 1500) err = "…" + err.substr(err.size() - 1500);
        c.detail = c.ok ? "no errors" : "restic check failed (exit " + std::to_string(r.exit_status) + "): " + err;
        c.seconds = std::chrono::duration<double>(Clock::now() - s).count();
        log << (c.ok ? " ok\n" : " FAILED\n");
        res.checks.push_back(c);
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "decamp-verify-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw Error("cannot create a scratch directory");
    const std::filesystem::path scratch = tmpl;
    auto& local = repo.local();
    for (const auto& e : m.data) {
        CheckResult c;
        c.what = e.kind + " " + e.name;
        log << "  restore " << c.what << " into " << scratch.string() << " …" << std::flush;
        auto s = Clock::now();
        try {
            Sha sha;
            auto mover = data::make_mover(e);
            auto sc = mover->scratch(local, scratch.string(), e);
            auto pr = transport::pump(
                local, repo.cmd({"dump", e.snapshot, "/" + e.stream}), local, sc->sink(),
                [&](std::string_view d) {
                    sha.s.update(d);
                    sc->tap(d);
                },
                "restoring " + e.stream);
            res.bytes += pr.bytes;
            std::string problems;
            std::string got = sha.hex_digest();
            if (got != e.sha256 || pr.bytes != e.bytes)
                problems += "stream checksum " + got.substr(0, 12) + "… (" + std::to_string(pr.bytes) + " bytes) ≠ manifest " +
                            e.sha256.substr(0, 12) + "… (" + std::to_string(e.bytes) + " bytes); ";
            if (std::string p = sc->problems(); !p.empty()) problems += p + "; ";
            c.ok = problems.empty();
            c.detail = c.ok ? human_bytes(pr.bytes) + ", sha256 matches, " + sc->detail() : problems.substr(0, problems.size() - 2);
        } catch (const std::exception& x) {
            c.ok = false;
            c.detail = x.what();
        }
        c.seconds = std::chrono::duration<double>(Clock::now() - s).count();
        log << (c.ok ? " ok\n" : " FAILED\n");
        res.checks.push_back(c);
    }
    std::error_code ec;
    std::filesystem::remove_all(scratch, ec);
    res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return res;
}

std::string verify_markdown(const VerifyResult& r) {
    std::string out = "# Backup verify: " + r.id + " — " + (r.ok() ? "OK" : "FAILED") + "\n\n| check | result | time | detail |\n|---|---|---|---|\n";
    for (const auto& c : r.checks)
        out += "| " + c.what + " | " + (c.ok ? "ok" : "**FAILED**") + " | " + human_seconds(c.seconds) + " | " + c.detail + " |\n";
    out += "\nrestored " + human_bytes(r.bytes) + " in " + human_seconds(r.seconds) + "\n";
    return out;
}

std::string verify_json(const VerifyResult& r) {
    json::Value v;
    v.set("id", r.id);
    v.set("ok", r.ok());
    v.set("bytes", int64_t(r.bytes));
    v.set("seconds", r.seconds);
    json::Value checks = json::Value::Array{};
    for (const auto& c : r.checks) {
        json::Value x;
        x.set("what", c.what);
        x.set("ok", c.ok);
        x.set("detail", c.detail);
        x.set("seconds", c.seconds);
        checks.push(x);
    }
    v.set("checks", checks);
    return json::dump(v) + "\n";
}

// ---- retention ----

PruneResult apply_retention(const inventory::Inventory& inv, Repo& repo, bool dry_run, std::ostream& log) {
    PruneResult res;
    auto backups = list_backups(repo);
    std::vector<Dated> dated;
    dated.reserve(backups.size());
    for (const auto& b : backups) dated.push_back({b.id, b.time});
    auto kept = select_kept(dated, inv.backup->keep);
    res.reasons = kept.reasons;
    std::set<std::string> drop_ids;
    for (const auto& b : backups) {
        if (kept.ids.count(b.id)) res.kept.push_back(b.id);
        else {
            res.removed.push_back(b.id);
            drop_ids.insert(b.id);
        }
    }
    std::set<std::string> manifest_ids;
    for (const auto& b : backups) manifest_ids.insert(b.id);
    std::vector<std::string> forget;
    const double now = migrate::Journal::now();
    for (const auto& s : repo.snapshots({})) {
        std::string id = s.tag_value("decamp-id");
        if (id.empty()) continue;  // not ours
        bool orphan = !manifest_ids.count(id) && now - s.time > 86400;
        if (drop_ids.count(id) || orphan) forget.push_back(s.id);
    }
    log << "  retention: keep " << res.kept.size() << ", remove " << res.removed.size() << " backup(s)";
    if (forget.empty() || dry_run) {
        log << (dry_run ? " (dry run)\n" : "\n");
        return res;
    }
    log << "; forgetting " << forget.size() << " snapshot(s) and pruning …" << std::flush;
    shell::Argv a = {"forget"};
    a.insert(a.end(), forget.begin(), forget.end());
    repo.run(a, "forgetting old backups", 600);
    repo.run({"prune"}, "pruning the repository", 0);
    log << " done\n";
    return res;
}

}  // namespace decamp::backup
