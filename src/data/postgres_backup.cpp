// The PostgreSQL mover's backup side (see data/postgres.hpp). The cluster on each host is
// discovered (pg_lsclusters), never guessed.
#include <filesystem>

#include "data/pg_dump.hpp"
#include "data/postgres.hpp"
#include "util/error.hpp"
#include "util/json.hpp"
#include "util/shell.hpp"
#include "util/text.hpp"

namespace decamp::data::postgres {

namespace {

using data::pg::Cluster;
using shell::quote;
using util::trim;

class Read : public BackupRead {
public:
    Read(transport::Transport& t, std::string db, const std::string& backup_id)
        : t_(t), db_(std::move(db)), work_(dump_workdir(backup_id)), c_(data::pg::discover(t)) {}
    std::string command() const override { return pgdump::dump_cmd(c_, db_, work_); }
    std::string what() const override { return "dumping database " + db_; }
    void finish(DataEntry& e, std::map<std::string, std::string>& software) override {
        auto meta = pgdump::parse_meta(run_checked(t_, pgdump::dump_meta_cmd(c_, db_, work_), "describing database " + db_));
        e.owner = meta.owner;
        e.encoding = meta.encoding;
        e.collate = meta.collate;
        e.ctype = meta.ctype;
        e.tables = meta.tables;
        software["pg_dump"] = meta.pg_dump_version;
    }

private:
    transport::Transport& t_;
    std::string db_, work_;
    Cluster c_;
};

class Staged : public StagedRestore {
public:
    Staged(transport::Transport& t, const inventory::Host& h, const DataEntry& e)
        : t_(t), h_(h), e_(e), c_(data::pg::discover(t)) {}
    std::string sink() override {
        pgdump::DbMeta meta;
        meta.owner = e_.owner, meta.encoding = e_.encoding, meta.collate = e_.collate, meta.ctype = e_.ctype;
        run_checked(t_, pgdump::restore_prepare_cmd(c_, scratch_db(e_.name), meta), "creating the scratch database");
        return pgdump::restore_cmd(c_, scratch_db(e_.name));
    }
    std::string check() override {
        auto counts = pgdump::row_counts(t_, c_, scratch_db(e_.name));
        std::string d = counts_diff(e_.tables, counts);
        if (!d.empty()) throw Error("restored database " + e_.name + " on " + h_.name + ": " + d);
        return std::to_string(counts.size()) + " tables, row counts match";
    }
    void swap() override {
        run_checked(t_, pgdump::swap_cmd(c_, e_.name, scratch_db(e_.name)), "replacing database " + e_.name);
    }
    void unstage() noexcept override {
        try {
            t_.run(pgdump::drop_cmd(c_, scratch_db(e_.name)));
        } catch (...) {
        }
    }

private:
    transport::Transport& t_;
    const inventory::Host& h_;
    const DataEntry& e_;
    Cluster c_;
};

// The dump is kept as a file; pg_restore, where this machine has it, must be able to read it.
class Scratch : public ScratchRestore {
public:
    Scratch(transport::Transport& local, const std::string& dir, const DataEntry& e)
        : local_(local), file_((std::filesystem::path(dir) / e.stream).string()), tables_(e.tables.size()) {}
    std::string sink() const override { return "cat >" + quote(file_); }
    std::string problems() override {
        if (!std::filesystem::exists("/usr/bin/pg_restore")) return "";
        auto r = local_.run("pg_restore -l " + quote(file_) + " >/dev/null");
        return r.exit_status != 0 ? "pg_restore cannot read the dump: " + trim(r.err) : "";
    }
    std::string detail() const override { return std::to_string(tables_) + " tables in the manifest"; }

private:
    transport::Transport& local_;
    std::string file_;
    size_t tables_;
};

}  // namespace

std::string scratch_db(const std::string& db) { return db.substr(0, 40) + "_decamp_restore"; }

std::string dump_workdir(const std::string& backup_id) { return "/tmp/decamp-backup-" + backup_id; }

std::string counts_diff(const std::map<std::string, uint64_t>& want, const std::map<std::string, uint64_t>& got) {
    std::string out;
    int n = 0;
    for (const auto& [t, c] : want) {
        auto it = got.find(t);
        if (it == got.end()) out += (n++ < 5 ? t + " missing; " : "");
        else if (it->second != c) out += (n++ < 5 ? t + " has " + std::to_string(it->second) + " rows, the backup " + std::to_string(c) + "; " : "");
    }
    for (const auto& [t, c] : got)
        if (!want.count(t)) out += (n++ < 5 ? t + " is not in the backup; " : "");
    if (n > 5) out += "… (" + std::to_string(n) + " differences); ";
    return out.empty() ? "" : out.substr(0, out.size() - 2);
}

std::string disable_cmd(const Cluster& c) { return "systemctl disable --now -- postgresql " + quote(c.service) + " 2>&1"; }

void encode_evidence(const DataEntry& d, json::Value& e) {
    e.set("owner", d.owner);
    e.set("encoding", d.encoding);
    e.set("collate", d.collate);
    e.set("ctype", d.ctype);
    json::Value t = json::Value::Object{};
    for (const auto& [k, v] : d.tables) t.set(k, int64_t(v));
    e.set("tables", t);
}

void decode_evidence(const json::Ref& e, DataEntry& d) {
    d.owner = e["owner"].string_or("");
    d.encoding = e["encoding"].string_or("");
    d.collate = e["collate"].string_or("");
    d.ctype = e["ctype"].string_or("");
    for (const auto& [k, v] : e["tables"].members()) d.tables[k] = uint64_t(v.int_or(0));
}

std::unique_ptr<BackupRead> backup_read(transport::Transport& t, const std::string& db, const std::string& backup_id) {
    return std::make_unique<Read>(t, db, backup_id);
}

std::unique_ptr<StagedRestore> stage(transport::Transport& t, const inventory::Host& host, const DataEntry& e) {
    return std::make_unique<Staged>(t, host, e);
}

std::unique_ptr<ScratchRestore> scratch(transport::Transport& local, const std::string& dir, const DataEntry& e) {
    return std::make_unique<Scratch>(local, dir, e);
}

std::string live_diff(transport::Transport& t, const DataEntry& e) {
    return counts_diff(e.tables, pgdump::row_counts(t, data::pg::discover(t), e.name));
}

std::string teardown(transport::Transport& t, const inventory::Host& host, const std::string& db) {
    Cluster c;
    try {
        c = data::pg::discover(t);
    } catch (const std::exception& x) {
        return host.name + ": database " + db + " NOT dropped, PostgreSQL NOT stopped (" + x.what() + ")";
    }
    auto r1 = t.run(pgdump::drop_cmd(c, db));
    auto r2 = t.run(disable_cmd(c));
    return host.name + ": database " + db + (r1.exit_status ? " NOT dropped (" + trim(r1.err) + ")" : " dropped") +
           ", PostgreSQL " + (r2.exit_status ? "NOT stopped (" + trim(r2.out) + ")" : "stopped");
}

}  // namespace decamp::data::postgres
