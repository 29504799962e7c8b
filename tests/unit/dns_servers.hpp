// Real authoritative servers for the rfc2136 tests: BIND 9 (named) or Knot (knotd) started
// as child processes on 127.0.0.1 with a free port, a throw-away config, zone and TSIG key
// under a temp dir, and killed after. Both know two keys with the same secret: decamp-key.
// may update and transfer the zone, reader-key. may not. Skips (with the reason) when the binary is missing.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dns/exchange.hpp"
#include "test_util.hpp"
#include "util/shell.hpp"

extern char** environ;

namespace decamp::test {

inline std::string find_dns_binary(const std::string& name) {
    for (const char* dir : {"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"}) {
        std::string p = std::string(dir) + "/" + name;
        if (access(p.c_str(), X_OK) == 0) return p;
    }
    return "";
}

// A port free for both TCP and UDP on 127.0.0.1 (DNS listens on both), never one the lab
// uses (53, PowerDNS on 5300 and its API on 8081).
inline int free_dns_port() {
    for (int attempt = 0; attempt < 50; ++attempt) {
        int port = free_tcp_port();
        int u = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(uint16_t(port));
        bool ok = ::bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(u);
        if (ok && port != 53 && port != 5300 && port != 8081) return port;
    }
    FAIL("no free port");
    return 0;
}

inline std::string random_tsig_secret() {
    std::mt19937_64 rng{std::random_device{}()};
    std::string raw;
    for (int i = 0; i < 32; ++i) raw += char(rng() & 0xFF);
    return shell::base64(raw);
}

inline const std::string kTestZone =
    "$TTL 300\n"
    "@ IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 60\n"
    "@ IN NS ns1.example.test.\n"
    "ns1 IN A 127.0.0.1\n"
    "www IN A 198.18.1.11\n"
    "www IN AAAA 2001:db8::11\n"
    "alias IN CNAME www\n";

struct ZoneServerOptions {
    std::string secret;      // base64; random when empty
    std::string faketime;    // e.g. "+2h": run the server with a shifted clock (libfaketime)
    int notify_port = 0;     // BIND: also-notify 127.0.0.1 on this port (a secondary)
    int primary_port = 0;    // Knot: a secondary of the primary on this port
    int port = 0;            // where to listen; 0: a free port
    std::string extra_zone;  // more lines for the zone file
};

class ZoneServer {
public:
    enum Kind { Bind, Knot };
    using Options = ZoneServerOptions;

    explicit ZoneServer(Kind kind) : ZoneServer(kind, Options()) {}
    ZoneServer(Kind kind, Options opts) : kind_(kind), opts_(std::move(opts)) {
        const char* bin = kind == Bind ? "named" : "knotd";
        binary_ = find_dns_binary(bin);
        if (binary_.empty()) {
            skip_ = std::string(bin) + " is not installed (apt-get install " +
                    (kind == Bind ? "bind9" : "knot") + ")";
            return;
        }
        if (!opts_.faketime.empty() && access(kFaketimeLib, R_OK) != 0) {
            skip_ = "libfaketime is not installed (apt-get install faketime)";
            return;
        }
        if (opts_.secret.empty()) opts_.secret = random_tsig_secret();
        port_ = opts_.port ? opts_.port : free_dns_port();
        dir_ = tmp_.path().string();
        log_ = dir_ + "/server.log";
        if (opts_.primary_port == 0) tmp_.write("example.test.zone", kTestZone + opts_.extra_zone);
        if (kind == Bind)
            write_named_conf();
        else
            write_knot_conf();
        start();
    }
    ~ZoneServer() { stop(); }
    ZoneServer(const ZoneServer&) = delete;
    ZoneServer& operator=(const ZoneServer&) = delete;

