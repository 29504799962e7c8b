// PostgreSQL in a backup: command text (pure), then a real dump inside an exported snapshot
// while another session writes, restored into a scratch database and swapped in, on a
// throwaway PostgreSQL 15 cluster on 127.0.0.1 through the local transport.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "data/pg_dump.hpp"
#include "pg_clusters.hpp"
#include "test_util.hpp"
#include "transport/pump.hpp"
#include "util/error.hpp"
#include "util/shell.hpp"

using namespace decamp;
namespace fs = std::filesystem;

TEST_CASE("backup pg: command text") {
    auto c = data::pg::debian_cluster("15");
    const std::string d = data::pgdump::dump_cmd(c, "it's", "/tmp/decamp-backup-20250101T000000Z-ab12");
    CHECK(d.find("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n"
                 "SELECT pg_catalog.pg_export_snapshot() AS decamp_snapshot \\gset\n"
                 "\\setenv DECAMP_SNAPSHOT :decamp_snapshot\n") != std::string::npos);
    CHECK(d.find("\\! /usr/lib/postgresql/15/bin/pg_dump -Fc -Z0 -h /var/run/postgresql -p 5432 "
                 "--snapshot=\"$DECAMP_SNAPSHOT\" -d 'dbname='\\''it\\'\\''s'\\''';") != std::string::npos);
    CHECK_THROWS_AS(data::pgdump::dump_cmd(c, "x", "/tmp/a b"), Error);
    CHECK_THROWS_AS(data::pgdump::dump_cmd(c, "x", "/etc/x"), Error);
    CHECK_THROWS_AS(data::pgdump::dump_cmd(c, "x", "/tmp/../etc"), Error);
    data::pgdump::DbMeta m;
    m.owner = "for\"um";
    m.encoding = "UTF8";
    m.collate = m.ctype = "C.UTF-8";
    const std::string p = data::pgdump::restore_prepare_cmd(c, "forum_decamp_restore", m);
    CHECK(p.find("CREATE DATABASE \"forum_decamp_restore\" WITH TEMPLATE template0 ENCODING '\\''UTF8'\\'' LC_COLLATE") !=
          std::string::npos);
    CHECK(p.find("OWNER TO \"for\"\"um\"") != std::string::npos);
    CHECK(data::pgdump::restore_cmd(c, "s") ==
          "cd / || exit 1\nrunuser -u postgres -- /usr/lib/postgresql/15/bin/pg_restore -h /var/run/postgresql -p 5432 "
          "-d 'dbname='\\''s'\\''' --exit-on-error --single-transaction");
    auto meta = data::pgdump::parse_meta("meta\tforum\tUTF8\tC.UTF-8\tC.UTF-8\nversion\tpg_dump (PostgreSQL) 15.8\npublic.a\t3\n\"x y\".b\t0\n");
    CHECK(meta.owner == "forum");
    CHECK(meta.pg_dump_version == "pg_dump (PostgreSQL) 15.8");
    CHECK(meta.tables.at("\"x y\".b") == 0);
    CHECK_THROWS_AS(data::pgdump::parse_meta("version\tx\n"), Error);
    CHECK_THROWS_AS(data::pgdump::parse_counts("nonsense\n"), Error);
}

namespace {

const std::string kBin = "/usr/lib/postgresql/15/bin";

using test::free_tcp_port;

std::string sh(transport::Transport& t, const std::string& cmd) {
    auto r = t.run(cmd);
    INFO(cmd);
    INFO(r.err);
    REQUIRE(r.exit_status == 0);
    return r.out;
}

struct Reaper {
    fs::path data;
    ~Reaper() {
        std::ifstream in(data / "postmaster.pid");
        pid_t pid = 0;
        if (!(in >> pid) || pid <= 0) return;
        ::kill(pid, SIGINT);
        for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
    }
};

}  // namespace

