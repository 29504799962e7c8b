#include "data/pg_dump.hpp"

#include <sstream>

#include "data/pg_sh.hpp"
#include "util/error.hpp"
#include "util/shell.hpp"

namespace decamp::data::pgdump {

namespace {

using data::pg::bin;
using data::pg::conninfo_quote;
using data::pg::preamble;
using data::pg::psql_argv;
using data::pg::psql_c;
using data::pg::quote_ident;
using data::pg::quote_literal;
using shell::join;
using shell::quote;

// The same names and order as data::pg::row_counts_cmd, so the two compare directly.
const char* kCountsSql =
    "SELECT replace(replace(replace(format('%I.%I', n.nspname, c.relname), '\\', '\\\\'), E'\\n', '\\n'), "
    "E'\\t', '\\t') || E'\\t' || (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', "
    "n.nspname, c.relname), false, true, '')))[1]::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
    "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', "
    "'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'";

void check_workdir(const std::string& w) {
    if (w.size() < 6 || w.rfind("/tmp/", 0) != 0 || w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-_.") != std::string::npos ||
        w.find("..") != std::string::npos)
        throw Error("backup work directory '" + w + "' must be a plain path under /tmp");
}

}  // namespace

std::string dump_cmd(const Cluster& c, const std::string& db, const std::string& workdir) {
    check_workdir(workdir);
    const std::string& w = workdir;  // checked: no quoting needed inside psql's \o and \!
    // psql holds a REPEATABLE READ transaction whose snapshot it exports; the counts run in
    // it and pg_dump (started by psql's \!) attaches to it with --snapshot. \! cannot report
    // pg_dump's status, so it goes through a file.
    std::string psql_in =
        "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n"
        "SELECT pg_catalog.pg_export_snapshot() AS decamp_snapshot \\gset\n"
        "\\setenv DECAMP_SNAPSHOT :decamp_snapshot\n"
        "\\o " + w + "/counts\n" + kCountsSql + ";\n\\o\n"
        "\\! " + join({bin(c, "pg_dump"), "-Fc", "-Z0", "-h", c.socket_dir, "-p", std::to_string(c.port)}) +
        " --snapshot=\"$DECAMP_SNAPSHOT\" -d " + quote("dbname=" + conninfo_quote(db)) + "; echo $? >" + w + "/rc\n"
        "COMMIT;\n";
    return "cd / || exit 1\n"
           "rm -rf -- " + w + " && mkdir -m 0700 -- " + w + " && chown " + quote(c.os_user) + " -- " + w + " || exit 1\n" +
           join({"runuser", "-u", c.os_user, "--", bin(c, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
                 c.socket_dir, "-p", std::to_string(c.port), "-d", "dbname=" + conninfo_quote(db)}) +
           " <<'DECAMP_EOF' || exit 1\n" + psql_in + "DECAMP_EOF\n" +
           "rc=$(cat -- " + w + "/rc 2>/dev/null) || rc=1\n"
           "exit \"${rc:-1}\"\n";
}

std::string dump_meta_cmd(const Cluster& c, const std::string& db, const std::string& workdir) {
    check_workdir(workdir);
    return preamble(c) +
           psql_c("SELECT 'meta' || E'\\t' || pg_catalog.pg_get_userbyid(datdba) || E'\\t' || "
                  "pg_catalog.pg_encoding_to_char(encoding) || E'\\t' || datcollate || E'\\t' || datctype FROM "
                  "pg_catalog.pg_database WHERE datname = " + quote_literal(db)) +
           " || exit 1\n"
           "printf 'version\\t%s\\n' \"$(" + join({bin(c, "pg_dump"), "--version"}) + ")\"\n"
           "cat -- " + workdir + "/counts || exit 1\n"
           "rm -rf -- " + workdir + "\n";
}

std::map<std::string, uint64_t> parse_counts(const std::string& text) {
    std::map<std::string, uint64_t> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        size_t tab = line.rfind('\t');
        if (tab == std::string::npos) throw Error("unexpected row count line: '" + line + "'");
        try {
            out[line.substr(0, tab)] = std::stoull(line.substr(tab + 1));
        } catch (const std::exception&) {
            throw Error("unexpected row count line: '" + line + "'");
        }
    }
    return out;
}

std::map<std::string, uint64_t> row_counts(transport::Transport& t, const Cluster& c, const std::string& db) {
    auto r = t.run(data::pg::row_counts_cmd(c, db));
    if (r.exit_status != 0)
        throw Error(t.describe() + ": counting rows of " + db + " failed (exit " + std::to_string(r.exit_status) + "): " + r.err);
    return parse_counts(r.out);
}

DbMeta parse_meta(const std::string& out) {
    DbMeta m;
    std::istringstream in(out);
    std::string line, counts;
    bool have_meta = false;
    while (std::getline(in, line)) {
        if (line.rfind("meta\t", 0) == 0) {
            std::vector<std::string> f;
            std::stringstream ls(line.substr(5));
            std::string x;
            while (std::getline(ls, x, '\t')) f.push_back(x);
            if (f.size() != 4) throw Error("unexpected database description: '" + line + "'");
            m.owner = f[0], m.encoding = f[1], m.collate = f[2], m.ctype = f[3];
            have_meta = true;
        } else if (line.rfind("version\t", 0) == 0) {
            m.pg_dump_version = line.substr(8);
        } else {
            counts += line + "\n";
        }
    }
    if (!have_meta) throw Error("the database does not exist");
    m.tables = parse_counts(counts);
    return m;
}

std::string restore_prepare_cmd(const Cluster& c, const std::string& scratch, const DbMeta& meta) {
    std::string create = "CREATE DATABASE " + quote_ident(scratch) + " WITH TEMPLATE template0";
    if (!meta.encoding.empty()) create += " ENCODING " + quote_literal(meta.encoding);
    if (!meta.collate.empty()) create += " LC_COLLATE " + quote_literal(meta.collate);
    if (!meta.ctype.empty()) create += " LC_CTYPE " + quote_literal(meta.ctype);
    std::string s = preamble(c) + psql_c("DROP DATABASE IF EXISTS " + quote_ident(scratch) + " WITH (FORCE)") +
                    " || exit 1\n" + psql_c(create) + " || exit 1\n";
    if (!meta.owner.empty())
        s += "if [ \"$(" + psql_c("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = " + quote_literal(meta.owner)) +
             ")\" = 1 ]; then " + psql_c("ALTER DATABASE " + quote_ident(scratch) + " OWNER TO " + quote_ident(meta.owner)) +
             " || exit 1; else echo " + quote("decamp: role " + meta.owner + " (the database owner) does not exist here; the restored database belongs to postgres") +
             " >&2; fi\n";
    return s;
}

std::string restore_cmd(const Cluster& c, const std::string& scratch) {
    return "cd / || exit 1\n" + join({"runuser", "-u", c.os_user, "--", bin(c, "pg_restore"), "-h", c.socket_dir, "-p",
                                      std::to_string(c.port), "-d", "dbname=" + conninfo_quote(scratch),
                                      "--exit-on-error", "--single-transaction"});
}

std::string swap_cmd(const Cluster& c, const std::string& db, const std::string& scratch) {
    return preamble(c) + psql_c("DROP DATABASE IF EXISTS " + quote_ident(db) + " WITH (FORCE)") + " || exit 1\n" +
           psql_c("ALTER DATABASE " + quote_ident(scratch) + " RENAME TO " + quote_ident(db)) + " || exit 1\n";
}

std::string drop_cmd(const Cluster& c, const std::string& db) {
    return preamble(c) + psql_c("DROP DATABASE IF EXISTS " + quote_ident(db) + " WITH (FORCE)");
}

}  // namespace decamp::data::pgdump
