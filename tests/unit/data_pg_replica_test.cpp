// PostgreSQL data mover: exact command text and quoting (pure), then a real run between two
// throwaway PostgreSQL 15 clusters on 127.0.0.1 through the local transport: grant,
// replica, fence, catch up, promote, unfence and revoke, with byte-identical undo.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "data/pg_replica.hpp"
#include "pg_clusters.hpp"
#include "test_util.hpp"
#include "transport/recording.hpp"
#include "util/error.hpp"
#include "util/shell.hpp"

using namespace decamp;
using namespace decamp::data;
namespace fs = std::filesystem;

namespace {

const std::string kPassword = "s3cr:et' \\pw \"x$(id)";

pg::ReplicaPlan sample_plan() {
    pg::ReplicaPlan p;
    p.migration_id = "m-42";
    p.source_address = "198.18.1.12";
    p.target_address = "198.18.2.12";
    p.database = "forum";
    p.repl_password = SecretString(kPassword);
    p.source = pg::debian_cluster("15");
    p.target = pg::debian_cluster("15");
    return p;
}

}  // namespace

TEST_CASE("pg: parse_lsn") {
    CHECK(pg::parse_lsn("0/3000148") == 0x3000148);
    CHECK(pg::parse_lsn("16/B374D848\n") == (uint64_t(0x16) << 32 | 0xB374D848));
    CHECK(pg::parse_lsn(" FFFFFFFF/FFFFFFFF ") == UINT64_MAX);
    CHECK(pg::parse_lsn("0/0") == 0);
    CHECK_THROWS_AS(pg::parse_lsn(""), Error);
    CHECK_THROWS_AS(pg::parse_lsn("3000148"), Error);
    CHECK_THROWS_AS(pg::parse_lsn("0/"), Error);
    CHECK_THROWS_AS(pg::parse_lsn("/1"), Error);
    CHECK_THROWS_AS(pg::parse_lsn("0/xyz"), Error);
    CHECK_THROWS_AS(pg::parse_lsn("1/123456789"), Error);
    CHECK_THROWS_AS(pg::parse_lsn("-1/0"), Error);
}

TEST_CASE("pg: quoting of identifiers, literals, conninfo and passfile") {
    CHECK(pg::quote_ident("forum") == "\"forum\"");
    CHECK(pg::quote_ident("we\"ird; DROP TABLE x") == "\"we\"\"ird; DROP TABLE x\"");
    CHECK(pg::quote_literal("it's") == "'it''s'");
    CHECK(pg::quote_literal("a\\b'") == "E'a\\\\b'''");
    CHECK_THROWS_AS(pg::quote_ident(std::string("a\0b", 3)), Error);
    CHECK_THROWS_AS(pg::quote_literal(std::string("a\0b", 3)), Error);
    CHECK(pg::conninfo_quote("a b'c\\") == "'a b\\'c\\\\'");
    CHECK(pg::pgpass_line("fd00::1", 5432, "u", "p:w\\d") == "fd00\\:\\:1:5432:*:u:p\\:w\\\\d");

    // A hostile database name reaches psql as one conninfo value, never as options.
    pg::Cluster c = pg::debian_cluster("15");
    std::string cmd = pg::data_size_cmd(c, "x' host=evil dbname='y");
    CHECK(cmd.find("'dbname='\\''postgres'\\'''") != std::string::npos);
    // SQL: pg_database_size('x'' host=evil dbname=''y'), then single-quoted for sh.
    CHECK(cmd.find(R"(pg_database_size('\''x'\'''\'' host=evil dbname='\'''\''y'\'')')") !=
          std::string::npos);
    std::string rc = pg::row_counts_cmd(c, "it's -c");
    CHECK(rc.find(R"(-d 'dbname='\''it\'\''s -c'\''' )") != std::string::npos);
}

