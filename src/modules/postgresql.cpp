// postgresql_db and postgresql_user, run as the postgres OS user through psql on the host.
// SQL identifiers and literals go through pg_quote_ident / pg_quote_literal, then the whole
// SQL text through shell quoting; it is fed to psql on stdin (printf is a shell builtin), so
// a password never shows up in a process list.
#include "modules/postgresql.hpp"

#include <algorithm>

#include "modules/args.hpp"
#include "modules/builtin.hpp"
#include "util/shell.hpp"

namespace decamp::modules {

std::string pg_quote_ident(const std::string& key, const std::string& ident) {
    if (ident.find('\0') != std::string::npos) throw ArgError(key, "must not contain NUL bytes");
    std::string out = "\"";
    for (char c : ident) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string pg_quote_literal(const std::string& key, const std::string& text) {
    if (text.find('\0') != std::string::npos) throw ArgError(key, "must not contain NUL bytes");
    bool backslash = text.find('\\') != std::string::npos;
    std::string out = backslash ? "E'" : "'";
    for (char c : text) {
        if (c == '\'') out += '\'';
        if (c == '\\') out += '\\';
        out += c;
    }
    return out + "'";
}

std::string pg_password_matches_sql(const std::string& user, const std::string& password) {
    const std::string pw = pg_quote_literal("password", password);
    const std::string md5 = pg_quote_literal("password", "md5") + " || md5(" +
                            pg_quote_literal("password", password + user) + ")";
    // PBKDF2-HMAC-SHA256 with one output block, in plain SQL (sha256() is built in since
    // PostgreSQL 11). The HMAC key (the password) is the same for all iterations, so its
    // inner and outer pads are computed once; U1 xor U2 xor ... is kept as bit(256).
    const std::string scram =
        "(WITH RECURSIVE "
        "s AS (SELECT split_part(split_part(a.rolpassword, '$', 2), ':', 1)::int AS iter, "
        "decode(split_part(split_part(a.rolpassword, '$', 2), ':', 2), 'base64') AS salt, "
        "decode(split_part(split_part(a.rolpassword, '$', 3), ':', 1), 'base64') AS stored), "
        "k AS (SELECT CASE WHEN length(p) > 64 THEN sha256(p) ELSE p END AS key "
        "FROM (SELECT convert_to(" + pw + ", 'UTF8') AS p) x), "
        "kp AS (SELECT key || decode(repeat('00', 64 - length(key)), 'hex') AS kp FROM k), "
        "pads AS (SELECT "
        "(SELECT decode(string_agg(lpad(to_hex(get_byte(kp, i) # 54), 2, '0'), '' ORDER BY i), 'hex') "
        "FROM generate_series(0, 63) i) AS ik, "
        "(SELECT decode(string_agg(lpad(to_hex(get_byte(kp, i) # 92), 2, '0'), '' ORDER BY i), 'hex') "
        "FROM generate_series(0, 63) i) AS ok FROM kp), "
        "u(n, val, acc) AS ("
        "SELECT 1, h, ('x' || encode(h, 'hex'))::bit(256) FROM pads, s, "
        "LATERAL (SELECT sha256(pads.ok || sha256(pads.ik || s.salt || decode('00000001', 'hex'))) AS h) f "
        "UNION ALL "
        "SELECT u.n + 1, f.h, (u.acc # ('x' || encode(f.h, 'hex'))::bit(256))::bit(256) FROM u, pads, s, "
        "LATERAL (SELECT sha256(pads.ok || sha256(pads.ik || u.val)) AS h) f WHERE u.n < s.iter), "
        "salted AS (SELECT decode("
        "lpad(to_hex(substring(acc from 1 for 64)::bit(64)::bigint), 16, '0') || "
        "lpad(to_hex(substring(acc from 65 for 64)::bit(64)::bigint), 16, '0') || "
        "lpad(to_hex(substring(acc from 129 for 64)::bit(64)::bigint), 16, '0') || "
        "lpad(to_hex(substring(acc from 193 for 64)::bit(64)::bigint), 16, '0'), 'hex') || "
        "decode(repeat('00', 32), 'hex') AS kp FROM u, s WHERE u.n = s.iter), "
        "ck AS (SELECT "
        "(SELECT decode(string_agg(lpad(to_hex(get_byte(kp, i) # 54), 2, '0'), '' ORDER BY i), 'hex') "
        "FROM generate_series(0, 63) i) AS ik, "
        "(SELECT decode(string_agg(lpad(to_hex(get_byte(kp, i) # 92), 2, '0'), '' ORDER BY i), 'hex') "
        "FROM generate_series(0, 63) i) AS ok FROM salted) "
        "SELECT coalesce(bool_or(sha256(sha256(ck.ok || sha256(ck.ik || convert_to('Client Key', 'UTF8')))) = s.stored), false) "
        "FROM ck, s)";
    return "(CASE WHEN a.rolpassword IS NULL THEN false "
           "WHEN a.rolpassword = " + pw + " THEN true "
           "WHEN a.rolpassword LIKE 'md5%' THEN a.rolpassword = " + md5 + " "
           "WHEN a.rolpassword LIKE 'SCRAM-SHA-256$%' THEN " + scram + " "
           "ELSE false END)";
}

namespace {

struct Psql {
    std::string login = "postgres";
    std::string port;
    // printf is a builtin: the SQL (and any password in it) never becomes a process argument.
    std::string run(const std::string& sql) const {
        shell::Argv argv{"runuser", "-u", login, "--", "psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1"};
        if (!port.empty()) argv.insert(argv.end(), {"-p", port});
        return "printf '%s\\n' " + shell::quote(sql) + " | (cd / && " + shell::join(argv) + ")";
    }
};

Psql read_psql(const Args& a) {
    Psql p;
    p.login = a.str("login_user", "postgres");
    require_simple_name("login_user", p.login, "an OS user name");
    if (auto port = a.integer("port", 1, 65535)) p.port = std::to_string(*port);
    return p;
}

const char* kNeedPsql = "command -v psql >/dev/null 2>&1 || { echo 'postgresql: psql not found on the host' >&2; exit 2; }";

// Probe: the query prints 1 when converged, 0 when not; a psql failure fails the probe.
std::string probe_with(const Psql& p, const std::string& sql) {
    return subshell({kNeedPsql, "r=$(" + p.run(sql) + ") || exit 2",
                     "[ \"$r\" = 1 ] && exit 0", "[ \"$r\" = 0 ] && exit 1",
                     "echo \"postgresql: unexpected probe output: $r\" >&2", "exit 2"});
}

}  // namespace

Action plan_postgresql_db(const std::string&, const Value& args) {
    Args a(args);
    const std::string key = a.has("db") && !a.has("name") ? "db" : "name";
    const std::string name = a.required_str(key);
    const std::string state = a.choice("state", {"present", "absent"}, "present");
    const std::string owner = a.str("owner", "");
    const std::string encoding = a.str("encoding", "");
    const std::string tmpl = a.str("template", "");
    const std::string lc_collate = a.str("lc_collate", "");
    const std::string lc_ctype = a.str("lc_ctype", "");
    const Psql psql = read_psql(a);
    const std::string L = pg_quote_literal(key, name), I = pg_quote_ident(key, name);
    Action act;
    if (state == "absent") {
        act.probe = probe_with(psql, "SELECT CASE WHEN count(*) = 0 THEN 1 ELSE 0 END FROM pg_catalog.pg_database WHERE datname = " + L);
        act.change = subshell({psql.run("DROP DATABASE IF EXISTS " + I) + " || exit 2"});
        act.summary = "database " + name + " absent";
        act.ok_reason = "database " + name + " does not exist";
        act.change_text = "- database " + name;
        return act;
    }
    std::string cond = "datname = " + L;
    if (!owner.empty()) cond += " AND pg_catalog.pg_get_userbyid(datdba) = " + pg_quote_literal("owner", owner);
    if (!encoding.empty())
        cond += " AND upper(pg_catalog.pg_encoding_to_char(encoding)) = upper(" + pg_quote_literal("encoding", encoding) + ")";
    act.probe = probe_with(psql, "SELECT count(*) FROM pg_catalog.pg_database WHERE " + cond);

    std::string create = "CREATE DATABASE " + I;
    if (!owner.empty()) create += " OWNER " + pg_quote_ident("owner", owner);
    if (!tmpl.empty()) create += " TEMPLATE " + pg_quote_ident("template", tmpl);
    else if (!encoding.empty() || !lc_collate.empty() || !lc_ctype.empty()) create += " TEMPLATE template0";
    if (!encoding.empty()) create += " ENCODING " + pg_quote_literal("encoding", encoding);
    if (!lc_collate.empty()) create += " LC_COLLATE " + pg_quote_literal("lc_collate", lc_collate);
    if (!lc_ctype.empty()) create += " LC_CTYPE " + pg_quote_literal("lc_ctype", lc_ctype);
    std::vector<std::string> change{
        "e=$(" + psql.run("SELECT count(*) FROM pg_catalog.pg_database WHERE datname = " + L) + ") || exit 2",
        "if [ \"$e\" = 0 ]; then " + psql.run(create) + " || exit 2; exit 0; fi"};
    if (!encoding.empty())
        change.push_back("r=$(" + psql.run("SELECT count(*) FROM pg_catalog.pg_database WHERE datname = " + L +
                                           " AND upper(pg_catalog.pg_encoding_to_char(encoding)) = upper(" +
                                           pg_quote_literal("encoding", encoding) + ")") + ") || exit 2");
    if (!encoding.empty())
        change.push_back("[ \"$r\" = 1 ] || { echo " +
                         shell::quote("postgresql_db: database " + name + " exists with another encoding than " + encoding +
                                      " (an encoding cannot be changed)") + " >&2; exit 2; }");
    if (!owner.empty())
        change.push_back(psql.run("ALTER DATABASE " + I + " OWNER TO " + pg_quote_ident("owner", owner)) + " || exit 2");
    act.change = subshell(change);
    act.summary = "database " + name + (owner.empty() ? "" : " owned by " + owner);
    act.ok_reason = "database " + name + " exists" + (owner.empty() ? "" : " with owner " + owner);
    act.change_text = "+ database " + name + (owner.empty() ? "" : " (owner " + owner + ")") +
                      (encoding.empty() ? "" : " (encoding " + encoding + ")");
    return act;
}

Action plan_postgresql_user(const std::string&, const Value& args) {
    Args a(args);
    const std::string key = a.has("user") && !a.has("name") ? "user" : "name";
    const std::string name = a.required_str(key);
    const std::string state = a.choice("state", {"present", "absent"}, "present");
    const std::string password = a.str("password", "");
    (void)a.flag("encrypted", true);
    const Psql psql = read_psql(a);
    const std::string L = pg_quote_literal(key, name), I = pg_quote_ident(key, name);

    static const std::pair<const char*, const char*> kFlags[] = {
        {"SUPERUSER", "rolsuper"}, {"CREATEROLE", "rolcreaterole"}, {"CREATEDB", "rolcreatedb"},
        {"INHERIT", "rolinherit"}, {"LOGIN", "rolcanlogin"}, {"REPLICATION", "rolreplication"},
        {"BYPASSRLS", "rolbypassrls"}};
    std::vector<std::string> flags;
    std::string cond = "a.rolname = " + L;
    for (auto f : a.list("role_attr_flags").value_or(std::vector<std::string>{})) {
        std::transform(f.begin(), f.end(), f.begin(), ::toupper);
        const bool neg = f.rfind("NO", 0) == 0;
        std::string base = neg ? f.substr(2) : f;
        const char* col = nullptr;
        for (auto [flag, column] : kFlags)
            if (base == flag) col = column;
        if (!col)
            throw ArgError("role_attr_flags",
                           "expected [NO]SUPERUSER, [NO]CREATEROLE, [NO]CREATEDB, [NO]INHERIT, "
                           "[NO]LOGIN, [NO]REPLICATION or [NO]BYPASSRLS, got '" + f + "'");
        flags.push_back(f);
        cond += std::string(" AND ") + (neg ? "NOT " : "") + "a." + col;
    }
    Action act;
    if (state == "absent") {
        act.probe = probe_with(psql, "SELECT CASE WHEN count(*) = 0 THEN 1 ELSE 0 END FROM pg_catalog.pg_roles WHERE rolname = " + L);
        act.change = subshell({psql.run("DROP ROLE IF EXISTS " + I) + " || exit 2"});
        act.summary = "postgres role " + name + " absent";
        act.ok_reason = "role " + name + " does not exist";
        act.change_text = "- role " + name;
        return act;
    }
    if (!password.empty()) cond += " AND " + pg_password_matches_sql(name, password);
    act.probe = probe_with(psql, "SELECT count(*) FROM pg_catalog.pg_authid a WHERE " + cond);
    std::string with;
    for (const auto& f : flags) with += " " + f;
    if (!password.empty()) with += " PASSWORD " + pg_quote_literal("password", password);
    std::vector<std::string> change{
        "e=$(" + psql.run("SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = " + L) + ") || exit 2",
        "if [ \"$e\" = 0 ]; then " + psql.run("CREATE USER " + I + (with.empty() ? "" : " WITH" + with)) +
            " || exit 2; exit 0; fi"};
    if (!with.empty()) change.push_back(psql.run("ALTER USER " + I + " WITH" + with) + " || exit 2");
    act.change = subshell(change);
    std::string flag_text;
    for (const auto& f : flags) flag_text += (flag_text.empty() ? "" : ",") + f;
    // The password is never part of the summary or change text.
    std::string desc = flag_text + (password.empty() ? "" : std::string(flag_text.empty() ? "" : ", ") + "password set");
    act.summary = "postgres role " + name + (desc.empty() ? "" : " (" + desc + ")");
    act.ok_reason = "role " + name + " exists" + (desc.empty() ? "" : " with " + desc);
    act.change_text = "+ role " + name + (desc.empty() ? "" : " (" + desc + ")");
    return act;
}

}  // namespace decamp::modules
