// Logical replication across PostgreSQL majors: the command and SQL text (see pg_logical.hpp)
// and the runners. Whatever a host prints is data: names come back hex-encoded and are
// quoted here (quote_ident, quote_literal) before they reach any SQL; SQL built from them
// goes to psql on stdin, never into a script's text.
#include "data/pg_logical.hpp"

#include <cstdio>
#include <cstring>
#include <sstream>

#include "data/pg_sh.hpp"
#include "util/error.hpp"
#include "util/shell.hpp"

namespace decamp::data::pglogical {

namespace {

using pg::psql_c;
using pg::quote_ident;
using pg::quote_literal;
using shell::join;
using shell::quote;

const char* const kHex = "0123456789abcdef";

std::string hex_encode(const std::string& s) {
    std::string out;
    for (unsigned char ch : s) {
        out += kHex[ch >> 4];
        out += kHex[ch & 15];
    }
    return out;
}

std::string names_list(const std::vector<Table>& v) {
    std::string out;
    for (const auto& t : v) out += (out.empty() ? "" : ", ") + display_name(t.schema, t.name);
    return out;
}

Table table_of(const std::vector<std::string>& f, const std::string& line) {
    if (f.size() == 3 && f[2].size() == 1 && std::string("dnfi").find(f[2][0]) != std::string::npos)
        return {hex_decode(f[0]), hex_decode(f[1]), f[2][0]};
    if (f.size() == 2) return {hex_decode(f[0]), hex_decode(f[1]), 'd'};
    throw Error("unexpected table line '" + line.substr(0, 80) + "'");
}

// Dump and restore programs run as the cluster's OS user over the local socket.
shell::Argv client(const Cluster& c, const char* prog) {
    return pg::as_user(c, {pg::bin(c, prog), "-h", c.socket_dir, "-p", std::to_string(c.port)});
}

shell::Argv plus(shell::Argv a, const shell::Argv& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace

// SQL giving a name as lower-case hex of its UTF-8 bytes.
std::string hex_sql(const std::string& expr) {
    return "encode(convert_to(" + expr + ", 'UTF8'), 'hex')";
}

std::vector<std::string> split(const std::string& line, char sep) {
    std::vector<std::string> out(1);
    for (char ch : line) {
        if (ch == sep)
            out.emplace_back();
        else
            out.back() += ch;
    }
    return out;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (!l.empty()) out.push_back(l);
    return out;
}

std::string qualified(const Table& t) {
    return quote_ident(t.schema) + "." + quote_ident(t.name);
}

bool is_integer(const std::string& s) {
    size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
    return s.size() > i && s.size() <= 20 && s.find_first_not_of("0123456789", i) == std::string::npos;
}

// ---- which method ----

Method choose_method(const std::string& setting, const std::string& source_major,
                     const std::string& target_major) {
    // An unknown target major (no PostgreSQL there yet, apt silent) counts as the same: the
    // physical path checks again once the target is provisioned.
    const bool same = target_major.empty() || source_major == target_major;
    if (setting.empty() || setting == "auto") return same ? Method::Physical : Method::Logical;
    if (setting == "logical") return Method::Logical;
    if (setting == "physical") {
        if (!same)
            throw Error("method: physical, but PostgreSQL " + source_major + " on the source and " + target_major +
                        " on the target: streaming replication needs the same major version (use method: "
                        "logical or auto)");
        return Method::Physical;
    }
    throw Error("unknown PostgreSQL method \"" + setting + "\"; expected auto, physical or logical");
}

void check_majors(Method m, const std::string& source_major, const std::string& target_major) {
    if (m == Method::Physical && source_major != target_major)
        throw Error("PostgreSQL " + source_major + " on the source but " + target_major +
                    " on the target: streaming replication needs the same major version");
    if (m == Method::Logical && std::stod(target_major) < std::stod(source_major))
        throw Error("PostgreSQL " + source_major + " on the source but " + target_major +
                    " on the target: decamp does not move a database to an older major");
}

const char* method_name(Method m) {
    return m == Method::Logical ? "logical" : "physical";
}

pg::ReplicaPlan logical_plan(pg::ReplicaPlan p) {
    p.hba_database = p.database;
    p.read_all_data = true;
    return p;
}

std::string object_name(const std::string& migration_id) {
    std::string out = "decamp_";
    for (char ch : migration_id) {
        if (ch >= 'A' && ch <= 'Z') ch = char(ch - 'A' + 'a');
        out += ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) ? ch : '_';
    }
    return out.substr(0, 63);
}

std::string hex_decode(const std::string& hex) {
    if (hex.size() % 2) throw Error("not a hex-encoded name: '" + hex.substr(0, 40) + "'");
    std::string out;
    auto digit = [&](char ch) {
        const char* at = ch ? std::strchr(kHex, ch) : nullptr;
        if (!at) throw Error("not a hex-encoded name: '" + hex.substr(0, 40) + "'");
        return int(at - kHex);
    };
    for (size_t i = 0; i < hex.size(); i += 2) out += char(digit(hex[i]) * 16 + digit(hex[i + 1]));
    if (out.find('\0') != std::string::npos)
        throw Error("a name with a NUL byte: '" + hex.substr(0, 40) + "'");
    return out;
}

std::string display_name(const std::string& schema, const std::string& rel) {
    std::string q = quote_ident(schema) + "." + quote_ident(rel), out;
    for (unsigned char ch : q) {
        if (ch < 0x20 || ch == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", ch);
            out += buf;
        } else {
            out += char(ch);
        }
    }
    return out;
}

// ---- preflight ----

std::string source_check_cmd(const Cluster& c, const std::string& db) {
    const std::string rel =
        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";
    const std::string names = hex_sql("n.nspname") + " || E'\\t' || " + hex_sql("c.relname");
    return pg::preamble(c, db) + psql_c("SELECT 'wal_level' || E'\\t' || current_setting('wal_level')") +
           " || exit 1\n" +
           psql_c(
               "SELECT 'free_slots' || E'\\t' || (current_setting('max_replication_slots')::int - "
               "(SELECT count(*) FROM pg_catalog.pg_replication_slots))") +
           " || exit 1\n" +
           psql_c("SELECT 'large_objects' || E'\\t' || count(*) FROM pg_catalog.pg_largeobject_metadata") +
           " || exit 1\n" +
           psql_c("SELECT 'nokey' || E'\\t' || " + names + " || E'\\t' || c.relreplident::text " + rel +
                  " AND c.relpersistence = 'p' AND (c.relreplident = 'n' OR (c.relreplident = 'd' AND NOT "
                  "EXISTS "
                  "(SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))) "
                  "ORDER BY 1") +
           " || exit 1\n" +
           psql_c("SELECT 'unlogged' || E'\\t' || " + names + " " + rel +
                  " AND c.relpersistence = 'u' ORDER BY 1") +
           " || exit 1\n";
}

SourceCheck parse_source_check(const std::string& out) {
    SourceCheck s;
    for (const auto& l : lines(out)) {
        auto f = split(l, '\t');
        auto number = [&](const std::string& v) {
            if (!is_integer(v))
                throw Error("unexpected answer from the source's check: '" + l.substr(0, 80) + "'");
            return std::stoll(v);
        };
        if (f[0] == "wal_level" && f.size() == 2)
            s.wal_level = f[1];
        else if (f[0] == "free_slots" && f.size() == 2)
            s.free_slots = int(number(f[1]));
        else if (f[0] == "large_objects" && f.size() == 2)
            s.large_objects = uint64_t(number(f[1]));
        else if (f[0] == "nokey")
            s.no_key.push_back(table_of({f.begin() + 1, f.end()}, l));
        else if (f[0] == "unlogged")
            s.unlogged.push_back(table_of({f.begin() + 1, f.end()}, l));
        else
            throw Error("unexpected answer from the source's check: '" + l.substr(0, 80) + "'");
    }
    return s;
}

std::string encode_tables(const std::vector<Table>& v) {
    std::string out;
    for (const auto& t : v)
        out += hex_encode(t.schema) + "\t" + hex_encode(t.name) + "\t" + t.identity + "\n";
    return out;
}

std::vector<Table> decode_tables(const std::string& text) {
    std::vector<Table> out;
    for (const auto& l : lines(text)) out.push_back(table_of(split(l, '\t'), l));
    return out;
}

std::string refusal(const SourceCheck& s, bool allow_identity_full, const Cluster& c) {
    std::vector<std::string> why;
    if (s.wal_level != "logical")
        why.push_back(
            "wal_level is " + s.wal_level +
            " on the source and logical replication needs wal_level = logical: run ALTER SYSTEM SET "
            "wal_level = logical there, then restart PostgreSQL (" +
            (c.service.empty() ? std::string("pg_ctl restart") : "systemctl restart " + c.service) +
            "; the database is down for the restart)");
    if (s.free_slots < 3)
        why.push_back(
            "max_replication_slots leaves " + std::to_string(s.free_slots) +
            " slot(s) free on the source; the subscription needs 3 (its own, two during the initial "
            "copy): raise it and restart PostgreSQL");
    if (!s.no_key.empty() && !allow_identity_full)
        why.push_back(
            std::to_string(s.no_key.size()) +
            " table(s) have neither a primary key nor a replica identity, so their UPDATEs and "
            "DELETEs could not be replicated: " +
            names_list(s.no_key) +
            " — add a primary key, or allow REPLICA IDENTITY FULL with replica_identity_full: true in "
            "the data entry");
    if (!s.unlogged.empty())
        why.push_back(std::to_string(s.unlogged.size()) + " unlogged table(s) would not be replicated: " +
                      names_list(s.unlogged) + " — make them logged (ALTER TABLE … SET LOGGED) or drop them");
    if (s.large_objects > 0)
        why.push_back(
            std::to_string(s.large_objects) +
            " large object(s) (pg_largeobject) would not be replicated — move them into bytea columns "
            "or remove them");
    std::string out;
    for (const auto& w : why) out += (out.empty() ? "" : "; ") + w;
    return out;
}

// ---- replicate ----

std::string identity_full_sql(const std::vector<Table>& tables) {
    std::string sql = "BEGIN;\n";
    for (const auto& t : tables) sql += "ALTER TABLE " + qualified(t) + " REPLICA IDENTITY FULL;\n";
    return sql + "COMMIT;\n";
}

std::string identity_restore_sql(const std::vector<Table>& tables) {
    // A table dropped since is no error; the others get back exactly what they had.
    std::string sql = "SET default_transaction_read_only = off;\n";
    for (const auto& t : tables)
        sql += "SELECT format('ALTER TABLE %s REPLICA IDENTITY " +
               std::string(t.identity == 'n' ? "NOTHING" : "DEFAULT") +
               "', c.oid::regclass) FROM pg_catalog.pg_class c "
               "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = " +
               quote_literal(t.schema) + " AND c.relname = " + quote_literal(t.name) + "\n\\gexec\n";
    return sql;
}

std::string target_state_cmd(const Cluster& c, const std::string& db) {
    const std::string rows =
        "SELECT format('SELECT %L WHERE EXISTS (SELECT 1 FROM %I.%I)', 'rows' || E'\\t' || " +
        hex_sql("n.nspname") + " || E'\\t' || " + hex_sql("c.relname") +
        ", n.nspname, c.relname) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = "
        "c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND "
        "n.nspname NOT LIKE 'pg\\_toast%'";
    return pg::preamble(c) + "e=$(" +
           psql_c("SELECT 1 FROM pg_catalog.pg_database WHERE datname = " + quote_literal(db)) +
           ") || exit 1\nif [ -z \"$e\" ]; then echo absent; exit 0; fi\n" + "out=$(printf '%s\\n' " +
           quote(rows) + " '\\gexec' | " + join(pg::psql_argv(c, db)) +
           ") || exit 1\nif [ -z \"$out\" ]; then echo empty; else printf '%s\\n' \"$out\"; fi\n";
}

std::string drop_target_db_cmd(const Cluster& c, const std::string& db) {
    return pg::preamble(c) + psql_c("DROP DATABASE IF EXISTS " + quote_ident(db) + " WITH (FORCE)") +
           " || exit 1\n";
}

std::string dump_roles_cmd(const Cluster& c) {
    return "cd / || exit 1\nexec " + join(plus(client(c, "pg_dumpall"), {"--roles-only"}));
}

std::string dump_schema_cmd(const Cluster& c, const std::string& db) {
    return "cd / || exit 1\nexec " +
           join(plus(client(c, "pg_dump"), {"--schema-only", "--create", "--no-subscriptions", "-d",
                                            "dbname=" + pg::conninfo_quote(db)}));
}

std::string load_roles_cmd(const Cluster& c) {
    // psql without ON_ERROR_STOP: the target's own roles (postgres, a role its playbook made)
    // exist already and only their CREATE fails; their ALTER ROLE still applies.
    shell::Argv argv =
        pg::as_user(c, {pg::bin(c, "psql"), "-X", "-q", "-v", "VERBOSITY=terse", "-h", c.socket_dir, "-p",
                        std::to_string(c.port), "-d", "dbname='postgres'"});
    return "cd / || exit 1\nout=$(" + join(argv) +
           " 2>&1 >/dev/null) || exit 1\n"
           "bad=$(printf '%s\\n' \"$out\" | grep -e 'ERROR:' -e 'FATAL:' -e 'PANIC:' | grep -v "
           "'ERROR:  role \".*\" already exists$')\n"
           "if [ -n \"$bad\" ]; then printf '%s\\n' \"$bad\" >&2; exit 3; fi\n";
}

std::string load_schema_cmd(const Cluster& c) {
    return "cd / || exit 1\nexec " + join(pg::psql_argv(c, "postgres")) + " >/dev/null";
}

std::string fingerprint_cmd(const Cluster& c, const std::string& db) {
    return "cd / || exit 1\nout=$(" +
           join(plus(client(c, "pg_dump"), {"--schema-only", "--no-publications", "--no-subscriptions", "-d",
                                            "dbname=" + pg::conninfo_quote(db)})) +
           ") || exit 1\n"
           // pg_dump (15.14, 17.6 and later) frames its output with \restrict and a random key.
           "printf '%s\\n' \"$out\" | grep -v -e '^\\\\restrict ' -e '^\\\\unrestrict ' | sha256sum | cut -d "
           "' ' -f 1\n";
}

std::string publication_sql(const std::string& migration_id) {
    const std::string n = object_name(migration_id);
    return "SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = " + quote_literal(n) +
           ") AS decamp_missing \\gset\n\\if :decamp_missing\nCREATE PUBLICATION " + quote_ident(n) +
           " FOR ALL TABLES;\n\\endif\n";
}

std::string subscription_sql(const pg::ReplicaPlan& p) {
    const std::string n = object_name(p.migration_id);
    const std::string& pw = p.repl_password.reveal();
    if (pw.empty() || pw.find_first_of(std::string("\n\r\0", 3)) != std::string::npos)
        throw Error("the replication password is empty or holds a newline or NUL byte");
    const std::string conninfo =
        "host=" + pg::conninfo_quote(p.source_address) + " port=" + std::to_string(p.source.port) +
        " dbname=" + pg::conninfo_quote(p.database) + " user=" + pg::conninfo_quote(p.repl_user) +
        " password=" + pg::conninfo_quote(pw) + " sslmode=require application_name=" + pg::conninfo_quote(n);
    // Kept out of the server log, even on error (the statement holds the password).
    return "SET log_statement = 'none';\nSET log_min_error_statement = 'panic';\n"
           "SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_subscription WHERE subname = " +
           quote_literal(n) + ") AS decamp_missing \\gset\n\\if :decamp_missing\nCREATE SUBSCRIPTION " +
           quote_ident(n) + " CONNECTION " + quote_literal(conninfo) + " PUBLICATION " + quote_ident(n) +
           " WITH (slot_name = " + quote_literal(n) + ", copy_data = true);\n\\endif\n";
}

std::string drop_idle_slot_sql(const std::string& migration_id) {
    return "SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots WHERE "
           "slot_name = " +
           quote_literal(object_name(migration_id)) + " AND NOT active;\n";
}

std::string copy_progress_cmd(const Cluster& c, const pg::ReplicaPlan& p) {
    const std::string n = quote_literal(object_name(p.migration_id));
    return pg::preamble(c, p.database) +
           psql_c("SELECT (SELECT count(*) FROM pg_catalog.pg_subscription WHERE subname = " + n +
                  ") || E'\\t' || count(*) FILTER (WHERE r.srsubstate NOT IN ('r', 's')) || E'\\t' || "
                  "count(r.*) || "
                  "E'\\t' || pg_catalog.pg_database_size(current_database()) || E'\\t' || COALESCE((SELECT "
                  "sync_error_count || E'\\t' || apply_error_count FROM "
                  "pg_catalog.pg_stat_subscription_stats WHERE "
                  "subname = " +
                  n +
                  "), '0' || E'\\t' || '0') FROM pg_catalog.pg_subscription s JOIN "
                  "pg_catalog.pg_subscription_rel "
                  "r ON r.srsubid = s.oid WHERE s.subname = " +
                  n) +
           "\n";
}

std::string slot_lag_cmd(const Cluster& c, const std::string& migration_id) {
    return pg::preamble(c) +
           psql_c(
               "SELECT COALESCE((SELECT pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), "
               "confirmed_flush_lsn)::bigint FROM pg_catalog.pg_replication_slots WHERE "
               "slot_name = " +
               quote_literal(object_name(migration_id)) + "), -1)");
}

}  // namespace decamp::data::pglogical
