// DataMovers by kind, and what every mover shares through MoveContext.
#include <cstdio>
#include <map>

#include "data/mover.hpp"
#include "inventory/data_kind.hpp"
#include "util/secret.hpp"
#include "util/text.hpp"

namespace decamp::data {

// Each kind's file defines its factory and the offline check of its inventory entry.
std::unique_ptr<DataMover> make_postgres_mover(const inventory::DataSet& ds);
std::string validate_postgres_set(const Value& entry, const std::string& path, schema::Checker& check);
std::unique_ptr<DataMover> make_files_mover(const inventory::DataSet& ds);
std::string validate_files_set(const Value& entry, const std::string& path, schema::Checker& check);
std::unique_ptr<DataMover> make_redis_mover(const inventory::DataSet& ds);
std::string validate_redis_set(const Value& entry, const std::string& path, schema::Checker& check);

namespace {
using Factory = std::unique_ptr<DataMover> (*)(const inventory::DataSet&);
struct Row {
    inventory::DataKindSchema schema;
    Factory make;
};
// The data kinds: a new kind is one row here and its mover file.
const std::vector<Row>& rows() {
    static const std::vector<Row> table{
        {{"postgres", {"database", "method", "replica_identity_full"}, validate_postgres_set},
         make_postgres_mover},
        {{"files", {"path"}, validate_files_set}, make_files_mover},
        {{"redis", {"port", "password", "cache_only"}, validate_redis_set}, make_redis_mover},
    };
    return table;
}
}  // namespace

std::unique_ptr<DataMover> make_mover(const inventory::DataSet& ds) {
    for (const auto& r : rows())
        if (r.schema.kind == ds.kind) return r.make(ds);
    std::string known;
    for (const auto& k : mover_kinds()) known += (known.empty() ? "" : ", ") + k;
    throw Error("unknown data kind \"" + ds.kind + "\"; decamp moves: " + known);
}

std::unique_ptr<DataMover> make_mover(const DataEntry& e) {
    inventory::DataSet ds;
    ds.kind = e.kind;
    ds.role = e.role;
    ds.name = e.name;
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
    for (const auto& r : rows()) out.push_back(r.schema.kind);
    return out;
}

}  // namespace decamp::data

namespace decamp::inventory {

const std::vector<DataKindSchema>& data_kind_schemas() {
    static const std::vector<DataKindSchema> schemas = [] {
        std::vector<DataKindSchema> out;
        for (const auto& r : data::rows()) out.push_back(r.schema);
        return out;
    }();
    return schemas;
}

}  // namespace decamp::inventory

namespace decamp::data {

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