TEST_CASE("backup pg: dump in a snapshot, restore into scratch, swap") {
    if (::geteuid() != 0 || !fs::exists(kBin + "/initdb")) {
        MESSAGE("skipped: needs root and PostgreSQL 15 binaries in " << kBin);
        return;
    }
    test::TempDir tmp(test::pg_clusters::cluster_base());
    auto t = transport::make_local();
    sh(*t, "chown postgres: '" + tmp.path().string() + "'");
    data::pg::Cluster c;
    c.data_dir = (tmp.path() / "data").string();
    c.conf_dir = c.data_dir;
    c.port = free_tcp_port();
    c.bin_dir = kBin;
    c.service = "";
    c.socket_dir = tmp.path().string();
    c.log_file = (tmp.path() / "pg.log").string();
    sh(*t, "cd / && runuser -u postgres -- " + kBin + "/initdb -N -U postgres -A peer -E UTF8 --locale=C.UTF-8 -D '" + c.data_dir + "' >/dev/null");
    std::ofstream(fs::path(c.data_dir) / "postgresql.conf", std::ios::app)
        << "port = " << c.port << "\nlisten_addresses = ''\nunix_socket_directories = '" << tmp.path().string()
        << "'\nfsync = off\n";
    Reaper reaper{c.data_dir};
    sh(*t, data::pg::start_cmd(c));
    const std::string psql = "cd / && runuser -u postgres -- " + kBin + "/psql -X -q -At -v ON_ERROR_STOP=1 -h " + c.socket_dir +
                             " -p " + std::to_string(c.port);
    sh(*t, psql + " -d postgres -c 'CREATE ROLE forum LOGIN' -c 'CREATE DATABASE forum OWNER forum'");
    sh(*t, psql + " -d forum -c 'CREATE TABLE items (id serial PRIMARY KEY, body text)' -c 'ALTER TABLE items OWNER TO forum'"
                  " -c \"INSERT INTO items (body) SELECT 'row ' || g FROM generate_series(1, 1000) g\""
                  " -c 'CREATE SCHEMA \"we ird\"' -c 'CREATE TABLE \"we ird\".\"t\"\"x\" (v int)'");

    // A writer keeps inserting while the dump runs: the counts must still match the dump.
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        auto w = transport::make_local();
        while (!stop) w->run(psql + " -d forum -c \"INSERT INTO items (body) SELECT 'more' FROM generate_series(1, 50)\"");
    });
    const std::string work = "/tmp/decamp-backup-unit-" + std::to_string(::getpid());
    const std::string dump_file = (tmp.path() / "forum.dump").string();
    auto pr = transport::pump(*t, data::pgdump::dump_cmd(c, "forum", work), *t, "cat >'" + dump_file + "'",
                              nullptr, "dump");
    stop = true;
    writer.join();
    CHECK(pr.bytes > 1000);
    auto meta = data::pgdump::parse_meta(sh(*t, data::pgdump::dump_meta_cmd(c, "forum", work)));
    CHECK(!fs::exists(work));
    CHECK(meta.owner == "forum");
    CHECK(meta.encoding == "UTF8");
    CHECK(meta.pg_dump_version.find("15") != std::string::npos);
    REQUIRE(meta.tables.count("public.items"));
    CHECK(meta.tables.at("public.items") >= 1000);
    CHECK(meta.tables.count("\"we ird\".\"t\"\"x\""));

    // Restore into a scratch database; its counts equal the manifest's; then swap it in.
    sh(*t, data::pgdump::restore_prepare_cmd(c, "forum_decamp_restore", meta));
    sh(*t, data::pgdump::restore_cmd(c, "forum_decamp_restore") + " <'" + dump_file + "'");
    auto got = data::pgdump::row_counts(*t, c, "forum_decamp_restore");
    CHECK(got == meta.tables);
    sh(*t, data::pgdump::swap_cmd(c, "forum", "forum_decamp_restore"));
    CHECK(data::pgdump::row_counts(*t, c, "forum") == meta.tables);
    CHECK(sh(*t, psql + " -d postgres -c \"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'forum'\"") == "forum\n");
    // A truncated dump fails the restore (single transaction: nothing half-restored).
    sh(*t, data::pgdump::restore_prepare_cmd(c, "forum_decamp_restore", meta));
    auto bash = t->run("bash -c " + shell::quote(data::pgdump::restore_cmd(c, "forum_decamp_restore") + " < <(head -c 2000 '" + dump_file + "')"));
    CHECK(bash.exit_status != 0);
}
