// The Redis mover's commands and the parsers of what redis-cli answers (redis_replica.hpp).
#include "data/redis_replica.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>

#include "util/error.hpp"
#include "util/shell.hpp"
#include "util/text.hpp"

namespace decamp::data::redis {

using shell::quote;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out.push_back(line);
    }
    return out;
}

bool is_ip(const std::string& a) {
    if (a.find(':') != std::string::npos) return true;
    for (char c : a)
        if (!isdigit(static_cast<unsigned char>(c)) && c != '.') return false;
    return !a.empty();
}

int64_t to_i64(const std::map<std::string, std::string>& m, const std::string& key) {
    auto it = m.find(key);
    if (it == m.end() || it->second.empty()) return -1;
    try {
        size_t used = 0;
        int64_t v = std::stoll(it->second, &used);
        return used == it->second.size() ? v : -1;
    } catch (const std::exception&) {
        return -1;
    }
}

std::string get(const std::map<std::string, std::string>& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? std::string() : it->second;
}

// One certificate signed by the migration's CA, in the current directory.
std::string signed_cert(const std::string& name, const std::string& cn, const std::string& ext) {
    return "printf '%s\\n' " + quote(ext) + " > " + name + ".ext && " +
           "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name +
           ".key -out " + name + ".csr -subj " + quote("/CN=" + cn) + " 2>/dev/null && " +
           "openssl x509 -req -in " + name +
           ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile " + name + ".ext -out " + name +
           ".crt 2>/dev/null";
}

}  // namespace

int tls_port(const Plan& p) {
    return p.port + 1;
}
std::string cert_dir(const Plan& p) {
    return "/etc/redis/decamp-" + p.migration_id;
}
std::string nft_table(const Plan& p) {
    return "decamp_redis_" + std::to_string(tls_port(p));
}