    bool skipped() const {
        if (!skip_.empty()) MESSAGE("skipping: " << skip_);
        return !skip_.empty();
    }
    std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
    int port() const { return port_; }
    const std::string& secret() const { return opts_.secret; }
    std::string log() const {
        std::ifstream in(log_);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

    void stop() {
        if (pid_ <= 0) return;
        kill(pid_, SIGKILL);  // throw-away instance
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    static constexpr const char* kFaketimeLib = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

    void write_named_conf() {
        std::ostringstream c;
        c << "options { directory \"" << dir_ << "\"; listen-on port " << port_ << " { 127.0.0.1; };\n"
          << "  listen-on-v6 { none; }; pid-file none; recursion no; dnssec-validation no;\n"
          << "  notify " << (opts_.notify_port ? "explicit" : "no") << "; };\n"
          << "controls { };\n"
          << "key \"decamp-key.\" { algorithm hmac-sha256; secret \"" << opts_.secret << "\"; };\n"
          << "key \"reader-key.\" { algorithm hmac-sha256; secret \"" << opts_.secret << "\"; };\n"
          << "zone \"example.test.\" { type primary; file \"" << dir_ << "/example.test.zone\";\n"
          << "  update-policy { grant decamp-key. zonesub ANY; }; allow-transfer { key decamp-key.; };\n";
        if (opts_.notify_port)
            c << "  also-notify { 127.0.0.1 port " << opts_.notify_port << " key decamp-key.; };\n";
        c << "};\n";
        tmp_.write("named.conf", c.str());
    }

    void write_knot_conf() {
        std::ostringstream c;
        c << "server:\n  listen: 127.0.0.1@" << port_ << "\n  rundir: " << dir_ << "\n"
          << "log:\n  - target: stderr\n    any: info\n"
          << "database:\n  storage: " << dir_ << "\n"
          << "key:\n  - id: decamp-key.\n    algorithm: hmac-sha256\n    secret: " << opts_.secret << "\n"
          << "  - id: reader-key.\n    algorithm: hmac-sha256\n    secret: " << opts_.secret << "\n";
        if (opts_.primary_port)
            c << "remote:\n  - id: primary\n    address: 127.0.0.1@" << opts_.primary_port
              << "\n    key: decamp-key.\n";
        c << "acl:\n  - id: decamp\n    key: decamp-key.\n    action: [update, transfer, notify]\n"
          << "template:\n  - id: default\n    storage: " << dir_ << "\n    zonefile-sync: -1\n"
          << "    zonefile-load: whole\n    journal-content: changes\n"
          << "zone:\n  - domain: example.test.\n    file: example.test.zone\n    acl: decamp\n";
        if (opts_.primary_port) c << "    master: primary\n";
        tmp_.write("knot.conf", c.str());
    }

    void start() {
        std::vector<std::string> argv = {binary_};
        if (kind_ == Bind)
            argv.insert(argv.end(), {"-g", "-n", "1", "-c", dir_ + "/named.conf"});
        else
            argv.insert(argv.end(), {"-c", dir_ + "/knot.conf"});
        std::vector<std::string> env_strings;
        for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
        if (!opts_.faketime.empty()) {
            env_strings.push_back(std::string("LD_PRELOAD=") + kFaketimeLib);
            env_strings.push_back("FAKETIME=" + opts_.faketime);
        }
        std::vector<char*> args, env;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        for (auto& e : env_strings) env.push_back(e.data());
        env.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        int rc = posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), env.data());
        posix_spawn_file_actions_destroy(&fa);
        REQUIRE(rc == 0);
        // Up when it answers the zone's SOA (a secondary: once it has transferred the zone).
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
        while (std::chrono::steady_clock::now() < deadline) {
            try {
                auto m = dns::ask(server(), "example.test.", dns::kTypeSOA, dns::Via::Tcp, 300);
                if (m.rcode == dns::kNoError && m.aa && !m.answers.empty()) return;
            } catch (const Error&) {
            }
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                FAIL(binary_ << " exited: " << log());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        stop();
        FAIL(binary_ << " did not come up: " << log());
    }

    Kind kind_;
    Options opts_;
    TempDir tmp_;
    std::string binary_, skip_, dir_, log_;
    int port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace decamp::test
