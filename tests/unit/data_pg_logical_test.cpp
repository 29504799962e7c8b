// PostgreSQL across majors by logical replication: the method choice, the SQL and command
// text (pure), then the whole logical path between two throw-away PostgreSQL 15 clusters on
// 127.0.0.1 (logical replication works 15 → 15; across majors only the choice differs):
// rows and every sequence identical after the cutover, every login role fenced and restored
// exactly, a table without a key refused by name, DDL during the move caught, and an abort
// that leaves the source writable with no slot behind.
#include <doctest/doctest.h>
#include <unistd.h>

#include <map>
#include <sstream>
#include <thread>

#include "data/pg_logical.hpp"
#include "data/pg_logical_mover.hpp"
#include "move_context.hpp"
#include "pg_clusters.hpp"
#include "test_util.hpp"
#include "util/error.hpp"
#include "util/shell.hpp"

using namespace decamp;
using namespace decamp::data;
namespace pgl = decamp::data::pglogical;
namespace fs = std::filesystem;

namespace {

const std::string kPassword = "l0g:ic' \\pw \"x$(id)";

bool has(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

pg::ReplicaPlan plan_for(const std::string& id, const std::string& db, const pg::Cluster& s,
                         const pg::Cluster& d, const std::string& source_address = "127.0.0.1",
                         const std::string& target_address = "127.0.0.1") {
    pg::ReplicaPlan p;
    p.migration_id = id;
    p.source_address = source_address;
    p.target_address = target_address;
    p.database = db;
    p.repl_password = SecretString(kPassword);
    p.source = s;
    p.target = d;
    return p;
}

std::string error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("pg logical: the method follows the releases unless the inventory says") {
    using M = pgl::Method;
    CHECK(pgl::choose_method("", "bookworm", "bookworm") == M::Physical);
    CHECK(pgl::choose_method("auto", "bookworm", "trixie") == M::Logical);
    CHECK(pgl::choose_method("logical", "bookworm", "bookworm") == M::Logical);
    CHECK(pgl::choose_method("physical", "trixie", "trixie") == M::Physical);
    CHECK(has(error_of([] { pgl::choose_method("physical", "bookworm", "trixie"); }), "use method: logical"));
    CHECK(
        has(error_of([] { pgl::choose_method("logcal", "a", "a"); }), "expected auto, physical or logical"));
    CHECK_NOTHROW(pgl::check_majors(M::Logical, "15", "17"));
    CHECK_NOTHROW(pgl::check_majors(M::Physical, "15", "15"));
    CHECK(has(error_of([] { pgl::check_majors(M::Physical, "15", "17"); }), "same major"));
    CHECK(has(error_of([] { pgl::check_majors(M::Logical, "17", "15"); }), "older major"));
    CHECK(pgl::object_name("20261203-ab.C-9") == "decamp_20261203_ab_c_9");
    CHECK(pgl::object_name(std::string(80, 'a')).size() == 63);
}

TEST_CASE("pg logical: what the source check finds, and the refusal naming every object") {
    const std::string out =
        "wal_level\treplica\nfree_slots\t2\nlarge_objects\t3\n"
        "nokey\t7075626c6963\t6e6f206b6579\td\n"  // public."no key"
        "nokey\t7075626c6963\t610a62\tn\n"        // public."a\nb"
        "unlogged\t7075626c6963\t636163686500\n";
    CHECK_THROWS_AS(pgl::parse_source_check(out), Error);  // a NUL byte is no name
    const std::string good =
        "wal_level\treplica\nfree_slots\t2\nlarge_objects\t3\n"
        "nokey\t7075626c6963\t6e6f206b6579\td\nnokey\t7075626c6963\t610a62\tn\n"
        "unlogged\t7075626c6963\t6361636865\n";
    auto s = pgl::parse_source_check(good);
    CHECK(s.wal_level == "replica");
    CHECK(s.free_slots == 2);
    CHECK(s.large_objects == 3);
    REQUIRE(s.no_key.size() == 2);
    CHECK(s.no_key[1] == pgl::Table{"public", "a\nb", 'n'});
    auto c = pg::debian_cluster("15");
    const std::string why = pgl::refusal(s, false, c);
    CHECK(has(why, "wal_level is replica"));
    CHECK(has(why, "systemctl restart postgresql@15-main"));
    CHECK(has(why, "leaves 2 slot(s) free"));
    CHECK(has(why, "\"public\".\"no key\", \"public\".\"a\\x0Ab\""));
    CHECK(has(why, "replica_identity_full: true"));
    CHECK(has(why, "unlogged table(s) would not be replicated: \"public\".\"cache\""));
    CHECK(has(why, "3 large object(s)"));
    s.wal_level = "logical";
    s.free_slots = 7;
    s.unlogged.clear();
    s.large_objects = 0;
    CHECK(has(pgl::refusal(s, false, c), "no key"));
    CHECK(pgl::refusal(s, true, c).empty());
    CHECK_THROWS_AS(pgl::parse_source_check("nokey\tzz\t00\td\n"), Error);
    CHECK_THROWS_AS(pgl::parse_source_check("wal_level\n"), Error);
    CHECK_THROWS_AS(pgl::parse_source_check("free_slots\t1; rm\n"), Error);
    CHECK(pgl::decode_tables(pgl::encode_tables(s.no_key)) == s.no_key);
}

TEST_CASE("pg logical: SQL quotes every name a host gave, and the password stays on stdin") {
    std::vector<pgl::Table> t = {{"public", "we\"ird'; DROP TABLE x; --", 'd'}, {"s", "n", 'n'}};
    const std::string full = pgl::identity_full_sql(t);
    CHECK(has(full, "ALTER TABLE \"public\".\"we\"\"ird'; DROP TABLE x; --\" REPLICA IDENTITY FULL;"));
    const std::string undo = pgl::identity_restore_sql(t);
    CHECK(has(undo, "REPLICA IDENTITY DEFAULT', c.oid::regclass)"));
    CHECK(has(undo, "REPLICA IDENTITY NOTHING', c.oid::regclass)"));
    CHECK(has(undo, "c.relname = 'we\"ird''; DROP TABLE x; --'"));

    const std::string seqs = pgl::set_sequences_sql(
        "7075626c6963\t706f7374735f69645f736571\t1042\n"
        "7075626c6963\t7469636b657473\t\n"
        "73\t27\t-5\n");
    CHECK(seqs ==
          "BEGIN;\nSELECT pg_catalog.setval('\"public\".\"posts_id_seq\"'::regclass, 1042, true);\n"
          "SELECT pg_catalog.setval('\"s\".\"''\"'::regclass, -5, true);\nCOMMIT;\n");
    CHECK_THROWS_AS(pgl::set_sequences_sql("73\t74\t1); DROP TABLE x; --\n"), Error);
    CHECK(pgl::refresh_matviews_sql("73\t6d2227\n") ==
          "BEGIN;\nREFRESH MATERIALIZED VIEW \"s\".\"m\"\"'\";\nCOMMIT;\n");
    CHECK_THROWS_AS(pgl::refresh_matviews_sql("73\n"), Error);

    const std::vector<std::string> roles = {"app", "it's"};
    CHECK(has(pgl::fence_sql(roles), "WHERE rolcanlogin AND rolname IN ('app', 'it''s')\n\\gexec\n"));
    CHECK(has(pgl::fence_sql(roles), "ALTER SYSTEM SET default_transaction_read_only = on;"));
    CHECK(has(pgl::unfence_sql(roles), "format('ALTER ROLE %I LOGIN', rolname)"));
    CHECK(has(pgl::unfence_sql({}), "ALTER SYSTEM RESET default_transaction_read_only;"));
    CHECK(!has(pgl::unfence_sql({}), "\\gexec"));

    auto p = plan_for("m-1", "forum", pg::debian_cluster("15"), pg::debian_cluster("17"), "198.18.1.12",
                      "198.18.2.12");
    const std::string sub = pgl::subscription_sql(p);
    CHECK(has(sub, "SET log_statement = 'none';"));
    CHECK(has(sub,
              "CREATE SUBSCRIPTION \"decamp_m_1\" CONNECTION E'host=''198.18.1.12'' port=5432 "
              "dbname=''forum'' user=''decamp_repl'' password=''l0g:ic\\\\'' \\\\\\\\pw \"x$(id)'' "
              "sslmode=require"));
    CHECK(has(sub, "WITH (slot_name = 'decamp_m_1', copy_data = true);\n\\endif"));
    // Nothing a host runs as a command holds the password.
    for (const std::string& cmd :
         {pgl::copy_progress_cmd(p.target, p), pgl::source_check_cmd(p.source, "forum"),
          pgl::target_state_cmd(p.target, "forum"), pgl::dump_schema_cmd(p.source, "forum"),
          pgl::load_roles_cmd(p.target), pgl::fence_cmd(p.source), pgl::fingerprint_cmd(p.source, "forum")})
        CHECK(!has(cmd, "l0g"));
    auto lp = pgl::logical_plan(p);
    CHECK(pg::hba_line(lp) ==
          "hostssl \"forum\" decamp_repl 198.18.2.12/32 scram-sha-256  # decamp-migration m-1");
    CHECK(has(pg::grant_replication_stdin(lp), "GRANT pg_read_all_data TO \"decamp_repl\";"));
    CHECK(has(pg::grant_replication_stdin(lp), "BYPASSRLS"));
    lp.hba_database = "x\" all";
    CHECK_THROWS_AS(pg::hba_line(lp), Error);

    CHECK(has(pgl::drop_subscription_sql("m-1", true),
              "SET (slot_name = NONE);\nDROP SUBSCRIPTION \"decamp_m_1\";"));
    CHECK(!has(pgl::drop_subscription_sql("m-1", false), "slot_name = NONE"));
    CHECK(has(pgl::drop_source_objects_sql("m-1"), "DROP PUBLICATION IF EXISTS \"decamp_m_1\";"));
    CHECK(has(pgl::dump_schema_cmd(p.source, "forum"), "--schema-only --create --no-subscriptions"));
    CHECK(has(pgl::load_roles_cmd(p.target), "already exists$"));
}

// ---------------------------------------------------------------------------------------
// Real clusters: the whole logical path through LogicalMove's journaled steps.

namespace {

using test::LocalContext;
using namespace test::pg_clusters;

std::string app_sql(const pg::Cluster& c, const std::string& user, const std::string& db) {
    return "cd / && PGPASSWORD=apppw " + kBin +
           "/psql -X -q -At -v ON_ERROR_STOP=1 'host=127.0.0.1 port=" + std::to_string(c.port) +
           " user=" + user + " dbname=" + db + " connect_timeout=5'";
}

std::string q(transport::Transport& t, const pg::Cluster& c, const std::string& db, const std::string& sql) {
    return sh(t, psql(c, db) + " -c " + shell::quote(sql));
}

}  // namespace

TEST_CASE("pg logical: a real move between two local clusters, a refusal, DDL caught, an abort") {
    if (!test::pg_clusters::available()) return;
    const auto started = std::chrono::steady_clock::now();
    test::TempDir tmp(cluster_base());
    auto t = transport::make_local();
    test::pg_clusters::make_tls_cert(*t, tmp.path());
    ClusterReaper reaper;
    reaper.data_dirs = {tmp.path() / "source", tmp.path() / "target"};
    const std::string logical = "wal_level = logical\n";
    pg::Cluster src = make_cluster(*t, tmp.path(), "source", test::free_tcp_port(), true, logical);
    pg::Cluster dst = make_cluster(*t, tmp.path(), "target", test::free_tcp_port(), false);

    sh(*t, psql(src, "postgres"),
       "CREATE ROLE app LOGIN PASSWORD 'apppw';\nCREATE ROLE reporter LOGIN PASSWORD 'apppw';\n"
       "CREATE ROLE nologin_owner NOLOGIN;\nCREATE DATABASE forum OWNER app;\nCREATE DATABASE shop OWNER "
       "app;\n");
    sh(*t, psql(src, "forum"),
       "SET ROLE app;\nCREATE TABLE posts (id serial PRIMARY KEY, body text);\n"
       "CREATE TABLE \"no key\" (x int, y text);\nCREATE SEQUENCE tickets;\n"
       "INSERT INTO posts (body) SELECT 'p' || g FROM generate_series(1, 500) g;\n"
       "INSERT INTO \"no key\" SELECT g, 'v' FROM generate_series(1, 20) g;\n"
       "SELECT nextval('tickets') FROM generate_series(1, 41);\nGRANT SELECT ON posts TO reporter;\n"
       "CREATE MATERIALIZED VIEW post_count AS SELECT count(*) AS n FROM posts;\n"
       "CREATE MATERIALIZED VIEW \"of counts\" AS SELECT n * 2 AS n2 FROM post_count;\n"
       "CREATE MATERIALIZED VIEW never AS SELECT 1 AS one WITH NO DATA;\n");

    // The target's own cluster has wal_level = replica: as a source it would be refused.
    auto as_source = pgl::parse_source_check(sh(*t, pgl::source_check_cmd(dst, "postgres")));
    CHECK(has(pgl::refusal(as_source, false, dst), "wal_level is replica"));

    // A table without a key is refused by name, unless REPLICA IDENTITY FULL is allowed.
    LocalContext ctx(*t, "t1");
    auto p = plan_for("t1", "forum", src, dst);
    {
        pgl::LogicalMove m(ctx, ctx.src_, ctx.dst_, p, false);
        const std::string why = error_of([&] { m.preflight(); });
        CHECK(has(why, "cannot move by logical replication"));
        CHECK(has(why, "1 table(s) have neither a primary key nor a replica identity"));
        CHECK(has(why, "\"public\".\"no key\""));
    }
    pgl::LogicalMove m(ctx, ctx.src_, ctx.dst_, p, true);
    CHECK(has(m.preflight(), "1 table(s) without a key get REPLICA IDENTITY FULL"));
    m.replicate();
    m.replicate();  // every step done: nothing runs again
    // A kill after the subscription was made, before its step was journaled: the rerun of
    // both steps finds it and makes no second one.
    ctx.done.erase("pg-logical-subscription/forum");
    ctx.done.erase("pg-logical-initial-copy/forum");
    m.replicate();
    CHECK(q(*t, dst, "forum", "SELECT count(*) FROM pg_subscription") == "1\n");
    CHECK(q(*t, src, "forum", "SELECT relreplident FROM pg_class WHERE relname = 'no key'") == "f\n");
    CHECK(q(*t, dst, "forum", "SELECT count(*) FROM posts") == "500\n");
    CHECK(q(*t, dst, "postgres", "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'reporter'") == "t\n");
    // A schema-only copy makes materialized views empty: those with data on the source are
    // refreshed, in creation order (one reads the other); the one never refreshed stays so.
    CHECK(q(*t, dst, "forum", "SELECT n2 FROM \"of counts\"") == "1000\n");
    CHECK(q(*t, dst, "forum", "SELECT relispopulated FROM pg_class WHERE relname = 'never'") == "f\n");

    // Writes while the subscription streams, from the app's own connection.
    sh(*t, app_sql(src, "app", "forum"),
       "INSERT INTO posts (body) SELECT 'late' FROM generate_series(1, 300);\n"
       "UPDATE \"no key\" SET y = 'changed' WHERE x <= 5;\nDELETE FROM \"no key\" WHERE x > 15;\n"
       "SELECT nextval('tickets');\n");
    CHECK(has(m.verify(), "schema unchanged"));
    CHECK(m.lag() >= 0);
    const std::string logins =
        "SELECT string_agg(rolname || ':' || rolcanlogin, ',' ORDER BY rolname) FROM pg_roles "
        "WHERE rolname <> 'decamp_repl'";
    const std::string logins_before = q(*t, src, "postgres", logins);

    // An open session of another role, which the fence must end.
    transport::RunResult session;
    auto t2 = transport::make_local();
    std::thread session_thread([&] {
        transport::RunOptions o;
        o.timeout = std::chrono::seconds(40);
        session = t2->run(app_sql(src, "reporter", "forum") + " -c 'SELECT pg_sleep(30)'", o);
    });
    for (int i = 0; i < 100 && q(*t, src, "postgres",
                                 "SELECT count(*) FROM pg_stat_activity WHERE usename = "
                                 "'reporter'") != "1\n";
         ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));

    const auto freeze = std::chrono::steady_clock::now();
    m.fence();
    session_thread.join();
    CHECK(session.exit_status != 0);
    CHECK(has(session.err, "terminating connection"));
    // A kill after the roles were fenced, before the step was journaled: the rerun fences the
    // roles kept in the state, not the (now empty) list of roles that can log in.
    ctx.done.erase("pg-logical-fence/forum");
    m.fence();
    m.final_sync();
    m.promote();
    const double freeze_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - freeze).count();
    MESSAGE("logical cutover (fence run twice, catch-up, sequences, drop subscription) took " << freeze_s
                                                                                              << " s");