TEST_CASE("pg: the pg_hba line, its removal and the fence lines") {
    auto p = sample_plan();
    CHECK(pg::hba_line(p) ==
          "hostssl replication decamp_repl 198.18.2.12/32 scram-sha-256  # decamp-migration m-42");
    p.target_address = "fd00::12";
    CHECK(pg::hba_line(p).find(" fd00::12/128 ") != std::string::npos);
    p.target_address = "1.2.3.4 0.0.0.0/0 trust";
    CHECK_THROWS_AS(pg::hba_line(p), Error);
    p = sample_plan();
    p.migration_id = "x\nhost all all 0.0.0.0/0 trust";
    CHECK_THROWS_AS(pg::grant_replication_cmd(p), Error);
    p = sample_plan();
    p.repl_user = "Evil User";
    CHECK_THROWS_AS(pg::grant_replication_cmd(p), Error);

    p = sample_plan();
    const std::string grant = pg::grant_replication_cmd(p);
    CHECK(grant.find("line='hostssl replication decamp_repl 198.18.2.12/32 scram-sha-256  # "
                     "decamp-migration m-42'\n"
                     "if ! grep -qxF -- \"$line\" /etc/postgresql/15/main/pg_hba.conf; then\n"
                     "f=/etc/postgresql/15/main/pg_hba.conf\n") != std::string::npos);
    // pg_hba.conf is replaced through the shared atomic writer, never appended through a link.
    CHECK(grant.find("{ cat \"$f\" && printf '%s\\n' \"$line\"; }; printf") != std::string::npos);
    CHECK(grant.find("psql_ -c 'SHOW ssl'") != std::string::npos);
    const std::string revoke = pg::revoke_replication_cmd(p);
    CHECK(revoke.find("{ { grep -vxF -- \"$line\" \"$f\"; }; printf") != std::string::npos);
    CHECK(revoke.find("DROP ROLE IF EXISTS \"decamp_repl\"") != std::string::npos);

    auto lines = pg::fence_hba_lines(p);
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == "local all postgres peer  # decamp-fence m-42");
    CHECK(lines[2] == "host all all 0.0.0.0/0 reject  # decamp-fence m-42");
    const std::string fence = pg::fence_cmd(p);
    CHECK(fence.find("ALTER SYSTEM SET default_transaction_read_only = on") != std::string::npos);
    CHECK(fence.find(R"(backend_type = '\''client backend'\'' AND pid <> pg_catalog.pg_backend_pid())") !=
          std::string::npos);
    CHECK(fence.find("pg_switch_wal") != std::string::npos);
    CHECK(pg::unfence_cmd(p).find("ALTER SYSTEM RESET default_transaction_read_only") !=
          std::string::npos);
}

TEST_CASE("pg: the password never appears in a command, only on stdin") {
    auto p = sample_plan();
    for (const std::string& cmd :
         {pg::grant_replication_cmd(p), pg::revoke_replication_cmd(p), pg::basebackup_cmd(p),
          pg::fence_cmd(p), pg::unfence_cmd(p), pg::promote_cmd(p.target), pg::is_replica_of_cmd(p)}) {
        CHECK(cmd.find("s3cr") == std::string::npos);
    }
    CHECK(pg::grant_replication_stdin(p).find(R"(E's3cr:et'' \\pw "x$(id)')
\gexec
)") != std::string::npos);
    CHECK(pg::grant_replication_stdin(p).find("SET log_statement = 'none'") == 0);
    // Passfile line, then primary_conninfo for postgresql.auto.conf (conninfo escaping inside
    // GUC-file escaping).
    CHECK(pg::basebackup_stdin(p) ==
          "198.18.1.12:5432:*:decamp_repl:s3cr\\:et' \\\\pw \"x$(id)\n"
          "primary_conninfo = 'host=''198.18.1.12'' port=5432 user=''decamp_repl'' "
          "password=''s3cr:et\\\\'' \\\\\\\\pw \"x$(id)'' sslmode=require "
          "application_name=''decamp-m-42'''\n");
    const std::string bb = pg::basebackup_cmd(p);
    CHECK(bb.find("pf=$(mktemp /tmp/decamp-pgpass.XXXXXX)") != std::string::npos);
    CHECK(bb.find("trap 'rm -f \"$pf\"' EXIT") != std::string::npos);
    CHECK(bb.find("runuser -u postgres -- env \"PGPASSFILE=$pf\" "
                  "/usr/lib/postgresql/15/bin/pg_basebackup -h 198.18.1.12 -p 5432 -U decamp_repl "
                  "-d 'host='\\''198.18.1.12'\\'' port=5432 user='\\''decamp_repl'\\'' "
                  "sslmode=require application_name='\\''decamp-m-42'\\''' "
                  "-D /var/lib/postgresql/15/main -R -X stream -c fast -w") != std::string::npos);
    CHECK(bb.find("systemctl stop -- postgresql@15-main") != std::string::npos);
    CHECK(bb.find("mv -T -- /var/lib/postgresql/15/main /var/lib/postgresql/15/main.pre-decamp") !=
          std::string::npos);

    // Through the runners: the recorded commands never hold it, and errors are masked.
    transport::RecordingTransport r;
    r.push_result(1, "", "ERROR: something about PASSWORD '" + kPassword + "'");
    try {
        pg::grant(r, p);
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("s3cr") == std::string::npos);
        CHECK(std::string(e.what()).find("***") != std::string::npos);
    }
    r.push_result(1);  // not a replica yet
    r.push_result(0);  // base backup
    pg::build_replica(r, p);
    auto calls = r.calls();
    REQUIRE(calls.size() == 3);
    for (auto& c : calls) CHECK(c.command.find("s3cr") == std::string::npos);
    CHECK(calls[0].stdin_data.find("s3cr") != std::string::npos);
    CHECK(calls[2].stdin_data == pg::basebackup_stdin(p));

    // Already streaming from this source: nothing to do.
    transport::RecordingTransport done;
    done.push_result(0);
    pg::build_replica(done, p);
    CHECK(done.commands().size() == 1);
}

