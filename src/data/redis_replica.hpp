// The Redis mover's commands and answers, as text (unit-tested without a host): the target
// becomes a replica of the source over mutual TLS on a port the source opens for this
// migration only (its own CA, a server and a client certificate made on the source; an
// nftables table lets only the target's address reach that port), writes are paused at
// cutover, the offsets compared, and the target is promoted with REPLICAOF NO ONE.
//
// The password never appears in a command: redis-cli runs as
// `read REDISCLI_AUTH; exec redis-cli …` and its stdin holds the password on the first
// line, then the commands, one per line (masterauth is set the same way).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "util/secret.hpp"

namespace decamp::data::redis {

struct Plan {
    std::string migration_id;
    std::string source_address;  // where the target reaches the source's TLS port
    std::string target_address;  // the only address let through to that port
    int port = 6379;             // the instance's port on both sides (loopback for redis-cli)
    SecretString password;       // "" when the instance has none
};

// The port the source opens for the replica (TLS only): the instance's port + 1.
int tls_port(const Plan& p);
// Where the migration keeps its certificates, on each host (owned by redis, 0700).
std::string cert_dir(const Plan& p);
// The nftables table guarding the TLS port on the source.
std::string nft_table(const Plan& p);

// A word for redis-cli's stdin parser: "..." with \" \\ and \xHH for anything unprintable.
std::string quote_arg(const std::string& arg);
// The command running redis-cli on loopback with the password read from stdin.
std::string cli_cmd(const Plan& p);
// cli_cmd's stdin: the password line, then each command on its own line.
std::string cli_stdin(const Plan& p, const std::vector<std::vector<std::string>>& commands);
// Error unless redis-cli answered `n` lines of OK (what it prints for CONFIG SET, REPLICAOF …).
void expect_ok(const std::string& out, size_t n, const std::string& what);

// INFO's "key:value" lines (sections and \r ignored).
std::map<std::string, std::string> parse_info(const std::string& text);
// CONFIG GET's alternating name / value lines into a map.
std::map<std::string, std::string> parse_config(const std::string& text);

// ---- source ----
// Makes the CA, the source's server certificate (for its address) and the target's client
// certificate, once (a later run finds them and does nothing).
std::string make_certs_cmd(const Plan& p);
// The TLS settings the source's original values are read from, and restored to on undo.
std::vector<std::string> tls_settings();
// Lets only the target's address reach the TLS port (when nft exists; prints "nft" or
// "no nft").
std::string firewall_cmd(const Plan& p);
// Removes the table, the certificates: every trace on a host but its runtime settings.
std::string cleanup_cmd(const Plan& p, bool firewall);
// CONFIG SET commands opening the TLS port with our certificates.
std::vector<std::vector<std::string>> listen_commands(const Plan& p);
// CONFIG SET commands putting `original` (CONFIG GET output) back: tls_settings() first,
// in their order, then any other setting.
std::vector<std::vector<std::string>> restore_commands(const std::map<std::string, std::string>& original);
// Writes paused for `ms` milliseconds (a later call extends it).
std::vector<std::string> pause_command(int ms);

// ---- target ----
// What the replica needs besides the master: its password and our client certificate.
std::vector<std::vector<std::string>> replica_commands(const Plan& p);
// Promotion: no master, and no masterauth nor TLS replication left behind.
std::vector<std::vector<std::string>> promote_commands();

// What INFO replication on the target says about the link.
struct Link {
    bool up = false;
    bool syncing = false;  // the initial transfer is still running
    int64_t offset = -1;   // the replica's processed offset
    std::string master;    // host:port it follows
};
Link parse_link(const std::map<std::string, std::string>& info);
// The source's replication offset (master_repl_offset), -1 when absent.
int64_t parse_offset(const std::map<std::string, std::string>& info);
// "" when the target is a fully synced replica of the source's TLS port, else why not.
std::string link_problem(const Plan& p, const Link& l);

// The redis-server major version from `redis-server --version` ("Redis server v=7.0.15 …"),
// 0 when unknown.
int parse_server_major(const std::string& text);
// Target refusal across versions: a replica cannot load an RDB of a newer server.
std::string version_refusal(const std::string& source_host, int source_major, const std::string& target_host,
                            int target_major);

constexpr int kPauseMs = 30000;      // one CLIENT PAUSE; re-issued while the cutover lasts
constexpr int kSyncTimeoutS = 3600;  // the initial transfer

}  // namespace decamp::data::redis