    // Every login role is fenced, not just the app's; our own socket session starts read-only.
    for (const char* role : {"app", "reporter"}) {
        auto r = t->run(app_sql(src, role, "forum") + " -c 'SELECT 1'");
        CHECK(r.exit_status != 0);
        CHECK(has(r.err, "is not permitted to log in"));
    }
    auto ro = t->run(psql(src, "forum") + " -c 'INSERT INTO posts (body) VALUES (1)'");
    CHECK(has(ro.err, "read-only transaction"));

    // Rows and every sequence identical, the free-standing one included.
    const std::string rows = "SELECT md5(string_agg(id || body, ',' ORDER BY id)) FROM posts";
    const std::string nokey = "SELECT string_agg(x || y, ',' ORDER BY x) FROM \"no key\"";
    const std::string seqs =
        "SELECT string_agg(sequencename || '=' || last_value, ',' ORDER BY 1) FROM pg_sequences";
    CHECK(q(*t, dst, "forum", rows) == q(*t, src, "forum", rows));
    CHECK(q(*t, dst, "forum", nokey) == q(*t, src, "forum", nokey));
    CHECK(q(*t, dst, "forum", seqs) == "posts_id_seq=800,tickets=42\n");
    CHECK(q(*t, src, "forum", seqs) == "posts_id_seq=800,tickets=42\n");
    // The target is writable and continues the sequences; nothing of ours is left behind.
    CHECK(q(*t, dst, "forum", "INSERT INTO posts (body) VALUES ('new side') RETURNING id") == "801\n");
    CHECK(q(*t, dst, "forum", "SELECT count(*) FROM pg_subscription") == "0\n");
    CHECK(q(*t, src, "forum", "SELECT count(*) FROM pg_replication_slots") == "0\n");
    CHECK(q(*t, src, "forum", "SELECT count(*) FROM pg_publication") == "0\n");
    CHECK(q(*t, src, "postgres", "SELECT count(*) FROM pg_roles WHERE rolname = 'decamp_repl'") == "0\n");