TEST_CASE("pg: ctl mode drives pg_ctl, service mode systemctl") {
    pg::Cluster c;
    c.data_dir = "/tmp/x y/data";
    c.conf_dir = "/tmp/x y/conf";
    c.bin_dir = "/opt/pg/bin";
    c.port = 6543;
    CHECK(pg::start_cmd(c) ==
          "runuser -u postgres -- /opt/pg/bin/pg_ctl -D '/tmp/x y/data' -l '/tmp/x y/data.log' -w "
          "-t 120 -o '-p 6543 -c '\\''config_file=/tmp/x y/conf/postgresql.conf'\\''' start >/dev/null");
    CHECK(pg::stop_cmd(pg::debian_cluster("15")) == "systemctl stop -- postgresql@15-main");
    transport::RecordingTransport r;
    r.push_result(0, "0/3000060\n");
    r.push_result(0, "\n");
    r.push_result(0, "0/3000060\n");
    auto p = sample_plan();
    CHECK(pg::wait_caught_up(r, r, p, 5) == 0x3000060);
    r.push_result(0, "12\n");
    CHECK(pg::lag_bytes(r, p) == 12);
    // Sent under the host-side lock; the inner command is quoted once more for `sh -c`.
    CHECK(r.commands().back().rfind("exec flock -o -w 1800 /run/lock/decamp-pg.lock sh -c ", 0) == 0);
    CHECK(r.commands().back().find("decamp_repl") != std::string::npos);
    CHECK(pg::lag_cmd(p.source, p.repl_user).find(R"(WHERE usename = '\''decamp_repl'\''')") != std::string::npos);
}

// ---------------------------------------------------------------------------------------
// Real clusters.

namespace {

using test::free_tcp_port;
using namespace test::pg_clusters;

// An application client over TCP with TLS and a password: what fence must lock out.
std::string app_psql(const pg::Cluster& c) {
    return "cd / && PGPASSWORD=apppw " + kBin + "/psql -X -q -At -v ON_ERROR_STOP=1 "
           "'host=127.0.0.1 port=" + std::to_string(c.port) +
           " user=app dbname=forum sslmode=require connect_timeout=5'";
}

}  // namespace