std::string quote_arg(const std::string& arg) {
    std::string out = "\"";
    for (char ch : arg) {
        auto c = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20 || c >= 0x7f) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

std::string cli_cmd(const Plan& p) {
    return "IFS= read -r REDISCLI_AUTH || true; if [ -n \"$REDISCLI_AUTH\" ]; then export REDISCLI_AUTH; "
           "else unset REDISCLI_AUTH; fi; exec redis-cli -h 127.0.0.1 -p " +
           std::to_string(p.port);
}

std::string cli_stdin(const Plan& p, const std::vector<std::vector<std::string>>& commands) {
    std::string in = p.password.reveal() + "\n";
    for (const auto& c : commands) {
        std::string line;
        for (const auto& w : c) line += (line.empty() ? "" : " ") + quote_arg(w);
        in += line + "\n";
    }
    return in;
}

void expect_ok(const std::string& out, size_t n, const std::string& what) {
    size_t ok = 0;
    std::string other;
    for (const auto& l : lines_of(out)) {
        if (l == "OK" || l.rfind("OK ", 0) == 0)
            ++ok;  // "OK Already connected to specified master"
        else if (!l.empty() && other.empty())
            other = l;
    }
    if (ok != n)
        throw Error(what + ": Redis answered " +
                    (other.empty() ? "nothing" : "\"" + util::output_tail(other) + "\"") + " where " +
                    std::to_string(n) + " OK were expected");
}

std::map<std::string, std::string> parse_info(const std::string& text) {
    std::map<std::string, std::string> out;
    for (const auto& l : lines_of(text)) {
        if (l.empty() || l[0] == '#') continue;
        auto colon = l.find(':');
        if (colon == std::string::npos) continue;
        out[l.substr(0, colon)] = l.substr(colon + 1);
    }
    return out;
}

std::map<std::string, std::string> parse_config(const std::string& text) {
    std::map<std::string, std::string> out;
    auto l = lines_of(text);
    for (size_t i = 0; i + 1 < l.size(); i += 2) out[l[i]] = l[i + 1];
    return out;
}

std::string make_certs_cmd(const Plan& p) {
    const std::string d = quote(cert_dir(p));
    const std::string san = (is_ip(p.source_address) ? "subjectAltName=IP:" : "subjectAltName=DNS:") +
                            p.source_address + "\nextendedKeyUsage=serverAuth";
    return "set -e; d=" + d +
           "; if [ -d \"$d\" ]; then echo kept; exit 0; fi\n"
           "command -v openssl >/dev/null || { echo 'openssl is not installed (the redis playbook installs "
           "it)' >&2; exit 3; }\n"
           "t=\"$d.tmp\"; rm -rf \"$t\"; (umask 077; mkdir -p \"$t\"); cd \"$t\"; umask 077\n"
           "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out "
           "ca.crt "
           "-days 30 -subj /CN=decamp-redis-ca 2>/dev/null\n" +
           signed_cert("server", "decamp-redis-source", san) + "\n" +
           signed_cert("client", "decamp-redis-replica", "extendedKeyUsage=clientAuth") + "\n" +
           "rm -f ca.key ca.srl ./*.csr ./*.ext; chown -R redis:redis \"$t\"; cd /; mv \"$t\" \"$d\"; echo "
           "made";
}

std::vector<std::string> tls_settings() {
    return {"tls-port",      "tls-replication", "tls-auth-clients",
            "tls-cert-file", "tls-key-file",    "tls-ca-cert-file"};
}

std::string firewall_cmd(const Plan& p) {
    const std::string family = p.target_address.find(':') != std::string::npos ? "ip6" : "ip";
    const std::string t = nft_table(p);
    const std::string rules = "table inet " + t + " {}\nflush table inet " + t + "\ntable inet " + t +
                              " {\n chain input {\n  type filter hook input priority -10; policy accept;\n"
                              "  tcp dport " +
                              std::to_string(tls_port(p)) + " " + family + " saddr != " + p.target_address +
                              " drop\n  tcp dport " + std::to_string(tls_port(p)) +
                              " meta nfproto != " + (family == "ip" ? "ipv4" : "ipv6") + " drop\n }\n}\n";
    return "if command -v nft >/dev/null; then printf '%s' " + quote(rules) +
           " | nft -f - && echo nft; else echo 'no nft'; fi";
}

std::string cleanup_cmd(const Plan& p, bool firewall) {
    std::string cmd = "rm -rf " + quote(cert_dir(p)) + " " + quote(cert_dir(p) + ".tmp");
    if (firewall)
        cmd += "; if command -v nft >/dev/null && nft list table inet " + nft_table(p) +
               " >/dev/null 2>&1; then nft delete table inet " + nft_table(p) + "; fi";
    return cmd + "; true";
}

std::vector<std::vector<std::string>> listen_commands(const Plan& p) {
    const std::string d = cert_dir(p);
    return {{"CONFIG", "SET", "tls-cert-file", d + "/server.crt"},
            {"CONFIG", "SET", "tls-key-file", d + "/server.key"},
            {"CONFIG", "SET", "tls-ca-cert-file", d + "/ca.crt"},
            {"CONFIG", "SET", "tls-auth-clients", "yes"},
            {"CONFIG", "SET", "tls-port", std::to_string(tls_port(p))}};
}

std::vector<std::vector<std::string>> restore_commands(const std::map<std::string, std::string>& original) {
    // Ports and switches first, so no listener uses the files while they change back; an
    // empty file setting stays as ours (Redis refuses an empty certificate), harmless once
    // nothing speaks TLS and our files are gone.
    std::vector<std::string> order = tls_settings();
    for (const auto& [name, value] : original)
        if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
    std::vector<std::vector<std::string>> out;
    for (const auto& name : order) {
        auto it = original.find(name);
        if (it == original.end()) continue;
        bool file = name.find("-file") != std::string::npos;
        if (file && it->second.empty()) continue;
        out.push_back({"CONFIG", "SET", name, it->second});
    }
    return out;
}

std::vector<std::string> pause_command(int ms) {
    return {"CLIENT", "PAUSE", std::to_string(ms), "WRITE"};
}

std::vector<std::vector<std::string>> replica_commands(const Plan& p) {
    const std::string d = cert_dir(p);
    return {{"CONFIG", "SET", "masterauth", p.password.reveal()},
            {"CONFIG", "SET", "tls-cert-file", d + "/client.crt"},
            {"CONFIG", "SET", "tls-key-file", d + "/client.key"},
            {"CONFIG", "SET", "tls-ca-cert-file", d + "/ca.crt"},
            {"CONFIG", "SET", "tls-replication", "yes"},
            {"REPLICAOF", p.source_address, std::to_string(tls_port(p))}};
}

std::vector<std::vector<std::string>> promote_commands() {
    return {{"REPLICAOF", "NO", "ONE"}, {"CONFIG", "SET", "masterauth", ""}};
}

Link parse_link(const std::map<std::string, std::string>& info) {
    Link l;
    if (get(info, "role") != "slave") return l;
    l.master = get(info, "master_host") + ":" + get(info, "master_port");
    l.up = get(info, "master_link_status") == "up";
    l.syncing = get(info, "master_sync_in_progress") != "0";
    l.offset = to_i64(info, "slave_repl_offset");
    return l;
}

int64_t parse_offset(const std::map<std::string, std::string>& info) {
    return to_i64(info, "master_repl_offset");
}

std::string link_problem(const Plan& p, const Link& l) {
    const std::string want = p.source_address + ":" + std::to_string(tls_port(p));
    if (l.master.empty()) return "the target is not a replica";
    if (l.master != want) return "the target follows " + l.master + ", not " + want;
    if (!l.up) return "the target's link to " + want + " is down";
    if (l.syncing) return "the initial transfer from " + want + " is still running";
    return "";
}

int parse_server_major(const std::string& text) {
    auto at = text.find("v=");
    if (at == std::string::npos) return 0;
    int major = 0;
    for (size_t i = at + 2; i < text.size() && isdigit(static_cast<unsigned char>(text[i])) && major < 1000;
         ++i)
        major = major * 10 + (text[i] - '0');
    return major;
}

std::string version_refusal(const std::string& source_host, int source_major, const std::string& target_host,
                            int target_major) {
    if (source_major == 0 || target_major == 0 || target_major >= source_major) return "";
    return target_host + " runs Redis " + std::to_string(target_major) + ", older than Redis " +
           std::to_string(source_major) + " on " + source_host +
           ": a replica cannot load a newer server's data; install Redis " + std::to_string(source_major) +
           " or newer on the target";
}

}  // namespace decamp::data::redis
