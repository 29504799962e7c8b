// PostgreSQL pieces every PostgreSQL command builder shares: SQL and libpq quoting, the
// Debian cluster layout, parsing what cluster discovery found, and the versions the physical
// replica can move between (pg_replica.hpp declares them).
#include <cctype>

#include "data/pg_sh.hpp"
#include "modules/module.hpp"
#include "modules/postgresql.hpp"
#include "util/error.hpp"
#include "util/shell.hpp"

namespace decamp::data::pg {

namespace {

// The next run of non-blanks at or after `i` ("" at the end); `i` moves past it.
std::string next_word(const std::string& text, size_t& i) {
    while (i < text.size() && isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::string w;
    while (i < text.size() && !isspace(static_cast<unsigned char>(text[i]))) w += text[i++];
    return w;
}

// A version or a port as a host may print it: up to 6 digits and dots, a digit first.
bool numeric(const std::string& w) {
    return !w.empty() && w.size() <= 6 && isdigit(static_cast<unsigned char>(w[0])) &&
           w.find_first_not_of("0123456789.") == std::string::npos;
}

}  // namespace

// ---- quoting ----

std::string quote_ident(const std::string& ident) {
    try {
        return modules::pg_quote_ident("identifier", ident);
    } catch (const modules::ArgError&) {
        throw Error("SQL identifier must not contain NUL bytes");
    }
}

std::string quote_literal(const std::string& text) {
    try {
        return modules::pg_quote_literal("literal", text);
    } catch (const modules::ArgError&) {
        throw Error("SQL literal must not contain NUL bytes");
    }
}

std::string conninfo_quote(const std::string& value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    return out + "'";
}

std::string pgpass_line(const std::string& host, int port, const std::string& user,
                        const std::string& password) {
    auto esc = [](const std::string& v) {
        std::string o;
        for (char c : v) {
            if (c == ':' || c == '\\') o += '\\';
            o += c;
        }
        return o;
    };
    return esc(host) + ":" + std::to_string(port) + ":*:" + esc(user) + ":" + esc(password);
}

Cluster debian_cluster(const std::string& version, const std::string& name) {
    Cluster c;
    c.version = version;
    c.name = name;
    c.data_dir = "/var/lib/postgresql/" + version + "/" + name;
    c.conf_dir = "/etc/postgresql/" + version + "/" + name;
    c.service = "postgresql@" + version + "-" + name;
    c.bin_dir = "/usr/lib/postgresql/" + version + "/bin";
    return c;
}

Cluster parse_discovered(const std::string& text) {
    size_t i = 0;
    const std::string version = next_word(text, i), name = next_word(text, i), port = next_word(text, i);
    if (!numeric(version) || name.empty() || !numeric(port))
        throw Error(
            "no PostgreSQL cluster found (pg_lsclusters lists none, and no server answers on port 5432)");
    for (char ch : name)
        if (!(isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.'))
            throw Error("unexpected PostgreSQL cluster name \"" + name + "\"");
    Cluster c = debian_cluster(version, name);
    c.port = std::stoi(port);
    return c;
}

// ---- versions ----

std::string target_major_cmd() {
    return "cd / || exit 1\n"
           "v=$(pg_lsclusters -h 2>/dev/null | awk 'NR == 1 { print $1 }')\n"
           "if [ -n \"$v\" ]; then echo \"cluster $v\"; exit 0; fi\n"
           "v=$(apt-cache show --no-all-versions postgresql 2>/dev/null |"
           " sed -n 's/^Depends:.*postgresql-\\([0-9][0-9.]*\\).*/\\1/p' | head -n 1)\n"
           "if [ -n \"$v\" ]; then echo \"apt $v\"; else echo unknown; fi\n";
}

TargetMajor parse_target_major(const std::string& text) {
    size_t i = 0;
    const std::string from = next_word(text, i), version = next_word(text, i), rest = next_word(text, i);
    if ((from != "cluster" && from != "apt") || !numeric(version) || !rest.empty()) return {};
    return {version, from};
}

std::string physical_refusal(const std::string& source_host, const std::string& source_major,
                             const std::string& target_host, const TargetMajor& target) {
    if (target.version.empty() || target.version == source_major) return "";
    return "PostgreSQL " + source_major + " on " + source_host + " but " + target.version + " on " +
           target_host + (target.from == "apt" ? " (the version its apt installs)" : "") +
           ": the physical streaming replica needs the same major version on both sides; with method: auto "
           "or logical decamp moves it by logical replication (publication/subscription) — abort this "
           "migration and run it again";
}

// ---- sh pieces (pg_sh.hpp) ----

using shell::join;
using shell::quote;

bool all_chars(const std::string& s, const char* extra) {
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  std::string_view(extra).find(c) != std::string_view::npos;
        if (!ok) return false;
    }
    return !s.empty();
}

std::string bin(const Cluster& c, const char* prog) {
    std::string dir = c.bin_dir.empty() ? "/usr/lib/postgresql/" + c.version + "/bin" : c.bin_dir;
    return dir + "/" + prog;
}

std::string hba_path(const Cluster& c) {
    return c.conf_dir + "/pg_hba.conf";
}

shell::Argv as_user(const Cluster& c, shell::Argv argv) {
    shell::Argv out = {"runuser", "-u", c.os_user, "--"};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

// Script preamble: a psql_ function (as the OS user, over the local socket, stop on error,
// tuples only). psql warns when it cannot read the cwd as that user, hence `cd /`.
shell::Argv psql_argv(const Cluster& c, const std::string& db) {
    return as_user(
        c, {bin(c, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=terse", "-h",
            c.socket_dir, "-p", std::to_string(c.port), "-d", "dbname=" + conninfo_quote(db)});
}

std::string preamble(const Cluster& c, const std::string& db) {
    return "cd / || exit 1\npsql_() { " + join(psql_argv(c, db)) + " \"$@\" </dev/null; }\n";
}

// psql_ reads /dev/null; this one reads the script's stdin (SQL that holds a secret).
std::string psql_stdin_fn(const Cluster& c, const std::string& db) {
    return "psql_stdin() { " + join(psql_argv(c, db)) + "; }\n";
}

std::string psql_c(const std::string& sql) {
    return "psql_ -c " + quote(sql);
}

// Replaces `path` by the output of `filter` (which reads "$f"), atomically, keeping owner
// and mode. grep -v exits 1 when it selects nothing: an empty file is a fine result.
std::string rewrite_file(const std::string& path, const std::string& filter) {
    return "f=" + quote(path) + "\n" + shell::write_output_atomic(path, filter, "", "", "", {0, 1}) +
           " || exit 1\n";
}

std::string reload_and_check_hba() {
    return psql_c("SELECT pg_reload_conf()") + " >/dev/null || exit 1\n" + "bad=$(" +
           psql_c(
               "SELECT line_number || ': ' || error FROM pg_catalog.pg_hba_file_rules "
               "WHERE error IS NOT NULL") +
           ") || exit 1\n" +
           "if [ -n \"$bad\" ]; then echo \"decamp: pg_hba.conf has errors: $bad\" >&2; exit 3; fi\n";
}

std::string mask(std::string text, const ReplicaPlan& p) {
    const std::string& pw = p.repl_password.reveal();
    if (pw.empty()) return text;
    for (const std::string& needle : {pw, quote_literal(pw), conninfo_quote(pw)}) {
        for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at))
            text.replace(at, needle.size(), "***");
    }
    return text;
}

std::string tail(const std::string& s, size_t n) {
    std::string t = s.size() > n ? "…" + s.substr(s.size() - n) : s;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    return t;
}

transport::RunResult run_checked(transport::Transport& t, const std::string& what, const std::string& cmd,
                                 const ReplicaPlan* p, const transport::RunOptions& opts) {
    // Every command holds one lock on the host: if the orchestrator was killed, the command
    // it had started may still be running there (sshd does not stop a command without a
    // tty); the resumed run then waits for it instead of racing it, and its own idempotent
    // checks see what the orphan did. -o: a server the command starts must not inherit it.
    const std::string locked = "exec flock -o -w 1800 /run/lock/decamp-pg.lock sh -c " + quote(cmd);
    transport::RunResult r = t.run(locked, opts);
    if (r.exit_status != 0) {
        std::string msg = t.describe() + ": " + what + " failed (" +
                          (r.timed_out ? std::string("timed out") : "exit " + std::to_string(r.exit_status)) +
                          ")";
        std::string err = tail(r.err.empty() ? r.out : r.err);
        if (!err.empty()) msg += ": " + err;
        throw Error(p ? mask(msg, *p) : msg);
    }
    return r;
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace((unsigned char)s.back())) s.pop_back();
    size_t i = 0;
    while (i < s.size() && std::isspace((unsigned char)s[i])) ++i;
    return s.substr(i);
}

}  // namespace decamp::data::pg
