// PostgreSQL pieces every PostgreSQL command builder shares: SQL and libpq quoting, the
// Debian cluster layout, and parsing what cluster discovery found (pg_replica.hpp declares
// them).
#include <cctype>

#include "data/pg_replica.hpp"
#include "modules/module.hpp"
#include "modules/postgresql.hpp"
#include "util/error.hpp"

namespace decamp::data::pg {

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
    std::string version, name, port;
    size_t i = 0;
    auto word = [&](std::string& w) {
        while (i < text.size() && isspace(static_cast<unsigned char>(text[i]))) ++i;
        while (i < text.size() && !isspace(static_cast<unsigned char>(text[i]))) w += text[i++];
    };
    word(version);
    word(name);
    word(port);
    auto digits = [](const std::string& w) {
        return !w.empty() && w.size() <= 6 && w.find_first_not_of("0123456789.") == std::string::npos;
    };
    if (!digits(version) || name.empty() || !digits(port))
        throw Error(
            "no PostgreSQL cluster found (pg_lsclusters lists none, and no server answers on port 5432)");
    for (char ch : name)
        if (!(isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.'))
            throw Error("unexpected PostgreSQL cluster name \"" + name + "\"");
    Cluster c = debian_cluster(version, name);
    c.port = std::stoi(port);
    return c;
}

}  // namespace decamp::data::pg
