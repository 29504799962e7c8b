// PostgreSQL across major versions: logical replication (a publication FOR ALL TABLES on the
// source, a subscription on the target with the initial copy) after the schema and the roles
// were copied with pg_dump / pg_dumpall through decamp. What logical replication would lose
// silently is refused at preflight (tables without a key, unlogged tables, large objects);
// at cutover every login role of the source is fenced, the subscription catches up to the
// source's final WAL position, every sequence is set on the target, and DDL run during the
// move is caught by a schema fingerprint. Commands are text (unit-tested); the runners take
// Transports. The subscription's password only ever travels in SQL on psql's stdin.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/pg_replica.hpp"
#include "transport/transport.hpp"

namespace decamp::data::pglogical {

using pg::Cluster;

// ---- which method ----
enum class Method { Physical, Logical };
// `setting` is the inventory's `method:` (auto, physical, logical; "" = auto); the majors are
// the source's and the target's (its cluster, or what its apt installs; "" = unknown yet).
// Error for `physical` across majors, or an unknown setting.
Method choose_method(const std::string& setting, const std::string& source_major,
                     const std::string& target_major);
// Once both clusters run: Error when `m` cannot move `source_major` to `target_major`.
void check_majors(Method m, const std::string& source_major, const std::string& target_major);
const char* method_name(Method m);

// The plan: the physical mover's (migration id, addresses, replication user and password,
// clusters, database) with the replication user's rights for a logical copy.
pg::ReplicaPlan logical_plan(pg::ReplicaPlan p);
// "decamp_<id>": the publication, the subscription and its slot (lower case, [a-z0-9_]).
std::string object_name(const std::string& migration_id);

// ---- preflight (source) ----
struct Table {
    std::string schema, name;
    char identity = 'd';  // pg_class.relreplident: d(efault), n(othing), f(ull), i(ndex)
    bool operator==(const Table&) const = default;
};
struct SourceCheck {
    std::string wal_level;
    int free_slots = 0;
    std::vector<Table> no_key;  // neither a primary key nor a replica identity
    std::vector<Table> unlogged;
    uint64_t large_objects = 0;
};
// Tables kept in the state ("<hex schema><TAB><hex name><TAB><identity>" lines), and back.
std::string encode_tables(const std::vector<Table>& v);
std::vector<Table> decode_tables(const std::string& text);
// Prints "wal_level", "free_slots", "large_objects" lines and one "nokey" / "unlogged" line
// per table, names hex-encoded (a host's names are data: tabs, newlines, anything).
std::string source_check_cmd(const Cluster& c, const std::string& db);
SourceCheck parse_source_check(const std::string& out);  // Error on a malformed line
// "" when the source can be moved, else why not: every object named.
std::string refusal(const SourceCheck& s, bool allow_identity_full, const Cluster& c);
// A relation's name for messages: quoted as SQL would, control characters as \xNN.
std::string display_name(const std::string& schema, const std::string& rel);

// ---- replicate ----
// Tables given REPLICA IDENTITY FULL (source, one transaction), and the undo per original
// identity ('d' default, 'n' nothing). Names as SourceCheck holds them.
std::string identity_full_sql(const std::vector<Table>& tables);
std::string identity_restore_sql(const std::vector<Table>& tables);
// Target: prints "absent", "empty", or "rows" lines naming (hex) each table holding rows.
std::string target_state_cmd(const Cluster& c, const std::string& db);
// Target: drops the database (it held no rows, or is this migration's partial copy).
std::string drop_target_db_cmd(const Cluster& c, const std::string& db);
// Source: the roles (pg_dumpall --roles-only) and the schema with its CREATE DATABASE
// (pg_dump --schema-only --create) on stdout, for the pump.
std::string dump_roles_cmd(const Cluster& c);
std::string dump_schema_cmd(const Cluster& c, const std::string& db);
// Target sinks: roles (a role that already exists is fine, any other error is not) and the
// schema (stop at the first error).
std::string load_roles_cmd(const Cluster& c);
std::string load_schema_cmd(const Cluster& c);
// Source: hex names of the materialized views holding data, oldest first (a schema-only
// dump creates them empty). Target: REFRESH for each, in that order, in one transaction.
std::string matviews_cmd(const Cluster& c, const std::string& db);
std::string refresh_matviews_sql(const std::string& matviews_out);
// Source: sha256 of the schema (pg_dump --schema-only without publications).
std::string fingerprint_cmd(const Cluster& c, const std::string& db);
// Source: CREATE PUBLICATION … FOR ALL TABLES unless it exists.
std::string publication_sql(const std::string& migration_id);
// Target (on stdin: holds the password): CREATE SUBSCRIPTION … unless it exists.
std::string subscription_sql(const pg::ReplicaPlan& p);
// Source: drops our slot when nothing uses it and the target has no subscription (an
// interrupted CREATE SUBSCRIPTION may leave it).
std::string drop_idle_slot_sql(const std::string& migration_id);
// Target: "<not ready><TAB><tables><TAB><db bytes><TAB><sync errors><TAB><apply errors>".
std::string copy_progress_cmd(const Cluster& c, const pg::ReplicaPlan& p);
// Source: bytes of WAL the subscription has not confirmed (-1: no slot).
std::string slot_lag_cmd(const Cluster& c, const std::string& migration_id);

// ---- cutover ----
// Source: hex names of every login role but ours (the OS user's and the replication user).
std::string login_roles_cmd(const Cluster& c, const std::string& repl_user);
// Source: those roles NOLOGIN, new sessions read-only, every client session ended but ours.
std::string fence_sql(const std::vector<std::string>& roles);
// Source: the exact undo of fence_sql for `roles`.
std::string unfence_sql(const std::vector<std::string>& roles);
// Source: the slot's confirmed flush position ("" when there is no slot).
std::string confirmed_lsn_sql(const std::string& migration_id);
// Source: "<hex schema><TAB><hex name><TAB><last_value or empty>" per sequence.
std::string sequences_cmd(const Cluster& c, const std::string& db);
// Target: setval for each sequence the source ever advanced; Error on a malformed line.
std::string set_sequences_sql(const std::string& sequences_out);
// Target: the subscription dropped, the replicated data kept. With `detach` the slot is
// left to the source (the source need not answer); without, DROP SUBSCRIPTION drops it.
std::string drop_subscription_sql(const std::string& migration_id, bool detach);
// Source: our slot (its walsender ended first) and our publication dropped.
std::string drop_source_objects_sql(const std::string& migration_id);

std::string fence_cmd(const Cluster& c);  // runs fence_sql from stdin, then ends the sessions

// ---- small shared pieces of pg_logical*.cpp ----
std::string hex_decode(const std::string& hex);  // Error on odd length, a non-hex digit or a NUL
std::string hex_sql(const std::string& expr);    // SQL: the name's UTF-8 bytes as hex
std::vector<std::string> split(const std::string& line, char sep);
std::vector<std::string> lines(const std::string& text);  // the non-empty ones
std::string qualified(const Table& t);                    // "schema"."name"
bool is_integer(const std::string& s);

// ---- runners (Error with the host's stderr, the password masked) ----
// Runs `sql` (on stdin) with psql on database `db`; returns stdout.
std::string run_sql(transport::Transport& t, const Cluster& c, const std::string& db, const std::string& sql,
                    const std::string& what, const pg::ReplicaPlan* p = nullptr);
// Runs the source check; Error naming everything refusal() found.
SourceCheck check_source(transport::Transport& source, const Cluster& c, const std::string& db,
                         bool allow_identity_full);
// Streams the source command's stdout into the target command; bytes moved.
uint64_t copy_stream(transport::Transport& source, const std::string& source_cmd,
                     transport::Transport& target, const std::string& target_cmd, const std::string& what);
// Waits until every table finished its initial copy; Error when nothing moved for
// `stall_s` seconds (with the subscription's error counts).
void wait_initial_copy(transport::Transport& target, const pg::ReplicaPlan& p, int stall_s);
// Waits until the slot confirmed `lsn`; Error after `timeout_s`.
uint64_t wait_confirmed(transport::Transport& source, const pg::ReplicaPlan& p, uint64_t lsn, int timeout_s);

}  // namespace decamp::data::pglogical
