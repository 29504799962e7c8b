// The PostgreSQL mover's backup side (postgres_backup.cpp), declared for postgres.cpp and
// for the tests of its pure pieces: a dump inside one exported snapshot with the row counts
// of exactly that data (data/pg_dump), a restore into a scratch database that replaces the
// real one only after the row counts match the manifest, and a drill's teardown.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "data/mover.hpp"
#include "data/pg_replica.hpp"

namespace decamp::data::postgres {

// "forum_decamp_restore": where a restore stages the database `db`.
std::string scratch_db(const std::string& db);
// Where the dump of backup `backup_id` keeps its row counts on the host.
std::string dump_workdir(const std::string& backup_id);
// What differs between the row counts of the manifest and those found ("" = nothing): at
// most five differences named, then how many there are.
std::string counts_diff(const std::map<std::string, uint64_t>& want, const std::map<std::string, uint64_t>& got);
// Stops and disables the cluster's service (and the postgresql umbrella unit); stdout+stderr.
std::string disable_cmd(const data::pg::Cluster& c);

// The manifest's evidence for the kind (owner, encoding, …, tables / files), and back.
void encode_evidence(const DataEntry& e, json::Value& v);
void decode_evidence(const json::Ref& v, DataEntry& e);

std::unique_ptr<BackupRead> backup_read(transport::Transport& t, const std::string& db, const std::string& backup_id);
std::unique_ptr<StagedRestore> stage(transport::Transport& t, const inventory::Host& host, const DataEntry& e);
std::unique_ptr<ScratchRestore> scratch(transport::Transport& local, const std::string& dir, const DataEntry& e);
std::string live_diff(transport::Transport& t, const DataEntry& e);
std::string teardown(transport::Transport& t, const inventory::Host& host, const std::string& db);

}  // namespace decamp::data::postgres
