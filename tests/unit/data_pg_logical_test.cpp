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

#include "data/pg_logical.hpp"
#include "pg_clusters.hpp"
#include "test_util.hpp"
#include "util/error.hpp"

using namespace decamp;
using namespace decamp::data;
namespace pgl = decamp::data::pglogical;
namespace fs = std::filesystem;

namespace {

const std::string kPassword = "l0g:ic' \\pw \"x$(id)";

bool has(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
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

    const std::vector<std::string> roles = {"app", "it's"};
    CHECK(has(pgl::fence_sql(roles), "WHERE rolcanlogin AND rolname IN ('app', 'it''s')\n\\gexec\n"));
    CHECK(has(pgl::fence_sql(roles), "ALTER SYSTEM SET default_transaction_read_only = on;"));
    CHECK(has(pgl::unfence_sql(roles), "format('ALTER ROLE %I LOGIN', rolname)"));
    CHECK(has(pgl::unfence_sql({}), "ALTER SYSTEM RESET default_transaction_read_only;"));
    CHECK(!has(pgl::unfence_sql({}), "\\gexec"));

    pg::ReplicaPlan p;
    p.migration_id = "m-1";
    p.source_address = "198.18.1.12";
    p.target_address = "198.18.2.12";
    p.database = "forum";
    p.repl_password = SecretString(kPassword);
    p.source = pg::debian_cluster("15");
    p.target = pg::debian_cluster("17");
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
