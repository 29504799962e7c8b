#include "backup/repo.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>

#include "util/error.hpp"
#include "util/json.hpp"
#include "util/secret.hpp"

namespace decamp::backup {

using shell::quote;

RepoSpec repo_spec(const inventory::Inventory& inv) {
    if (!inv.backup) throw Error(inv.file.string() + ": no backup: section; name a backup target (host or address, path, secret) first");
    const auto& b = *inv.backup;
    RepoSpec s;
    s.port = inv.ssh.port;
    s.user = inv.ssh.user;
    if (!b.host.empty()) {
        const inventory::Host* h = inv.find_host(b.host);
        if (!h) throw Error("backup host " + b.host + " is not in the inventory");
        s.address = h->address;
        s.port = h->port;
        s.user = h->user;
    } else {
        s.address = b.address;
    }
    if (b.port) s.port = b.port;
    if (!b.user.empty()) s.user = b.user;
    s.path = b.path;
    s.key_file = inv.ssh.key;
    s.known_hosts = inv.ssh.known_hosts;
    s.strict_host_keys = inv.ssh.strict_host_keys;
    s.connect_timeout = inv.ssh.connect_timeout;
    return s;
}

std::string sftp_command(const RepoSpec& s) {
    shell::Argv a = {"ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o",
                     std::string("StrictHostKeyChecking=") + (s.strict_host_keys ? "yes" : "accept-new"),
                     "-o", "GlobalKnownHostsFile=/dev/null",
                     "-o", "ConnectTimeout=" + std::to_string(s.connect_timeout),
                     "-o", "ServerAliveInterval=15"};
    if (!s.known_hosts.empty()) {
        a.push_back("-o");
        a.push_back("UserKnownHostsFile=" + s.known_hosts);
    }
    if (!s.key_file.empty()) {
        a.insert(a.end(), {"-o", "IdentitiesOnly=yes", "-i", s.key_file});
    }
    a.insert(a.end(), {"-p", std::to_string(s.port), "-l", s.user, "-s", "--", s.address, "sftp"});
    return shell::join(a);
}

std::string repository_url(const RepoSpec& s) {
    std::string host = s.address.find(':') != std::string::npos ? "[" + s.address + "]" : s.address;
    return "sftp:" + host + ":" + s.path;
}

std::string restic_cmd(const RepoSpec& s, const shell::Argv& args) {
    shell::Argv a = {"env", "RESTIC_PASSWORD_FILE=" + s.password_file, "RESTIC_REPOSITORY=" + repository_url(s),
                     "RESTIC_PROGRESS_FPS=0.1", s.restic, "--no-cache", "-o", "sftp.command=" + sftp_command(s)};
    a.insert(a.end(), args.begin(), args.end());
    return shell::join(a);
}

std::string Snapshot::tag_value(const std::string& key) const {
    for (const auto& t : tags)
        if (t.size() > key.size() && t.compare(0, key.size(), key) == 0 && t[key.size()] == ':')
            return t.substr(key.size() + 1);
    return "";
}

double parse_rfc3339(const std::string& t) {
    // 2025-01-02T03:04:05.123456789+01:00 or …Z
    tm g{};
    int y, mo, d, h, mi, s;
    if (t.size() < 20 || sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6)
        throw Error("not an RFC 3339 time: '" + t + "'");
    g.tm_year = y - 1900;
    g.tm_mon = mo - 1;
    g.tm_mday = d;
    g.tm_hour = h;
    g.tm_min = mi;
    g.tm_sec = s;
    double v = double(timegm(&g));
    size_t at = 19;
    if (at < t.size() && t[at] == '.') {
        size_t end = at + 1;
        while (end < t.size() && isdigit(static_cast<unsigned char>(t[end]))) ++end;
        v += std::stod("0" + t.substr(at, end - at));
        at = end;
    }
    if (at < t.size() && (t[at] == '+' || t[at] == '-')) {
        int oh = 0, om = 0;
        if (sscanf(t.c_str() + at + 1, "%2d:%2d", &oh, &om) != 2) throw Error("not an RFC 3339 time: '" + t + "'");
        double off = oh * 3600 + om * 60;
        v -= t[at] == '+' ? off : -off;
    } else if (at >= t.size() || t[at] != 'Z') {
        throw Error("not an RFC 3339 time: '" + t + "'");
    }
    return v;
}

std::vector<Snapshot> parse_snapshots(const std::string& text) {
    json::Value root;
    try {
        root = json::parse(text);
    } catch (const json::ParseError& e) {
        throw Error(std::string("restic snapshots: unexpected output: ") + e.what());
    }
    std::vector<Snapshot> out;
    if (root.is_null()) return out;  // restic prints "null" for no snapshots
    if (!root.is_array()) throw Error("restic snapshots: expected a JSON list");
    for (json::Ref v : root.items()) {
        Snapshot s;
        s.id = v["id"].string_or("");
        s.short_id = v["short_id"].string_or(s.id.substr(0, 8));
        s.time = parse_rfc3339(v["time"].string_or(""));
        for (json::Ref t : v["tags"].items()) s.tags.push_back(t.string_or(""));
        for (json::Ref p : v["paths"].items()) s.paths.push_back(p.string_or(""));
        out.push_back(std::move(s));
    }
    return out;
}

Repo::Repo(const inventory::Inventory& inv) : spec_(repo_spec(inv)), local_(transport::make_local()) {
    const Value* ref = inv.secrets.get(inv.backup->secret);
    if (!ref) throw Error("backup: secret " + inv.backup->secret + " is not defined under secrets");
    SecretString pw = resolve_secret(ref->as_string(), inv.base_dir);
    if (pw.reveal().empty()) throw Error("backup: the secret " + inv.backup->secret + " is empty");
    std::string tmpl = (std::filesystem::temp_directory_path() / "decamp-restic-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw Error("cannot create a private temp dir for the backup password");
    secret_dir_ = tmpl;
    spec_.password_file = (secret_dir_ / "password").string();
    int fd = ::open(spec_.password_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw Error("cannot write the backup password file");
    const std::string& v = pw.reveal();
    bool ok = ::write(fd, v.data(), v.size()) == ssize_t(v.size());
    ::close(fd);
    if (!ok) throw Error("cannot write the backup password file");
}

Repo::~Repo() {
    std::error_code ec;
    std::filesystem::remove_all(secret_dir_, ec);
}

std::string Repo::describe() const { return repository_url(spec_); }

transport::RunResult Repo::try_run(const shell::Argv& args, int timeout_s) {
    transport::RunOptions o;
    o.timeout = std::chrono::seconds(timeout_s);
    return local_->run(cmd(args), o);
}

std::string Repo::run(const shell::Argv& args, const std::string& what, int timeout_s) {
    auto r = try_run(args, timeout_s);
    if (r.exit_status != 0) {
        std::string err = r.err;
        while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
        if (err.size() > 2000) err = "…" + err.substr(err.size() - 2000);
        throw Error(redactor().mask(what + " (" + describe() + ") failed (" +
                                    (r.timed_out ? std::string("timed out") : "exit " + std::to_string(r.exit_status)) +
                                    "): " + err));
    }
    return r.out;
}

void Repo::ensure_init() {
    auto r = try_run({"cat", "config"}, 120);
    if (r.exit_status == 0) return;
    // restic says "Is there a repository at the following location?" when there is none;
    // anything else (host key, auth, wrong password) must not lead to a second init.
    if (r.err.find("Is there a repository") == std::string::npos &&
        r.err.find("unable to open config file") == std::string::npos)
        throw Error(redactor().mask("opening the backup repository " + describe() + " failed: " + r.err));
    run({"init", "--repository-version", "2"}, "initialising the backup repository", 120);
}

std::vector<Snapshot> Repo::snapshots(const std::vector<std::string>& tags) {
    shell::Argv a = {"snapshots", "--json"};
    for (const auto& t : tags) a.insert(a.end(), {"--tag", t});
    return parse_snapshots(run(a, "listing backups", 300));
}

std::string Repo::version() {
    auto r = local_->run(shell::join({spec_.restic, "version"}));
    std::string v = r.out;
    while (!v.empty() && (v.back() == '\n')) v.pop_back();
    return v;
}

}  // namespace decamp::backup
