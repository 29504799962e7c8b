// Throw-away PostgreSQL 15 clusters for unit tests that need a real server: initdb in a temp
// dir, pg_ctl on a loopback port (optionally TLS), psql as the postgres OS user, and a reaper
// that stops every postmaster started, whatever happened. Needs root (runuser).
#pragma once

#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "data/pg_replica.hpp"
#include "transport/transport.hpp"

namespace decamp::test::pg_clusters {

namespace fs = std::filesystem;
namespace pg = decamp::data::pg;

inline const std::string kBin = "/usr/lib/postgresql/15/bin";

// Whether real clusters can run here (root for runuser, PostgreSQL 15, openssl); says why not.
inline bool available() {
    if (::geteuid() == 0 && fs::exists(kBin + "/initdb") && fs::exists("/usr/bin/openssl")) return true;
    MESSAGE("skipped: needs root, PostgreSQL 15 binaries in " << kBin << " and openssl");
    return false;
}

// Where a test's clusters live: the servers run as the postgres user, who must be able to
// walk into the temp directory; when it is not open to others (a /tmp left 0700 by some
// other program), /var/tmp.
inline fs::path cluster_base() {
    const fs::path tmp = fs::temp_directory_path();
    const auto others = fs::perms::others_exec;
    return (fs::status(tmp).permissions() & others) != fs::perms::none ? tmp : fs::path("/var/tmp");
}

inline std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::string sh(transport::Transport& t, const std::string& cmd, const std::string& in = {}) {
    transport::RunOptions o;
    o.stdin_data = in;
    o.timeout = std::chrono::seconds(60);
    auto r = t.run(cmd, o);
    INFO(cmd);
    INFO(r.err);
    REQUIRE(r.exit_status == 0);
    return r.out;
}

// Stops every postmaster we started, by the PID in postmaster.pid, whatever happened.
struct ClusterReaper {
    std::vector<fs::path> data_dirs;
    ~ClusterReaper() {
        for (auto& d : data_dirs) {
            std::ifstream in(d / "postmaster.pid");
            pid_t pid = 0;
            if (!(in >> pid) || pid <= 0) continue;
            ::kill(pid, SIGINT);  // fast shutdown
            for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
        }
    }
};

// server.key and server.crt in `dir`, for make_cluster(…, ssl = true).
inline void make_tls_cert(transport::Transport& t, const fs::path& dir) {
    sh(t, "chown postgres: '" + dir.string() + "' && cd '" + dir.string() +
              "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "
              "/CN=localhost -keyout server.key -out server.crt 2>/dev/null && chown postgres: server.key "
              "server.crt && chmod 0600 server.key");
}

inline pg::Cluster make_cluster(transport::Transport& t, const fs::path& dir, const std::string& name,
                                int port, bool ssl, const std::string& extra_conf = "") {
    pg::Cluster c;
    c.data_dir = (dir / name).string();
    c.conf_dir = c.data_dir;
    c.port = port;
    c.bin_dir = kBin;
    c.service = "";
    c.socket_dir = dir.string();
    c.log_file = (dir / (name + ".log")).string();
    sh(t, "cd / && runuser -u postgres -- " + kBin +
              "/initdb -N -U postgres -A peer "
              "--auth-host=scram-sha-256 -D '" +
              c.data_dir + "' >/dev/null");
    std::string conf = "port = " + std::to_string(port) +
                       "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '" + dir.string() +
                       "'\nshared_buffers = 16MB\nfsync = off\n"
                       "log_statement = 'all'\nlog_connections = on\n" +
                       extra_conf;
    if (ssl)
        conf += "ssl = on\nssl_cert_file = '" + (dir / "server.crt").string() + "'\nssl_key_file = '" +
                (dir / "server.key").string() + "'\n";
    std::ofstream(fs::path(c.data_dir) / "postgresql.conf", std::ios::app) << conf;
    // No blanket replication line: only the one grant adds may let the replica in.
    std::ofstream(fs::path(c.data_dir) / "pg_hba.conf")
        << "# test cluster\nlocal all all peer\nhost all all 127.0.0.1/32 scram-sha-256\n";
    sh(t, "chown postgres: '" + c.data_dir + "/pg_hba.conf'");
    sh(t, pg::start_cmd(c));
    return c;
}

inline std::string psql(const pg::Cluster& c, const std::string& db) {
    return "cd / && runuser -u postgres -- " + kBin + "/psql -X -q -At -v ON_ERROR_STOP=1 -h " +
           c.socket_dir + " -p " + std::to_string(c.port) + " -d " + db;
}

}  // namespace decamp::test::pg_clusters
