// PostgreSQL pieces every PostgreSQL command builder shares: SQL and libpq quoting, the
// Debian cluster layout, parsing what cluster discovery found, and the versions the physical
// replica can move between (pg_replica.hpp declares them).
#include <cctype>

#include "data/pg_replica.hpp"
#include "modules/module.hpp"
#include "modules/postgresql.hpp"
#include "util/error.hpp"

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
           ": the physical streaming replica needs the same major version on both sides; moving across "
           "major versions is the logical mover's job (publication/subscription, coming with issue 16)";
}

}  // namespace decamp::data::pg
