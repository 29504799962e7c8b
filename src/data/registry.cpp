// DataMovers by kind, and what every mover shares through MoveContext.
#include <cstdio>
#include <map>

#include "data/mover.hpp"
#include "util/secret.hpp"
#include "util/text.hpp"

namespace decamp::data {

std::unique_ptr<DataMover> make_postgres_mover(const inventory::DataSet& ds);
std::unique_ptr<DataMover> make_files_mover(const inventory::DataSet& ds);

namespace {
using Factory = std::unique_ptr<DataMover> (*)(const inventory::DataSet&);
const std::map<std::string, Factory>& factories() {
    static const std::map<std::string, Factory> m{{"postgres", make_postgres_mover}, {"files", make_files_mover}};
    return m;
}
}  // namespace

std::unique_ptr<DataMover> make_mover(const inventory::DataSet& ds) {
    auto it = factories().find(ds.kind);
    if (it == factories().end()) {
        std::string known;
        for (const auto& k : mover_kinds()) known += (known.empty() ? "" : ", ") + k;
        throw Error("unknown data kind \"" + ds.kind + "\"; decamp moves: " + known);
    }
    return it->second(ds);
}

std::unique_ptr<DataMover> make_mover(const DataEntry& e) {
    // Each kind reads its name from its own field and ignores the other.
    inventory::DataSet ds;
    ds.kind = e.kind;
    ds.role = e.role;
    ds.database = e.name;
    ds.path = e.name;
    return make_mover(ds);
}

namespace {
[[noreturn]] void no_backup(const DataMover& m) {
    throw Error("data kind " + m.kind() + " (" + m.name() + ") cannot be backed up or restored");
}
}  // namespace

std::unique_ptr<BackupRead> DataMover::backup(transport::Transport&, const inventory::Host&, const std::string&) {
    no_backup(*this);
}
std::unique_ptr<StagedRestore> DataMover::stage(transport::Transport&, const inventory::Host&, const DataEntry&) {
    no_backup(*this);
}
std::unique_ptr<ScratchRestore> DataMover::scratch(transport::Transport&, const std::string&, const DataEntry&) {
    no_backup(*this);
}
std::string DataMover::live_diff(transport::Transport&, const DataEntry&) { no_backup(*this); }
std::string DataMover::teardown(transport::Transport&, const inventory::Host&) { return ""; }

std::vector<std::string> mover_kinds() {
    std::vector<std::string> out;
    for (const auto& [k, f] : factories()) out.push_back(k);
    return out;
}

const inventory::Host& MoveContext::first(const std::string& provider, const std::string& role) const {
    auto v = hosts(provider, role);
    if (v.empty()) throw Error("provider " + provider + " has no host with role " + role);
    return *v.front();
}

uint64_t MoveContext::get_u64(const std::string& key, uint64_t fallback) {
    auto v = get(key);
    if (!v || v->empty()) return fallback;
    try {
        return std::stoull(*v);
    } catch (const std::exception&) {
        throw Error("the state holds \"" + *v + "\" for " + key + ", not a number");
    }
}

std::string MoveContext::sh(const inventory::Host& host, const std::string& cmd, const std::string& what) {
    auto r = conn(host).run(cmd);
    if (r.exit_status != 0)
        throw Error(what + " on " + host.name + " failed (exit " + std::to_string(r.exit_status) +
                    "): " + redactor().mask(util::output_tail(r.err)));
    return r.out;
}

std::string run_checked(transport::Transport& t, const std::string& cmd, const std::string& what) {
    auto r = t.run(cmd);
    if (r.exit_status != 0)
        throw Error(redactor().mask(t.describe() + ": " + what + " failed (exit " + std::to_string(r.exit_status) +
                                    "): " + util::trim(r.err.empty() ? r.out : r.err)));
    return r.out;
}

}  // namespace decamp::data
