// PostgreSQL data mover for a migration: the target becomes a streaming replica of the
// source (pg_basebackup over TLS, a replication user and one pg_hba line on the source for
// the target's address only), then is promoted at cutover after the source is fenced.
// Commands are built here as text (unit-tested); the functions taking Transports run them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "transport/transport.hpp"
#include "util/secret.hpp"

namespace decamp::data::pg {

struct Cluster {
    std::string version = "15";          // major version
    std::string name = "main";            // Debian cluster name
    std::string data_dir;                 // default /var/lib/postgresql/<v>/<name>
    std::string conf_dir;                 // default /etc/postgresql/<v>/<name>
    int port = 5432;
    std::string service;                  // systemd unit, default postgresql@<v>-<name>
    std::string os_user = "postgres";
    std::string bin_dir;                  // default /usr/lib/postgresql/<v>/bin
    std::string socket_dir = "/var/run/postgresql";  // where psql finds the local socket
    // Without a systemd `service` the cluster is driven with pg_ctl (tests, non-Debian
    // layouts): the server log then goes to `log_file` (default <data_dir>.log).
    std::string log_file;
};

// Fills defaults from version and name.
Cluster debian_cluster(const std::string& version, const std::string& name = "main");

// Which cluster a host runs, asked once instead of guessed: Debian's pg_lsclusters (the
// online cluster on port 5432, else the first online one, else the first listed); without
// postgresql-common, the server on the default socket. Prints "version name port".
std::string discover_cmd();
// Parses discover_cmd's answer; Error when it found no cluster.
Cluster parse_discovered(const std::string& text);

// The PostgreSQL major a target has or will have: its cluster's when one exists, else the
// one apt would install with the `postgresql` package (what the playbooks install), else
// unknown (no cluster and no package lists yet). Read-only; prints "cluster 17", "apt 17"
// or "unknown".
std::string target_major_cmd();
struct TargetMajor {
    std::string version;  // "" when unknown
    std::string from;     // "cluster", "apt" or ""
};
// Parses target_major_cmd's answer (a host's answer: anything else is "unknown").
TargetMajor parse_target_major(const std::string& text);
// The physical replica's one rule across hosts: the same PostgreSQL major on both sides (a
// different Debian release is fine when the majors agree). "" when it can move, else the
// refusal naming both versions; an unknown target major is no refusal (the replicate step
// checks the provisioned cluster again).
std::string physical_refusal(const std::string& source_host, const std::string& source_major,
                             const std::string& target_host, const TargetMajor& target);

struct ReplicaPlan {
    std::string migration_id;     // marks what we add, so abort removes exactly that
    std::string source_address;   // how the target reaches the source
    std::string target_address;   // the only address allowed to replicate
    std::string database;         // the data set's database (for checks and row counts)
    std::string repl_user = "decamp_repl";
    SecretString repl_password;
    // What the pg_hba line lets the user reach: physical replication, or for a logical
    // subscription the database itself (which a "replication" line does not match).
    std::string hba_database = "replication";
    bool read_all_data = false;  // logical: the initial copy reads every table (and row)
    Cluster source;
    Cluster target;
};

// ---- pure command builders (sh scripts run as root on a host) ----
std::string version_cmd(const Cluster& c);                 // prints e.g. "15"
std::string data_size_cmd(const Cluster& c, const std::string& db);  // prints bytes
std::string grant_replication_cmd(const ReplicaPlan& p);   // source: role + marked pg_hba line + reload (idempotent)
std::string revoke_replication_cmd(const ReplicaPlan& p);  // source: drop role, remove exactly our line, reload (idempotent)
std::string basebackup_cmd(const ReplicaPlan& p);          // target: stop, keep old data aside, pg_basebackup -R over TLS, start
std::string stop_basebackup_cmd(
    const ReplicaPlan& p);  // target: stop an orphaned basebackup_cmd of this migration
std::string restore_target_cmd(const ReplicaPlan& p);      // target: undo basebackup_cmd (abort; idempotent)
std::string is_replica_cmd(const Cluster& c);              // exit 0 when in recovery and streaming
std::string lag_cmd(const Cluster& c);                     // source: prints replay lag in bytes for our user
std::string fence_cmd(const ReplicaPlan& p);               // source: no client can commit anymore (idempotent)
std::string unfence_cmd(const ReplicaPlan& p);             // source: undo fence exactly (rollback)
std::string current_lsn_cmd(const Cluster& c);             // source: prints pg_current_wal_lsn()
std::string replay_lsn_cmd(const Cluster& c);              // target: prints pg_last_wal_replay_lsn()
std::string promote_cmd(const Cluster& c);                 // target: promote and wait until writable
std::string row_counts_cmd(const Cluster& c, const std::string& db);  // "table<TAB>count" lines

uint64_t parse_lsn(const std::string& text);               // "0/3000148" → number; throws Error

// Added for the runners and tests (the functions above are the contract):
std::string quote_ident(const std::string& ident);         // "name", " doubled; throws Error on NUL
std::string quote_literal(const std::string& text);        // 'text' (E'' when a backslash is present)
std::string conninfo_quote(const std::string& value);      // libpq conninfo value: '...' with \ and \' escaped
std::string pgpass_line(const std::string& host, int port, const std::string& user,
                        const std::string& password);     // ~/.pgpass format, : and \ escaped
std::string hba_line(const ReplicaPlan& p);                // the one line grant adds
std::vector<std::string> fence_hba_lines(const ReplicaPlan& p);  // lines fence puts at the top
std::string start_cmd(const Cluster& c);                   // systemctl start, or pg_ctl start (ctl mode)
std::string stop_cmd(const Cluster& c);
std::string grant_replication_stdin(const ReplicaPlan& p); // the SQL grant feeds psql (holds the password)
std::string basebackup_stdin(const ReplicaPlan& p);        // passfile line + primary_conninfo line
std::string is_replica_of_cmd(const ReplicaPlan& p);       // target: streaming from p.source_address
std::string lag_cmd(const Cluster& c, const std::string& repl_user);
// Waits (up to timeout) for streaming when building a replica.
constexpr int kReplicaStartTimeoutS = 120;

// ---- runners over transports (throw decamp::Error with the host's stderr on failure) ----
void grant(transport::Transport& source, const ReplicaPlan& p);
void revoke(transport::Transport& source, const ReplicaPlan& p);
void build_replica(transport::Transport& target, const ReplicaPlan& p);
// Abort: stops a pg_basebackup of this migration still running on the target, and when the
// data dir is this migration's (partial marker, or a standby from pg_basebackup -R) puts the
// data kept aside back; the cluster is left running.
void restore_target(transport::Transport& target, const ReplicaPlan& p);
bool is_replica(transport::Transport& target, const ReplicaPlan& p);
int64_t lag_bytes(transport::Transport& source, const ReplicaPlan& p);
void fence(transport::Transport& source, const ReplicaPlan& p);
void unfence(transport::Transport& source, const ReplicaPlan& p);
// Waits until the target replayed everything up to the source's current LSN (after fence).
// Returns the LSN reached; throws on timeout.
uint64_t wait_caught_up(transport::Transport& source, transport::Transport& target,
                        const ReplicaPlan& p, int timeout_s);
void promote(transport::Transport& target, const ReplicaPlan& p);
uint64_t current_lsn(transport::Transport& source, const ReplicaPlan& p);
// The host's cluster (discover_cmd); Error when there is none.
Cluster discover(transport::Transport& t);
uint64_t replay_lsn(transport::Transport& target, const ReplicaPlan& p);  // 0 when none
// "schema.table<TAB>count" lines, sorted (names quoted as identifiers where needed).
std::string row_counts(transport::Transport& t, const Cluster& c, const std::string& db);

}  // namespace decamp::data::pg