TEST_CASE("pg: real replica between two local clusters") {
    if (!test::pg_clusters::available()) return;
    const auto started = std::chrono::steady_clock::now();
    test::TempDir tmp(cluster_base());
    auto t = transport::make_local();
    sh(*t, "chown postgres: '" + tmp.path().string() + "'");
    test::pg_clusters::make_tls_cert(*t, tmp.path());
    ClusterReaper reaper;
    reaper.data_dirs = {tmp.path() / "source", tmp.path() / "target"};
    pg::ReplicaPlan p;
    p.migration_id = "t1";
    p.source_address = "127.0.0.1";
    p.target_address = "127.0.0.1";
    p.database = "forum";
    p.repl_password = SecretString(kPassword);
    p.source = make_cluster(*t, tmp.path(), "source", free_tcp_port(), true);
    p.target = make_cluster(*t, tmp.path(), "target", free_tcp_port(), false);
    const fs::path src_hba = fs::path(p.source.conf_dir) / "pg_hba.conf";
    const fs::path src_auto = fs::path(p.source.data_dir) / "postgresql.auto.conf";

    sh(*t, psql(p.source, "postgres"),
       "CREATE ROLE app LOGIN PASSWORD 'apppw';\nCREATE DATABASE forum OWNER app;\n");
    sh(*t, psql(p.source, "forum"),
       "SET ROLE app;\nCREATE TABLE posts (id serial PRIMARY KEY, body text);\n"
       "CREATE TABLE \"we\"\"ird\ttab\" (x int);\n"
       "INSERT INTO posts (body) SELECT 'p' || g FROM generate_series(1, 500) g;\n"
       "INSERT INTO \"we\"\"ird\ttab\" VALUES (1), (2);\n");
    const std::string hba_before_grant = slurp(src_hba);

    pg::grant(*t, p);
    pg::grant(*t, p);  // idempotent
    const std::string hba_granted = slurp(src_hba);
    CHECK(hba_granted == hba_before_grant + pg::hba_line(p) + "\n");

    pg::build_replica(*t, p);
    CHECK(pg::is_replica(*t, p));
    CHECK(fs::exists(p.target.data_dir + ".pre-decamp/PG_VERSION"));
    CHECK(!fs::exists(p.target.data_dir + ".decamp-partial"));
    const std::string tgt_auto = slurp(fs::path(p.target.data_dir) / "postgresql.auto.conf");
    CHECK(tgt_auto.find("passfile") == std::string::npos);
    CHECK(tgt_auto.find("sslmode=require") != std::string::npos);
    CHECK(sh(*t, "ls /tmp | grep -c '^decamp-pgpass' || true") == "0\n");
    CHECK(sh(*t, "stat -c %U '" + p.target.data_dir + "/base'") == "postgres\n");
    // The target kept its own configuration (port, no ssl) rather than the source's.
    CHECK(slurp(fs::path(p.target.data_dir) / "postgresql.conf").find("ssl = on") == std::string::npos);
    CHECK(sh(*t, psql(p.source, "postgres") + " -c \"SELECT ssl FROM pg_stat_ssl JOIN "
                 "pg_stat_replication USING (pid)\"") == "t\n");
    const auto pre_mtime = fs::last_write_time(p.target.data_dir + ".pre-decamp");
    pg::build_replica(*t, p);  // already streaming from this source: no-op
    CHECK(fs::last_write_time(p.target.data_dir + ".pre-decamp") == pre_mtime);

    sh(*t, app_psql(p.source) + " -c \"INSERT INTO posts (body) SELECT 'late' FROM "
                                "generate_series(1, 300)\"");
    int64_t lag = pg::lag_bytes(*t, p);
    CHECK(lag >= 0);
    MESSAGE("replication lag right after 300 inserts: " << lag << " bytes");

    // An open application session, which fence must end.
    std::thread session_thread;
    transport::RunResult session;
    auto t2 = transport::make_local();
    session_thread = std::thread([&] {
        transport::RunOptions o;
        o.timeout = std::chrono::seconds(40);
        session = t2->run(app_psql(p.source) + " -c 'SELECT pg_sleep(30)'", o);
    });
    for (int i = 0; i < 100; ++i) {
        if (sh(*t, psql(p.source, "postgres") +
                       " -c \"SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'\"") == "1\n")
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const std::string auto_before_fence = slurp(src_auto);
    const auto fence_start = std::chrono::steady_clock::now();
    pg::fence(*t, p);
    const double fence_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - fence_start).count();
    pg::fence(*t, p);  // idempotent
    session_thread.join();
    CHECK(session.exit_status != 0);
    CHECK(session.duration < std::chrono::seconds(20));
    CHECK(session.err.find("terminating connection") != std::string::npos);
    auto denied = t->run(app_psql(p.source) + " -c 'INSERT INTO posts (body) VALUES (1)'");
    CHECK(denied.exit_status != 0);
    CHECK(denied.err.find("rejects connection") != std::string::npos);
    // Even our own superuser socket session starts read-only.
    auto ro = t->run(psql(p.source, "forum") + " -c 'INSERT INTO posts (body) VALUES (1)'");
    CHECK(ro.exit_status != 0);
    CHECK(ro.err.find("read-only transaction") != std::string::npos);
    CHECK(slurp(src_hba).find("reject  # decamp-fence t1") != std::string::npos);

    const uint64_t want = pg::current_lsn(*t, p);
    const uint64_t reached = pg::wait_caught_up(*t, *t, p, 30);
    CHECK(reached >= want);
    char lsn[32];
    std::snprintf(lsn, sizeof lsn, "%X/%X", unsigned(reached >> 32), unsigned(reached));
    MESSAGE("fence took " << fence_s << " s; caught up at LSN " << lsn);

    pg::promote(*t, p);
    pg::promote(*t, p);  // idempotent
    CHECK(sh(*t, psql(p.target, "postgres") + " -c 'SELECT pg_is_in_recovery()'") == "f\n");
    CHECK(!fs::exists(p.target.data_dir + "/standby.signal"));
    const std::string promoted_auto = slurp(fs::path(p.target.data_dir) / "postgresql.auto.conf");
    CHECK(promoted_auto.find("primary_conninfo") == std::string::npos);
    const std::string counts = pg::row_counts(*t, p.source, "forum");
    CHECK(counts == "public.\"we\"\"ird\\ttab\"\t2\npublic.posts\t800\n");  // bytewise order
    CHECK(pg::row_counts(*t, p.target, "forum") == counts);
    sh(*t, psql(p.target, "forum") + " -c \"INSERT INTO posts (body) VALUES ('on the new side')\"");
    CHECK(pg::row_counts(*t, p.target, "forum").find("posts\t801") != std::string::npos);

    pg::unfence(*t, p);
    pg::unfence(*t, p);  // idempotent
    CHECK(slurp(src_hba) == hba_granted);
    CHECK(slurp(src_auto) == auto_before_fence);
    sh(*t, app_psql(p.source) + " -c \"INSERT INTO posts (body) VALUES ('back')\"");

    pg::revoke(*t, p);
    pg::revoke(*t, p);  // idempotent
    CHECK(slurp(src_hba) == hba_before_grant);
    CHECK(sh(*t, psql(p.source, "postgres") +
                     " -c \"SELECT count(*) FROM pg_roles WHERE rolname = 'decamp_repl'\"") == "0\n");

    // The password is in no server log (log_statement = all on both).
    CHECK(slurp(tmp.path() / "source.log").find("s3cr") == std::string::npos);
    CHECK(slurp(tmp.path() / "target.log").find("s3cr") == std::string::npos);

    // A source without TLS is refused with a clear message.
    pg::ReplicaPlan plain = p;
    plain.source = p.target;
    try {
        pg::grant(*t, plain);
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("ssl is off") != std::string::npos);
    }
    MESSAGE("real replica test took "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
            << " s");
}

