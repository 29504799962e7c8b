// PostgreSQL in a backup: `pg_dump -Fc` inside one exported snapshot, so the row counts
// recorded in the manifest are those of exactly the data in the dump, even while the app
// writes. A logical dump rather than WAL archiving: one consistent point per backup (the
// RPO is the backup interval), no archive_command to keep alive on production, and it
// restores on any later PostgreSQL major. Point-in-time recovery would need a base backup
// plus a continuous WAL archive off the provider; not done here.
// Restore goes into a scratch database first and replaces the real one only after the
// stream's sha256 and the row counts match the manifest.
// Pure builders (unit-tested text) plus runners over a transport.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "data/pg_replica.hpp"
#include "transport/transport.hpp"

namespace decamp::data::pgdump {

using data::pg::Cluster;

struct DbMeta {
    std::string owner, encoding, collate, ctype, pg_dump_version;
    std::map<std::string, uint64_t> tables;
};

// Streams the dump on stdout; writes the row counts to <workdir>/counts (workdir is created,
// owned by the cluster's OS user). Exit status = pg_dump's.
std::string dump_cmd(const Cluster& c, const std::string& db, const std::string& workdir);
// Prints "meta<TAB>owner<TAB>encoding<TAB>collate<TAB>ctype", "version<TAB>…" and the counts
// file's lines, then removes workdir.
std::string dump_meta_cmd(const Cluster& c, const std::string& db, const std::string& workdir);
DbMeta parse_meta(const std::string& out);
// Fresh empty database `scratch` shaped like the backed-up one (owner when that role exists).
std::string restore_prepare_cmd(const Cluster& c, const std::string& scratch, const DbMeta& meta);
// pg_restore of the stdin stream into `scratch`, in one transaction, stopping at the first error.
std::string restore_cmd(const Cluster& c, const std::string& scratch);
// Replaces `db` by `scratch` (ends the sessions on `db`).
std::string swap_cmd(const Cluster& c, const std::string& db, const std::string& scratch);
std::string drop_cmd(const Cluster& c, const std::string& db);
// Row counts of `db` (data::pg::row_counts_cmd, run without the migration's host lock:
// a restore must not wait for a lock a replica's postmaster may hold).
std::map<std::string, uint64_t> row_counts(transport::Transport& t, const Cluster& c, const std::string& db);
// "schema.table<TAB>count" lines, as data::pg::row_counts prints them, into a map.
std::map<std::string, uint64_t> parse_counts(const std::string& text);

}  // namespace decamp::data::pgdump
