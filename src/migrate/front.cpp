#include "migrate/front.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "util/secret.hpp"
#include "util/shell.hpp"
#include "util/text.hpp"

namespace decamp::migrate {

namespace {

using shell::quote;

// The start of every script: socat and the socket are there, `hx CMD` sends one admin
// command, `quiet CMD` one that must answer nothing (HAProxy's success for enable/disable).
std::string preamble(const inventory::FrontConfig& f) {
    const std::string sock = quote(f.socket);
    return "set -u\n"
           "command -v socat >/dev/null 2>&1 || { echo 'socat is not installed: decamp drives HAProxy "
           "through its "
           "admin socket with it' >&2; exit 3; }\n"
           "[ -S " +
           sock + " ] || { echo 'no HAProxy admin socket at '" + sock +
           " >&2; exit 3; }\n"
           "hx() { printf '%s\\n' \"$1\" | socat -t 5 - UNIX-CONNECT:" +
           sock +
           "; }\n"
           "quiet() { o=$(hx \"$1\") || return 1; [ -z \"$o\" ] || { printf '%s: %s\\n' \"$1\" \"$o\" >&2; "
           "return 1; }; }\n";
}

// Saves every server's state where HAProxy loads it at start (load-server-state-from-file),
// so a reload or a reboot keeps what decamp set.
std::string save_state(const inventory::FrontConfig& f) {
    return shell::write_output_atomic(f.state_file, "hx 'show servers state'", "0644", "", "", {0}) +
           " || exit 1\n";
}

// HAProxy's runtime commands take IP addresses only; a value that is not one never reaches
// a command.
void need_ip(const std::string& a) {
    in6_addr buf{};
    if (inet_pton(AF_INET, a.c_str(), &buf) != 1 && inet_pton(AF_INET6, a.c_str(), &buf) != 1)
        throw Error("the front bridge needs IP addresses; \"" + util::printable(a) + "\" is not one");
}

std::string server(const inventory::FrontConfig& f, const std::string& name) {
    return f.backend + "/" + name;
}

std::set<std::string> acl_patterns(const std::string& text) {
    std::set<std::string> out;
    std::istringstream in(text);
    std::string ref, pattern;
    while (in >> ref >> pattern) {
        out.insert(pattern);
        in.ignore(1 << 20, '\n');
    }
    return out;
}

class Haproxy : public Front {
public:
    explicit Haproxy(inventory::FrontConfig f) : f_(std::move(f)) {}

    std::string accept_bridge_from(transport::Transport& t, const std::vector<std::string>& peers) override {
        std::string out = run(t, haproxy_peers_cmd(f_, peers), "letting the source's fronts bridge");
        std::set<std::string> want(peers.begin(), peers.end());
        if (acl_patterns(out) != want)
            throw Error(t.describe() + ": HAProxy's " + f_.peers_file +
                        " does not list exactly the source's fronts: " +
                        util::printable(util::output_tail(out, 300)));
        return "bridged requests accepted from " + std::to_string(want.size()) + " address(es)";
    }

    std::string refuse_bridge(transport::Transport& t) override {
        std::string out = run(t, haproxy_peers_cmd(f_, {}), "closing the bridge listener");
        if (!acl_patterns(out).empty())
            throw Error(t.describe() + ": HAProxy's " + f_.peers_file + " still lists addresses");
        return "bridged requests refused";
    }

    std::string bridge_to(transport::Transport& t, const std::string& address, int port) override {
        auto servers = parse_servers_state(
            run(t, haproxy_bridge_cmd(f_, address, port), "bridging the front"), f_.backend);
        const HaproxyServer& br = need(servers, f_.bridge_server, t);
        const HaproxyServer& app = need(servers, f_.server, t);
        if (br.addr != address || br.port != port || br.in_maintenance() || !app.in_maintenance())
            throw Error(t.describe() + ": HAProxy did not take the bridge (" + f_.bridge_server + " " +
                        br.addr + ":" + std::to_string(br.port) +
                        (br.in_maintenance() ? " in maintenance" : "") + ", " + f_.server +
                        (app.in_maintenance() ? " in maintenance" : " still serving") + ")");
        return "bridged to " + address + ":" + std::to_string(port);
    }

