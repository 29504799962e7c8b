// The only layer that touches sockets and processes. A Transport runs commands and moves
// files on one host; the engine holds one per host for the whole run (one SSH session,
// reused for every step). Heavy headers (libssh2, Boost.Process) stay in the .cpp files.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "transport/host_trust.hpp"
#include "util/error.hpp"

namespace decamp::transport {

struct RunOptions {
    std::string stdin_data;                 // fed to the command, then EOF
    // Pull-based stdin for streams (e.g. tar from another host): return false at EOF.
    std::function<bool(std::string& chunk)> stdin_source;
    std::chrono::milliseconds timeout{0};   // 0 = none
    // Polled while the command runs (at least every 100 ms): returning true ends the run as
    // a timeout (the command is killed). Lets a caller time parts of one long command.
    std::function<bool()> expired;
    // Streaming output: called with each chunk as it arrives (stderr = true for stderr).
    // When set, out/err in the result still hold at most the last 64 KiB.
    std::function<void(std::string_view chunk, bool is_stderr)> on_output;
};

struct RunResult {
    int exit_status = -1;  // -1 when killed by a signal or timed out
    std::string out;
    std::string err;
    std::chrono::milliseconds duration{0};
    bool timed_out = false;
};

struct FileOptions {
    std::string mode = "0644";  // octal
    std::string owner;          // empty = leave as created
    std::string group;
};

// A host that cannot be reached or used: the engine makes it that host's result; uncaught,
// decamp exits 4 for a refused host key, 3 otherwise.
class TransportError : public Error {
public:
    enum class Kind { Unreachable, HostKey, Auth, Channel, Io, Timeout };
    TransportError(Kind kind, const std::string& message)
        : Error(message, kind == Kind::HostKey ? kExitHostKey : kExitUnreachable), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

class Transport {
public:
    virtual ~Transport() = default;
    virtual RunResult run(const std::string& command, const RunOptions& opts = {}) = 0;
    // Atomic: written to a temp name beside the target, then renamed.
    virtual void upload(std::string_view content, const std::string& remote_path,
                        const FileOptions& opts = {}) = 0;
    virtual void upload_file(const std::filesystem::path& local, const std::string& remote_path,
                             const FileOptions& opts = {}) = 0;
    virtual std::string download(const std::string& remote_path) = 0;
    virtual void close() = 0;
    virtual std::string describe() const = 0;  // "root@198.18.1.11:22"
};

struct SshConfig {
    std::string name;        // inventory host name, for messages
    std::string address;
    int port = 22;
    std::string user = "root";
    std::string key_file;    // private key; empty = ssh-agent only
    std::string known_hosts; // file; required unless strict_host_keys is false
    bool strict_host_keys = true;
    // A host a provider made: its key is checked against decamp's trust store for its server
    // id (host_trust.hpp) and known_hosts is not consulted.
    std::optional<HostTrust> trust;
    bool use_agent = true;   // try ssh-agent when SSH_AUTH_SOCK is set
    int connect_timeout_s = 10;
    int keepalive_s = 15;
    std::shared_ptr<SshConfig> jump;  // bastion to tunnel through (direct-tcpip)
};

// Connects and authenticates; throws TransportError (Unreachable, HostKey, Auth).
std::unique_ptr<Transport> connect_ssh(const SshConfig& cfg);

// Runs commands on this machine (sh -c) with Boost.Process.
std::unique_ptr<Transport> make_local();

// Connects without authenticating and returns the server's host key as a known_hosts line
// ("address ssh-ed25519 AAAA..."; "[address]:port ..." when port != 22). Trust on first use,
// only on request (`decamp hostkeys scan`).
std::string scan_host_key(const SshConfig& cfg);

// SHA256 fingerprint in OpenSSH's form ("SHA256:base64") of a raw key blob.
std::string fingerprint_sha256(std::string_view key_blob);

}  // namespace decamp::transport