    // Rollback: exactly the roles that could log in can again; the source takes writes.
    CHECK(has(m.rollback(), "may log in again"));
    CHECK(q(*t, src, "postgres", logins) == logins_before);
    CHECK(q(*t, dst, "forum", "SELECT count(*) FROM posts") == "801\n");  // the target's copy is kept
    CHECK(has(logins_before, "app:true,nologin_owner:false,"));
    sh(*t, app_sql(src, "app", "forum") + " -c \"INSERT INTO posts (body) VALUES ('back')\"");
    CHECK(q(*t, src, "forum", "SELECT relreplident FROM pg_class WHERE relname = 'no key'") == "d\n");

    // DDL during the move fails verify; abort then leaves the source as it was.
    sh(*t, psql(src, "shop"),
       "SET ROLE app;\nCREATE TABLE items (id int PRIMARY KEY, n int);\n"
       "INSERT INTO items SELECT g, g FROM generate_series(1, 50) g;\n");
    const std::string hba_before = slurp(fs::path(src.conf_dir) / "pg_hba.conf");
    LocalContext ctx2(*t, "t2");
    pgl::LogicalMove m2(ctx2, ctx2.src_, ctx2.dst_, plan_for("t2", "shop", src, dst), false);
    m2.preflight();
    // A slot left by a CREATE SUBSCRIPTION killed before it committed is dropped, then made anew.
    q(*t, src, "shop", "SELECT pg_create_logical_replication_slot('decamp_t2', 'pgoutput')");
    m2.replicate();
    CHECK(q(*t, dst, "shop", "SELECT sum(n) FROM items") == "1275\n");
    CHECK(q(*t, src, "postgres", "SELECT count(*) FROM pg_replication_slots") == "1\n");
    sh(*t, app_sql(src, "app", "shop") + " -c 'ALTER TABLE items ADD COLUMN note text'");
    CHECK(has(error_of([&] { m2.verify(); }), "DDL ran during the move"));
    CHECK(has(m2.abort(), "subscription, slot, publication and replication user removed"));
    CHECK(q(*t, src, "postgres", "SELECT count(*) FROM pg_replication_slots") == "0\n");
    CHECK(q(*t, src, "shop", "SELECT count(*) FROM pg_publication") == "0\n");
    CHECK(q(*t, dst, "postgres", "SELECT count(*) FROM pg_database WHERE datname = 'shop'") == "0\n");
    CHECK(slurp(fs::path(src.conf_dir) / "pg_hba.conf") == hba_before);
    sh(*t, app_sql(src, "app", "shop") + " -c 'INSERT INTO items VALUES (51, 51)'");

    // The subscription's password is in no server log (log_statement = all on both).
    CHECK(!has(slurp(tmp.path() / "source.log"), "l0g:ic"));
    CHECK(!has(slurp(tmp.path() / "target.log"), "l0g:ic"));
    MESSAGE("real logical test took "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() << " s");
}