TEST_CASE("pg abort: the orphan-stopping patterns match the basebackup, never their own command line") {
    auto p = pg::ReplicaPlan(sample_plan());
    const std::string stop = pg::stop_basebackup_cmd(p);
    // pkill -f matches an extended regex against each process's whole command line (newlines
    // included: grep -z reads the text as one record).
    auto matches = [](const std::string& pattern, const std::string& text) {
        std::string cmd = "printf '%s' " + shell::quote(text) + " | grep -Ezq -- " + shell::quote(pattern);
        return std::system(cmd.c_str()) == 0;
    };
    std::vector<std::string> patterns;
    for (size_t at = stop.find("pkill -f -- "); at != std::string::npos;
         at = stop.find("pkill -f -- ", at + 1)) {
        size_t q = stop.find('\'', at);
        patterns.push_back(stop.substr(q + 1, stop.find('\'', q + 1) - q - 1));
    }
    REQUIRE(patterns.size() == 2);
    const std::string orphan =
        "flock -o -w 1800 /run/lock/decamp-pg.lock sh -c " + shell::quote(pg::basebackup_cmd(p));
    const std::string own = "sh -c " + shell::quote(stop);
    CHECK(matches(patterns[0], orphan));  // the script (and the flock holding the lock)
    CHECK(!matches(patterns[0], own));
    CHECK(!matches(patterns[1], own));
    auto q = p;
    q.migration_id = "m-43";  // another migration's basebackup is left alone
    CHECK(!matches(patterns[0], "sh -c " + shell::quote(pg::basebackup_cmd(q))));
    // The restore replaces only a data dir this migration made, and starts the cluster.
    const std::string r = pg::restore_target_cmd(p);
    CHECK(r.find("if [ -f /var/lib/postgresql/15/main.decamp-partial ] || [ -f "
                 "/var/lib/postgresql/15/main/standby.signal ]") != std::string::npos);
    CHECK(r.find("mv -T -- /var/lib/postgresql/15/main.pre-decamp /var/lib/postgresql/15/main") !=
          std::string::npos);
    CHECK(r.find("systemctl start -- postgresql@15-main") != std::string::npos);
}
