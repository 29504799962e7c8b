// Logical replication across PostgreSQL majors, the cutover side (see pg_logical.hpp): every
// login role of the source fenced and exactly restored, the wait for the final position,
// sequences, the subscription dropped with its data kept; and the runners over Transports.
#include <chrono>
#include <thread>

#include "data/pg_logical.hpp"
#include "data/pg_sh.hpp"
#include "transport/pump.hpp"
#include "util/error.hpp"
#include "util/shell.hpp"

namespace decamp::data::pglogical {

namespace {

using pg::psql_c;
using pg::quote_ident;
using pg::quote_literal;

// "IN ('a', 'b')" for names a host gave (quoted as literals).
std::string in_list(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + quote_literal(n);
    return "IN (" + out + ")";
}

std::string terminate_clients_sql() {
    return "SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity WHERE "
           "backend_type = "
           "'client backend' AND pid <> pg_catalog.pg_backend_pid()";
}

}  // namespace

std::string matviews_cmd(const Cluster& c, const std::string& db) {
    return pg::preamble(c, db) +
           psql_c(
               "SELECT " + hex_sql("n.nspname") + " || E'\\t' || " + hex_sql("c.relname") +
               " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE "
               "c.relkind = 'm' AND c.relispopulated ORDER BY c.oid");
}

std::string refresh_matviews_sql(const std::string& matviews_out) {
    std::string sql = "BEGIN;\n";
    for (const auto& l : lines(matviews_out)) {
        auto f = split(l, '\t');
        if (f.size() != 2)
            throw Error("unexpected materialized view line from the source: '" + l.substr(0, 80) + "'");
        sql += "REFRESH MATERIALIZED VIEW " + qualified({hex_decode(f[0]), hex_decode(f[1])}) + ";\n";
    }
    return sql + "COMMIT;\n";
}

std::string login_roles_cmd(const Cluster& c, const std::string& repl_user) {
    return pg::preamble(c) +
           psql_c("SELECT " + hex_sql("rolname") +
                  " FROM pg_catalog.pg_roles WHERE rolcanlogin AND rolname <> current_user AND "
                  "rolname <> " +
                  quote_literal(repl_user) + " ORDER BY 1");
}

std::string fence_sql(const std::vector<std::string>& roles) {
    std::string sql = "SET default_transaction_read_only = off;\n";
    if (!roles.empty())
        sql +=
            "SELECT format('ALTER ROLE %I NOLOGIN', rolname) FROM pg_catalog.pg_roles WHERE rolcanlogin AND "
            "rolname " +
            in_list(roles) + "\n\\gexec\n";
    return sql +
           "ALTER SYSTEM SET default_transaction_read_only = on;\nSELECT pg_catalog.pg_reload_conf();\n";
}

std::string fence_cmd(const Cluster& c) {
    // pg_reload_conf only signals: wait until a new session starts read-only, then end every
    // client session but ours (twice: the second round catches one that was mid-login).
    // Walsenders stay: the subscription must still receive the last changes.
    const std::string kill = psql_c(terminate_clients_sql()) + " >/dev/null || exit 1\n";
    return pg::preamble(c) + pg::psql_stdin_fn(c) + "psql_stdin >/dev/null || exit 1\n" +
           "i=0\nuntil [ \"$(" + psql_c("SHOW default_transaction_read_only") +
           ")\" = on ]; do\n  i=$((i+1)); if [ $i -ge 100 ]; then echo 'decamp: the source did not reload "
           "its "
           "configuration' >&2; exit 3; fi; sleep 0.1\ndone\n" +
           kill + "sleep 0.2\n" + kill;
}

std::string unfence_sql(const std::vector<std::string>& roles) {
    std::string sql = "SET default_transaction_read_only = off;\n";
    if (!roles.empty())
        sql += "SELECT format('ALTER ROLE %I LOGIN', rolname) FROM pg_catalog.pg_roles WHERE rolname " +
               in_list(roles) + "\n\\gexec\n";
    return sql + "ALTER SYSTEM RESET default_transaction_read_only;\nSELECT pg_catalog.pg_reload_conf();\n";
}

std::string confirmed_lsn_sql(const std::string& migration_id) {
    return "SELECT confirmed_flush_lsn FROM pg_catalog.pg_replication_slots WHERE slot_name = " +
           quote_literal(object_name(migration_id)) + ";\n";
}

std::string sequences_cmd(const Cluster& c, const std::string& db) {
    return pg::preamble(c, db) +
           psql_c("SELECT " + hex_sql("schemaname") + " || E'\\t' || " + hex_sql("sequencename") +
                  " || E'\\t' || COALESCE(last_value::text, '') FROM pg_catalog.pg_sequences "
                  "ORDER BY 1");
}

std::string set_sequences_sql(const std::string& sequences_out) {
    std::string sql = "BEGIN;\n";
    for (const auto& l : lines(sequences_out)) {
        auto f = split(l, '\t');
        if (f.size() != 3 || (!f[2].empty() && !is_integer(f[2])))
            throw Error("unexpected sequence line from the source: '" + l.substr(0, 80) + "'");
        if (f[2].empty()) continue;  // never used on the source: the target's fresh one is the same
        const std::string name = quote_ident(hex_decode(f[0])) + "." + quote_ident(hex_decode(f[1]));
        sql += "SELECT pg_catalog.setval(" + quote_literal(name) + "::regclass, " + f[2] + ", true);\n";
    }
    return sql + "COMMIT;\n";
}

std::string drop_subscription_sql(const std::string& migration_id, bool detach) {
    const std::string n = object_name(migration_id);
    return "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_subscription WHERE subname = " + quote_literal(n) +
           ") AS decamp_present \\gset\n\\if :decamp_present\nALTER SUBSCRIPTION " + quote_ident(n) +
           " DISABLE;\n" +
           (detach ? "ALTER SUBSCRIPTION " + quote_ident(n) + " SET (slot_name = NONE);\n" : std::string()) +
           "DROP SUBSCRIPTION " + quote_ident(n) + ";\n\\endif\n";
}

std::string drop_source_objects_sql(const std::string& migration_id) {
    const std::string n = quote_literal(object_name(migration_id));
    const std::string active =
        "EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = " + n + " AND active)";
    return "SET default_transaction_read_only = off;\n"
           "SELECT pg_catalog.pg_terminate_backend(active_pid) FROM pg_catalog.pg_replication_slots WHERE "
           "slot_name = " +
           n + " AND active_pid IS NOT NULL;\nDO $decamp$ BEGIN FOR i IN 1..100 LOOP EXIT WHEN NOT " +
           active +
           "; PERFORM pg_catalog.pg_sleep(0.1); END LOOP; END $decamp$;\n"
           "SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots WHERE "
           "slot_name = " +
           n + ";\nDROP PUBLICATION IF EXISTS " + quote_ident(object_name(migration_id)) + ";\n";
}

// ---- runners ----

std::string run_sql(transport::Transport& t, const Cluster& c, const std::string& db, const std::string& sql,
                    const std::string& what, const pg::ReplicaPlan* p) {
    transport::RunOptions o;
    o.stdin_data = sql;
    return pg::run_checked(t, what, pg::preamble(c, db) + pg::psql_stdin_fn(c, db) + "psql_stdin\n", p, o)
        .out;
}

SourceCheck check_source(transport::Transport& source, const Cluster& c, const std::string& db,
                         bool allow_identity_full) {
    SourceCheck s = parse_source_check(pg::run_checked(source, "checking what logical replication would lose",
                                                       source_check_cmd(c, db), nullptr)
                                           .out);
    std::string why = refusal(s, allow_identity_full, c);
    if (!why.empty()) throw Error("database " + db + " cannot move by logical replication: " + why);
    return s;
}

uint64_t copy_stream(transport::Transport& source, const std::string& source_cmd,
                     transport::Transport& target, const std::string& target_cmd, const std::string& what) {
    return transport::pump(source, source_cmd, target, target_cmd, nullptr, what).bytes;
}

void wait_initial_copy(transport::Transport& target, const pg::ReplicaPlan& p, int stall_s) {
    std::string last;
    auto moved_at = std::chrono::steady_clock::now();
    for (;;) {
        const std::string out = pg::trim(
            pg::run_checked(target, "following the initial copy", copy_progress_cmd(p.target, p), &p).out);
        auto f = split(out, '\t');
        if (f.size() != 6)
            throw Error(target.describe() + ": unexpected copy progress '" + out.substr(0, 80) + "'");
        if (f[0] != "1")
            throw Error(target.describe() + ": the subscription " + object_name(p.migration_id) + " is gone");
        if (f[1] == "0") return;
        const std::string now = f[1] + " " + f[3];
        if (now != last) {
            last = now;
            moved_at = std::chrono::steady_clock::now();
        } else if (std::chrono::steady_clock::now() - moved_at > std::chrono::seconds(stall_s)) {
            throw Error(target.describe() + ": the initial copy made no progress for " +
                        std::to_string(stall_s) + " s (" + f[1] + " of " + f[2] + " tables not copied; " +
                        f[4] + " copy and " + f[5] +
                        " apply errors so far: the target's server log says why)");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
}

uint64_t wait_confirmed(transport::Transport& source, const pg::ReplicaPlan& p, uint64_t lsn, int timeout_s) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    for (;;) {
        const std::string out =
            pg::trim(run_sql(source, p.source, "postgres", confirmed_lsn_sql(p.migration_id),
                             "reading the subscription's position", &p));
        if (out.empty())
            throw Error(source.describe() + ": the replication slot " + object_name(p.migration_id) +
                        " is gone");
        const uint64_t got = pg::parse_lsn(out);
        if (got >= lsn) return got;
        if (std::chrono::steady_clock::now() >= deadline)
            throw Error(
                source.describe() + ": the subscription did not confirm the source's final position within " +
                std::to_string(timeout_s) + " s (" + std::to_string(lsn - got) + " bytes of WAL behind)");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

}  // namespace decamp::data::pglogical
