// The backup repository: restic, run on the orchestrator, with the repository on the backup
// host over SFTP (restic's sftp backend through OpenSSH with the inventory's key and pinned
// known_hosts). Why restic: a Debian package, content-defined dedup (daily dumps of a
// mostly unchanged database cost only what changed), authenticated encryption at rest
// (AES-256-CTR + Poly1305 under a key derived from our password with scrypt), zstd
// compression (repository v2), and `check --read-data` to find a flipped byte. Running it
// here keeps the password off every host: the backup host stores ciphertext only and
// production hosts hold no keys for it. The password reaches restic in a 0600 file in a
// private temp dir (RESTIC_PASSWORD_FILE), never on a command line.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "inventory/inventory.hpp"
#include "transport/transport.hpp"
#include "util/shell.hpp"

namespace decamp::backup {

// Where the repository lives and how to reach it; all resolved from the inventory.
struct RepoSpec {
    std::string address;
    int port = 22;
    std::string user = "root";
    std::string path;             // repository directory on the backup host
    std::string key_file;         // "" = ssh-agent
    std::string known_hosts;
    bool strict_host_keys = true;
    int connect_timeout = 10;
    std::string password_file;    // filled by Repo
    std::string restic = "restic";
};

RepoSpec repo_spec(const inventory::Inventory& inv);
// The ssh command restic's sftp backend runs (restic splits it like a shell would).
std::string sftp_command(const RepoSpec& s);
std::string repository_url(const RepoSpec& s);       // sftp:ADDR:/path
// The full shell command line for `restic ARGS` (env, options, args quoted).
std::string restic_cmd(const RepoSpec& s, const shell::Argv& args);

struct Snapshot {
    std::string id;       // full id
    std::string short_id;
    double time = 0;      // unix seconds
    std::vector<std::string> tags;
    std::vector<std::string> paths;
    std::string tag_value(const std::string& key) const;  // "decamp-id" → value of "decamp-id:…"
};
// Parses `restic snapshots --json`. Throws Error.
std::vector<Snapshot> parse_snapshots(const std::string& json);
// RFC 3339 with fraction and offset (restic's times) → unix seconds; throws Error.
double parse_rfc3339(const std::string& t);

class Repo {
public:
    explicit Repo(const inventory::Inventory& inv);
    ~Repo();
    Repo(const Repo&) = delete;
    Repo& operator=(const Repo&) = delete;

    const RepoSpec& spec() const { return spec_; }
    std::string describe() const;  // "sftp:backup-web1:/srv/decamp-backup"
    std::string cmd(const shell::Argv& args) const { return restic_cmd(spec_, args); }
    transport::Transport& local() { return *local_; }

    // Runs restic; throws Error with restic's stderr on failure.
    std::string run(const shell::Argv& args, const std::string& what, int timeout_s = 0);
    transport::RunResult try_run(const shell::Argv& args, int timeout_s = 0);
    // Initialises the repository when there is none yet (idempotent).
    void ensure_init();
    std::vector<Snapshot> snapshots(const std::vector<std::string>& tags = {});
    std::string version();

private:
    RepoSpec spec_;
    std::filesystem::path secret_dir_;
    std::unique_ptr<transport::Transport> local_;
};

}  // namespace decamp::backup