    std::string serve_locally(transport::Transport& t) override {
        auto servers =
            parse_servers_state(run(t, haproxy_local_cmd(f_), "pointing the front at its app"), f_.backend);
        if (need(servers, f_.server, t).in_maintenance() ||
            !need(servers, f_.bridge_server, t).in_maintenance())
            throw Error(t.describe() + ": HAProxy did not go back to its own app");
        return "serving from the local app";
    }

private:
    std::string run(transport::Transport& t, const std::string& script, const std::string& what) {
        auto r = t.run(script);
        if (r.exit_status != 0)
            throw Error(redactor().mask(
                t.describe() + ": " + what + " failed (exit " + std::to_string(r.exit_status) +
                "): " + util::printable(util::output_tail(r.err.empty() ? r.out : r.err, 400))));
        return r.out;
    }
    const HaproxyServer& need(const std::map<std::string, HaproxyServer>& s, const std::string& name,
                              transport::Transport& t) const {
        auto it = s.find(name);
        if (it == s.end())
            throw Error(t.describe() + ": HAProxy's backend " + f_.backend + " has no server " + name +
                        " (README, \"Zero-error cutover\", shows the lines it needs)");
        return it->second;
    }

    inventory::FrontConfig f_;
};

}  // namespace

std::unique_ptr<Front> make_front(const inventory::FrontConfig& cfg) {
    if (cfg.kind != "haproxy") throw Error("unknown front kind \"" + cfg.kind + "\"");
    return std::make_unique<Haproxy>(cfg);
}

std::map<std::string, HaproxyServer> parse_servers_state(const std::string& text,
                                                         const std::string& backend) {
    std::istringstream in(text);
    std::string line;
    std::vector<std::string> columns;
    std::map<std::string, HaproxyServer> out;
    auto words = [](const std::string& l) {
        std::vector<std::string> w;
        std::istringstream s(l);
        for (std::string x; s >> x;) w.push_back(x);
        return w;
    };
    while (std::getline(in, line)) {
        if (line.rfind("# be_id ", 0) == 0) {
            columns = words(line.substr(2));
            continue;
        }
        if (columns.empty() || line.empty() || line[0] == '#') continue;
        auto w = words(line);
        auto col = [&](const std::string& name) -> std::string {
            auto it = std::find(columns.begin(), columns.end(), name);
            size_t i = static_cast<size_t>(it - columns.begin());
            return it == columns.end() || i >= w.size() ? "" : w[i];
        };
        if (col("be_name") != backend) continue;
        HaproxyServer s;
        s.addr = col("srv_addr");
        try {
            s.port = std::stoi(col("srv_port"));
            s.admin_state = std::stoi(col("srv_admin_state"));
        } catch (const std::exception&) {
            throw Error("HAProxy's server state has an unreadable line: " +
                        util::printable(line.substr(0, 200)));
        }
        out[col("srv_name")] = s;
    }
    if (columns.empty()) throw Error("not an answer of HAProxy's `show servers state`");
    if (out.empty()) throw Error("HAProxy has no backend \"" + backend + "\" (or it has no servers)");
    return out;
}

std::string haproxy_bridge_cmd(const inventory::FrontConfig& f, const std::string& address, int port) {
    need_ip(address);
    // The bridge is enabled before the app's server goes: the backend never has no server.
    return preamble(f) + "hx " +
           quote("set server " + server(f, f.bridge_server) + " addr " + address + " port " +
                 std::to_string(port)) +
           " >/dev/null || exit 1\n"
           "quiet " +
           quote("enable server " + server(f, f.bridge_server)) +
           " || exit 1\n"
           "quiet " +
           quote("disable server " + server(f, f.server)) + " || exit 1\n" + save_state(f) + "hx " +
           quote("show servers state " + f.backend) + "\n";
}

std::string haproxy_local_cmd(const inventory::FrontConfig& f) {
    return preamble(f) + "quiet " + quote("enable server " + server(f, f.server)) + " || exit 1\n" +
           "quiet " + quote("disable server " + server(f, f.bridge_server)) + " || exit 1\n" + save_state(f) +
           "hx " + quote("show servers state " + f.backend) + "\n";
}

std::string haproxy_peers_cmd(const inventory::FrontConfig& f, const std::vector<std::string>& peers) {
    std::string spaced = " ", content;
    for (const auto& p : peers) {
        need_ip(p);
        spaced += p + " ";
        content += p + "\n";
    }
    // Added before the others are removed: a peer that stays is never refused in between.
    return preamble(f) + "F=" + quote(f.peers_file) + "\nP=" + quote(spaced) + "\n" +
           "for p in $P; do\n"
           "  hx \"show acl $F\" | awk '{print $2}' | grep -qxF \"$p\" || quiet \"add acl $F $p\" || exit 1\n"
           "done\n"
           "for p in $(hx \"show acl $F\" | awk '{print $2}'); do\n"
           "  case $p in *[!0-9A-Fa-f.:/]*) continue ;; esac\n"
           "  case \"$P\" in *\" $p \"*) ;; *) quiet \"del acl $F $p\" || exit 1 ;; esac\n"
           "done\n" +
           shell::write_file_atomic(f.peers_file, content, "0644", "", "") + " || exit 1\n" +
           "hx \"show acl $F\"\n";
}

}  // namespace decamp::migrate
