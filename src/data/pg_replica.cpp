// PostgreSQL streaming replica for a migration. Every command is a small sh script built as
// text (values quoted with shell::quote, SQL values with quote_ident/quote_literal), so the
// unit tests assert the exact text. psql always runs as the cluster's OS user over the local
// socket (peer auth), which fence deliberately keeps open for us.
//
// The replication password never appears in a command line (visible in `ps`) or in an error:
// grant feeds its SQL to psql on stdin, build_replica feeds a passfile line and the
// primary_conninfo line on stdin; the scripts read them with the `read` builtin.
#include "data/pg_replica.hpp"

#include <arpa/inet.h>

#include <chrono>
#include <thread>

#include "data/pg_sh.hpp"
#include "modules/module.hpp"
#include "modules/postgresql.hpp"
#include "util/error.hpp"
#include "util/shell.hpp"

namespace decamp::data::pg {

namespace {

using shell::join;
using shell::quote;

// The migration id marks lines in pg_hba.conf; keep it to characters that need no escaping.
void check_plan(const ReplicaPlan& p) {
    if (!all_chars(p.migration_id, "._-"))
        throw Error("migration id '" + p.migration_id + "' must be letters, digits, '.', '_' or '-'");
    const auto& u = p.repl_user;
    if (!all_chars(u, "_") || (u[0] >= '0' && u[0] <= '9') || u != [&] {
            std::string l = u;
            for (char& c : l) c = char(std::tolower(c));
            return l;
        }())
        throw Error("replication user '" + u + "' must be a plain lower-case identifier");
}

void check_password(const ReplicaPlan& p) {
    check_plan(p);
    const std::string& pw = p.repl_password.reveal();
    if (pw.empty()) throw Error("the replication password is empty");
    if (pw.find_first_of(std::string("\n\r\0", 3)) != std::string::npos)
        throw Error("the replication password must not contain newlines or NUL bytes");
}

// "1.2.3.4" → "1.2.3.4/32", "fd00::1" → "fd00::1/128", a host name as is (PostgreSQL then
// checks forward and reverse DNS); anything else is refused, it would land in pg_hba.conf.
std::string host_cidr(const std::string& addr) {
    unsigned char buf[16];
    if (::inet_pton(AF_INET, addr.c_str(), buf) == 1) return addr + "/32";
    if (::inet_pton(AF_INET6, addr.c_str(), buf) == 1) return addr + "/128";
    if (all_chars(addr, ".-") && addr[0] != '-' && addr[0] != '.') return addr;
    throw Error("target address '" + addr + "' must be an IP address or a host name");
}

std::string pg_ctl_options(const Cluster& c) {
    std::string o = "-p " + std::to_string(c.port);
    if (!c.conf_dir.empty() && c.conf_dir != c.data_dir)
        o += " -c " + quote("config_file=" + c.conf_dir + "/postgresql.conf");
    return o;  // pg_ctl hands this to sh, hence the inner quoting
}

std::string marker(const ReplicaPlan& p) { return "# decamp-migration " + p.migration_id; }
std::string fence_marker(const ReplicaPlan& p) { return "# decamp-fence " + p.migration_id; }

std::string streaming_sql(const ReplicaPlan* p) {
    std::string sql =
        "SELECT pg_catalog.pg_is_in_recovery() AND EXISTS (SELECT 1 FROM "
        "pg_catalog.pg_stat_wal_receiver WHERE status = 'streaming'";
    if (p)
        sql += " AND sender_host = " + quote_literal(p->source_address) +
               " AND sender_port = " + std::to_string(p->source.port);
    return sql + ")";
}

}  // namespace

// ---- cluster ----

std::string discover_cmd() {
    return "cd / || exit 1\n"
           "if command -v pg_lsclusters >/dev/null 2>&1; then\n"
           "  pg_lsclusters -h | awk '{ c = $1 \" \" $2 \" \" $3; if (all == \"\") all = c;"
           " if ($4 ~ /^online/) { if (on == \"\") on = c; if ($3 == 5432 && p == \"\") p = c } }"
           " END { print (p != \"\" ? p : on != \"\" ? on : all) }'\n"
           "else\n"
           "  v=$(" + join(as_user(debian_cluster("0"), {"psql", "-X", "-A", "-t", "-h", "/var/run/postgresql", "-p", "5432",
                                                  "-d", "dbname='postgres'", "-c",
                                                  "SELECT current_setting('server_version_num')::int / 10000"})) +
           ") && echo \"$v main 5432\"\n"
           "fi";
}

std::string start_cmd(const Cluster& c) {
    if (!c.service.empty()) return join({"systemctl", "start", "--", c.service});
    std::string log = c.log_file.empty() ? c.data_dir + ".log" : c.log_file;
    return join(as_user(c, {bin(c, "pg_ctl"), "-D", c.data_dir, "-l", log, "-w", "-t", "120", "-o",
                            pg_ctl_options(c), "start"})) +
           " >/dev/null";
}

std::string stop_cmd(const Cluster& c) {
    if (!c.service.empty()) return join({"systemctl", "stop", "--", c.service});
    return "if " + join(as_user(c, {bin(c, "pg_ctl"), "-D", c.data_dir, "status"})) +
           " >/dev/null 2>&1; then " +
           join(as_user(c, {bin(c, "pg_ctl"), "-D", c.data_dir, "-m", "fast", "-w", "-t", "120",
                            "stop"})) +
           " >/dev/null; fi";
}

// ---- command builders ----

std::string version_cmd(const Cluster& c) {
    return "cd / || exit 1\nif [ -f " + quote(c.data_dir + "/PG_VERSION") + " ]; then cat " +
           quote(c.data_dir + "/PG_VERSION") + "; else " +
           join(as_user(c, {"psql", "-X", "-A", "-t", "-h", c.socket_dir, "-p",
                            std::to_string(c.port), "-d", "dbname='postgres'", "-c",
                            "SELECT current_setting('server_version_num')::int / 10000"})) +
           "; fi";
}

std::string data_size_cmd(const Cluster& c, const std::string& db) {
    return preamble(c) + psql_c("SELECT pg_catalog.pg_database_size(" + quote_literal(db) + ")");
}

std::string hba_line(const ReplicaPlan& p) {
    check_plan(p);
    if (p.hba_database != "replication" && !all_chars(p.hba_database, "_-$"))
        throw Error("database '" + p.hba_database + "' must be letters, digits, '_', '-' or '$'");
    const std::string db = p.hba_database == "replication" ? p.hba_database : "\"" + p.hba_database + "\"";
    return "hostssl " + db + " " + p.repl_user + " " + host_cidr(p.target_address) + " scram-sha-256  " +
           marker(p);
}

std::string grant_replication_stdin(const ReplicaPlan& p) {
    check_password(p);
    // Keep the statement (and its password) out of the server log, even on error.
    return "SET log_statement = 'none';\n"
           "SET log_min_error_statement = 'panic';\n"
           "SET password_encryption = 'scram-sha-256';\n"
           "SELECT format('%s ROLE %I WITH REPLICATION LOGIN PASSWORD %L', "
           "CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = " +
           quote_literal(p.repl_user) + ") THEN 'ALTER' ELSE 'CREATE' END, " + quote_literal(p.repl_user) +
           ", " + quote_literal(p.repl_password.reveal()) + ")\n\\gexec\n" +
           (p.read_all_data ? "ALTER ROLE " + quote_ident(p.repl_user) +
                                  " BYPASSRLS;\nGRANT pg_read_all_data TO " + quote_ident(p.repl_user) + ";\n"
                            : std::string());
}

std::string grant_replication_cmd(const ReplicaPlan& p) {
    const std::string line = hba_line(p);
    const Cluster& c = p.source;
    return preamble(c) + psql_stdin_fn(c) +
           "ssl=$(" + psql_c("SHOW ssl") + ") || exit 1\n" +
           "if [ \"$ssl\" != on ]; then echo \"decamp: ssl is off on the source cluster (port " +
           std::to_string(c.port) +
           "): replication would travel in clear; set ssl = on (Debian's snakeoil certificate "
           "will do)\" >&2; exit 3; fi\n" +
           "psql_stdin || exit 1\n" +
           "line=" + quote(line) + "\n" +
           "if ! grep -qxF -- \"$line\" " + quote(hba_path(c)) + "; then\n" +
           rewrite_file(hba_path(c), "cat \"$f\" && printf '%s\\n' \"$line\"") + "fi\n" +
           reload_and_check_hba();
}

std::string revoke_replication_cmd(const ReplicaPlan& p) {
    const std::string line = hba_line(p);
    const Cluster& c = p.source;
    const std::string user = quote_literal(p.repl_user);
    return preamble(c) + "line=" + quote(line) + "\n" + "if grep -qxF -- \"$line\" " + quote(hba_path(c)) +
           "; then\n" + rewrite_file(hba_path(c), "grep -vxF -- \"$line\" \"$f\"") + "fi\n" +
           psql_c("SELECT pg_catalog.pg_reload_conf()") + " >/dev/null || exit 1\n" +
           psql_c(
               "SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM "
               "pg_catalog.pg_stat_activity WHERE usename = " +
               user) +
           " >/dev/null || exit 1\n" +
           // A fenced source starts every session read-only; this one must write.
           "psql_ -c " + quote("SET default_transaction_read_only = off") + " -c " +
           quote("DROP ROLE IF EXISTS " + quote_ident(p.repl_user)) + " || exit 1\n";
}

std::string basebackup_stdin(const ReplicaPlan& p) {
    check_password(p);
    const std::string& pw = p.repl_password.reveal();
    // The walreceiver needs the password after the passfile is gone: it goes into
    // postgresql.auto.conf (0600, the server's own file), and promote removes it again.
    std::string conninfo = "host=" + conninfo_quote(p.source_address) +
                           " port=" + std::to_string(p.source.port) +
                           " user=" + conninfo_quote(p.repl_user) +
                           " password=" + conninfo_quote(pw) +
                           " sslmode=require application_name=" +
                           conninfo_quote("decamp-" + p.migration_id);
    std::string conf = "primary_conninfo = '";
    for (char ch : conninfo) {
        if (ch == '\'' || ch == '\\') conf += ch;  // the GUC file doubles both
        conf += ch;
    }
    conf += "'";
    return pgpass_line(p.source_address, p.source.port, p.repl_user, pw) + "\n" + conf + "\n";
}

std::string basebackup_cmd(const ReplicaPlan& p) {
    check_plan(p);
    const Cluster& c = p.target;
    const std::string conninfo = "host=" + conninfo_quote(p.source_address) +
                                 " port=" + std::to_string(p.source.port) +
                                 " user=" + conninfo_quote(p.repl_user) +
                                 " sslmode=require application_name=" +
                                 conninfo_quote("decamp-" + p.migration_id);
    const std::string data = quote(c.data_dir);
    const std::string owner = quote(c.os_user);
    std::string s = preamble(c);
    s += "umask 077\n"
         "IFS= read -r passline || exit 1\n"
         "IFS= read -r conninfo_line || exit 1\n"
         "pf=$(mktemp /tmp/decamp-pgpass.XXXXXX) || exit 1\n"
         "trap 'rm -f \"$pf\"' EXIT\n"
         "trap 'exit 130' INT TERM HUP\n"
         "printf '%s\\n' \"$passline\" >\"$pf\" && chown " + owner + " \"$pf\" || exit 1\n";
    s += stop_cmd(c) + " || exit 1\n";
    // A data dir left by an interrupted run is junk: drop it, keep the real .pre-decamp.
    s += "if [ -f " + quote(c.data_dir + ".decamp-partial") + " ] && [ ! -L " + quote(c.data_dir + ".decamp-partial") + " ]; then rm -rf -- " + data +
         "; elif [ -e " + data + " ]; then rm -rf -- " + quote(c.data_dir + ".pre-decamp") +
         " && mv -T -- " + data + " " + quote(c.data_dir + ".pre-decamp") + " || exit 1; fi\n";
    // Not touch: it would create whatever file a symlink planted at that name points to.
    s += shell::write_file_atomic(c.data_dir + ".decamp-partial", "", "0600", "", "") + " || exit 1\n";
    s += "install -d -o " + owner + " -g \"$(id -gn " + owner + ")\" -m 0700 -- " + data +
         " || exit 1\n";
    s += join(as_user(c, {"env"})) + " \"PGPASSFILE=$pf\" " +
         join({bin(c, "pg_basebackup"), "-h", p.source_address, "-p", std::to_string(p.source.port),
               "-U", p.repl_user, "-d", conninfo, "-D", c.data_dir, "-R", "-X", "stream", "-c",
               "fast", "-w"}) +
         " || exit 1\n";
    // -R wrote a primary_conninfo naming the passfile, which is about to go: use ours.
    const std::string auto_conf = c.data_dir + "/postgresql.auto.conf";
    s += rewrite_file(auto_conf, "grep -v '^primary_conninfo = ' \"$f\"; printf '%s\\n' \"$conninfo_line\"");
    // When the configuration lives in the data dir (no /etc split), keep the target's own.
    if (c.conf_dir == c.data_dir) {
        s += "for cf in postgresql.conf pg_hba.conf pg_ident.conf; do if [ -f " +
             quote(c.data_dir + ".pre-decamp") + "/\"$cf\" ]; then cp -p -- " +
             quote(c.data_dir + ".pre-decamp") + "/\"$cf\" " + data + "/\"$cf\" || exit 1; fi; done\n";
    }
    s += "chown -R " + owner + ": -- " + data + " || exit 1\n";
    s += start_cmd(c) + " || exit 1\n";
    s += "i=0\nuntil [ \"$(" + psql_c(streaming_sql(&p)) + " 2>/dev/null)\" = t ]; do\n"
         "  i=$((i+1))\n"
         "  if [ $i -ge " + std::to_string(kReplicaStartTimeoutS * 2) + " ]; then\n"
         "    echo \"decamp: the replica did not start streaming from the source within " +
         std::to_string(kReplicaStartTimeoutS) + "s; wal receiver: $(" +
         psql_c("SELECT status FROM pg_catalog.pg_stat_wal_receiver") + " 2>&1)\" >&2; exit 4\n"
         "  fi\n  sleep 0.5\ndone\n";
    s += "rm -f -- " + quote(c.data_dir + ".decamp-partial") + "\n";
    return s;
}

std::string stop_basebackup_cmd(const ReplicaPlan& p) {
    check_plan(p);
    // basebackup_cmd may outlive the decamp that started it (sshd does not stop a command
    // without a tty), holding the host's lock: stop it and its pg_basebackup. The brackets
    // keep each pattern from matching this command's own command line.
    const std::string id = "decamp-" + p.migration_id;
    return "pkill -f -- " + quote("decamp-pgpas[s].*" + id) + "; pkill -f -- " +
           quote("pg_basebacku[p] .*" + id) + "; sleep 1; true";
}

std::string restore_target_cmd(const ReplicaPlan& p) {
    check_plan(p);
    const Cluster& c = p.target;
    const std::string data = quote(c.data_dir);
    const std::string pre = quote(c.data_dir + ".pre-decamp");
    const std::string partial = quote(c.data_dir + ".decamp-partial");
    // Only a data dir this migration made is replaced: the partial marker is written after
    // the old data was moved aside, and pg_basebackup -R leaves standby.signal. Anything
    // else is the target's own data (the kill came before the move) and stays.
    std::string s = "cd / || exit 1\n";
    s += "if [ -f " + partial + " ] || [ -f " + quote(c.data_dir + "/standby.signal") + " ]; then\n";
    s += "  if [ -d " + pre + " ] && [ ! -L " + pre + " ]; then\n";
    s += "    " + stop_cmd(c) + " || exit 1\n";
    s += "    rm -rf -- " + data + " && mv -T -- " + pre + " " + data + " || exit 1\n";
    s += "  fi\n";
    s += "  rm -f -- " + partial + "\n";
    s += "fi\n";
    s += start_cmd(c) + "\n";
    return s;
}

std::string is_replica_cmd(const Cluster& c) {
    return preamble(c) + "[ \"$(" + psql_c(streaming_sql(nullptr)) + ")\" = t ]";
}

std::string is_replica_of_cmd(const ReplicaPlan& p) {
    return preamble(p.target) + "[ \"$(" + psql_c(streaming_sql(&p)) + ")\" = t ]";
}

std::string lag_cmd(const Cluster& c) { return lag_cmd(c, "decamp_repl"); }

std::string lag_cmd(const Cluster& c, const std::string& repl_user) {
    return preamble(c) +
           psql_c("SELECT COALESCE(max(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), "
                  "replay_lsn))::bigint, -1) FROM pg_catalog.pg_stat_replication WHERE usename = " +
                  quote_literal(repl_user));
}

std::vector<std::string> fence_hba_lines(const ReplicaPlan& p) {
    check_plan(p);
    const std::string m = fence_marker(p);
    // First match wins: our own superuser socket stays open (peer), every other
    // non-replication connection is refused; replication lines ("all" does not match them)
    // are left alone so the replica keeps streaming.
    return {"local all " + p.source.os_user + " peer  " + m,
            "local all all reject  " + m,
            "host all all 0.0.0.0/0 reject  " + m,
            "host all all ::/0 reject  " + m};
}

std::string fence_cmd(const ReplicaPlan& p) {
    const Cluster& c = p.source;
    const auto lines = fence_hba_lines(p);
    std::string printf_lines = "printf '%s\\n'";
    for (const auto& l : lines) printf_lines += " " + quote(l);
    std::string s = preamble(c);
    s += "if ! grep -qxF -- " + quote(lines[1]) + " " + quote(hba_path(c)) + "; then\n" +
         rewrite_file(hba_path(c), printf_lines + " && cat \"$f\"") + "fi\n";
    s += psql_c("ALTER SYSTEM SET default_transaction_read_only = on") + " || exit 1\n";
    s += reload_and_check_hba();
    // pg_reload_conf only signals: wait until a new session sees the setting (the same
    // SIGHUP reloads pg_hba.conf), then end every client session but ours.
    s += "i=0\nuntil [ \"$(" + psql_c("SHOW default_transaction_read_only") + ")\" = on ]; do\n"
         "  i=$((i+1)); if [ $i -ge 100 ]; then echo 'decamp: the source did not reload its "
         "configuration' >&2; exit 3; fi; sleep 0.1\ndone\n";
    const std::string kill =
        psql_c("SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity "
               "WHERE backend_type = 'client backend' AND pid <> pg_catalog.pg_backend_pid()") +
        " >/dev/null || exit 1\n";
    s += kill + "sleep 0.2\n" + kill;  // the second round catches a session that was mid-login
    s += "psql_ -c CHECKPOINT -c " + quote("SELECT pg_catalog.pg_switch_wal()") +
         " >/dev/null || exit 1\n";
    return s;
}

std::string unfence_cmd(const ReplicaPlan& p) {
    const Cluster& c = p.source;
    const auto lines = fence_hba_lines(p);
    std::string grep = "grep -vxF";
    for (const auto& l : lines) grep += " -e " + quote(l);
    std::string s = preamble(c);
    s += "if grep -qF -- " + quote(fence_marker(p)) + " " + quote(hba_path(c)) + "; then\n" +
         rewrite_file(hba_path(c), grep + " -- \"$f\"") + "fi\n";
    s += "psql_ -c " + quote("SET default_transaction_read_only = off") + " -c " +
         quote("ALTER SYSTEM RESET default_transaction_read_only") + " || exit 1\n";
    s += psql_c("SELECT pg_catalog.pg_reload_conf()") + " >/dev/null || exit 1\n";
    return s;
}

std::string current_lsn_cmd(const Cluster& c) {
    return preamble(c) + psql_c("SELECT pg_catalog.pg_current_wal_lsn()");
}

std::string replay_lsn_cmd(const Cluster& c) {
    return preamble(c) + psql_c("SELECT pg_catalog.pg_last_wal_replay_lsn()");
}

std::string promote_cmd(const Cluster& c) {
    std::string s = preamble(c);
    s += "if [ \"$(" + psql_c("SELECT pg_catalog.pg_is_in_recovery()") + ")\" = t ]; then\n"
         "  ok=$(" + psql_c("SELECT pg_catalog.pg_promote(true, 60)") + ") || exit 1\n"
         "  if [ \"$ok\" != t ]; then echo 'decamp: pg_promote did not finish within 60s' >&2; "
         "exit 3; fi\nfi\n";
    s += "i=0\nuntil [ \"$(" + psql_c("SELECT pg_catalog.pg_is_in_recovery()") + ")\" = f ]; do\n"
         "  i=$((i+1)); if [ $i -ge 600 ]; then echo 'decamp: still in recovery after promote' "
         ">&2; exit 3; fi; sleep 0.1\ndone\n";
    // A restart must not try to follow the old source (and the password leaves the host).
    s += "psql_ -c " + quote("ALTER SYSTEM RESET primary_conninfo") + " -c " +
         quote("SELECT pg_catalog.pg_reload_conf()") + " >/dev/null || exit 1\n";
    s += "rm -f -- " + quote(c.data_dir + "/standby.signal") + " " +
         quote(c.data_dir + "/recovery.signal") + "\n";
    return s;
}

std::string row_counts_cmd(const Cluster& c, const std::string& db) {
    // One statement, exact counts via query_to_xml; names as identifiers (quoted when odd)
    // with tab/newline/backslash escaped so every table is one line. Sorted bytewise.
    const std::string name =
        "replace(replace(replace(format('%I.%I', n.nspname, c.relname), '\\', '\\\\'), "
        "E'\\n', '\\n'), E'\\t', '\\t')";
    // Sorted bytewise here rather than with COLLATE "C", whatever the database's collation.
    return preamble(c, db) + "out=$(" +
           psql_c("SELECT line FROM (SELECT " + name +
                  " || E'\\t' || (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS "
                  "n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text AS line "
                  "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = "
                  "c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN "
                  "('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%') s") +
           ") || exit 1\n[ -z \"$out\" ] || printf '%s\\n' \"$out\" | LC_ALL=C sort\n";
}

uint64_t parse_lsn(const std::string& text) {
    const std::string t = trim(text);
    const size_t slash = t.find('/');
    auto hex = [&](const std::string& part) {
        if (part.empty() || part.size() > 8 ||
            part.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
            throw Error("not a WAL position: '" + t + "'");
        return uint64_t(std::stoull(part, nullptr, 16));
    };
    if (slash == std::string::npos) throw Error("not a WAL position: '" + t + "'");
    return hex(t.substr(0, slash)) << 32 | hex(t.substr(slash + 1));
}

// ---- runners ----

void grant(transport::Transport& source, const ReplicaPlan& p) {
    transport::RunOptions o;
    o.stdin_data = grant_replication_stdin(p);
    run_checked(source, "granting replication to " + p.target_address, grant_replication_cmd(p),
                &p, o);
}

void revoke(transport::Transport& source, const ReplicaPlan& p) {
    run_checked(source, "revoking replication", revoke_replication_cmd(p), &p);
}

void restore_target(transport::Transport& target, const ReplicaPlan& p) {
    (void)target.run(stop_basebackup_cmd(p));  // not under the lock: the orphan holds it
    run_checked(target, "putting the target's own PostgreSQL data back", restore_target_cmd(p), &p);
}

bool is_replica(transport::Transport& target, const ReplicaPlan& p) {
    return target.run(is_replica_of_cmd(p)).exit_status == 0;
}

void build_replica(transport::Transport& target, const ReplicaPlan& p) {
    if (is_replica(target, p)) return;  // already streaming from this source
    transport::RunOptions o;
    o.stdin_data = basebackup_stdin(p);
    run_checked(target, "building the replica from " + p.source_address, basebackup_cmd(p), &p, o);
}

int64_t lag_bytes(transport::Transport& source, const ReplicaPlan& p) {
    auto r = run_checked(source, "reading replication lag", lag_cmd(p.source, p.repl_user), &p);
    try {
        return std::stoll(trim(r.out));
    } catch (const std::exception&) {
        throw Error(source.describe() + ": unexpected replication lag '" + trim(r.out) + "'");
    }
}

void fence(transport::Transport& source, const ReplicaPlan& p) {
    run_checked(source, "fencing the source database", fence_cmd(p), &p);
}

void unfence(transport::Transport& source, const ReplicaPlan& p) {
    run_checked(source, "unfencing the source database", unfence_cmd(p), &p);
}

uint64_t current_lsn(transport::Transport& source, const ReplicaPlan& p) {
    return parse_lsn(run_checked(source, "reading the WAL position", current_lsn_cmd(p.source), &p).out);
}

uint64_t replay_lsn(transport::Transport& target, const ReplicaPlan& p) {
    auto out = trim(run_checked(target, "reading the replay position", replay_lsn_cmd(p.target), &p).out);
    return out.empty() ? 0 : parse_lsn(out);
}

uint64_t wait_caught_up(transport::Transport& source, transport::Transport& target,
                        const ReplicaPlan& p, int timeout_s) {
    const uint64_t want = current_lsn(source, p);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    for (;;) {
        const uint64_t got = replay_lsn(target, p);
        if (got >= want) return got;
        if (std::chrono::steady_clock::now() >= deadline)
            throw Error(target.describe() + ": the replica did not catch up within " +
                        std::to_string(timeout_s) + "s (" + std::to_string(want - got) +
                        " bytes of WAL behind)");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

void promote(transport::Transport& target, const ReplicaPlan& p) {
    run_checked(target, "promoting the replica", promote_cmd(p.target), &p);
}

Cluster discover(transport::Transport& t) {
    return parse_discovered(run_checked(t, "finding the PostgreSQL cluster", discover_cmd(), nullptr).out);
}

std::string row_counts(transport::Transport& t, const Cluster& c, const std::string& db) {
    return run_checked(t, "counting rows", row_counts_cmd(c, db), nullptr).out;
}

}  // namespace decamp::data::pg
