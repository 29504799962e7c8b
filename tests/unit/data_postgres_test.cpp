// The PostgreSQL mover: its preflight's version rule (another Debian release is fine, another
// major is refused), and its backup side: the row-count diff, the names it stages under, and
// its hooks driven over a recording transport (the cluster discovered, never guessed; a
// staged restore that refuses different row counts; a teardown that says what failed).
#include <doctest/doctest.h>

#include "backup/backup.hpp"
#include "data/mover.hpp"
#include "data/pg_dump.hpp"
#include "data/pg_replica.hpp"
#include "data/postgres.hpp"
#include "fake_move_context.hpp"
#include "move_context.hpp"
#include "transport/recording.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

using namespace decamp;
namespace pgm = decamp::data::postgres;

namespace {

inventory::DataSet forum() {
    inventory::DataSet ds;
    ds.kind = "postgres";
    ds.role = "db";
    ds.name = "forum";
    return ds;
}

inventory::Host host(const std::string& name) {
    inventory::Host h;
    h.name = name;
    h.address = "198.18.2.12";
    return h;
}

data::DataEntry entry() {
    data::DataEntry e;
    e.kind = "postgres";
    e.name = "forum";
    e.role = "db";
    e.stream = "1-postgres-forum.dump";
    e.tables = {{"public.items", 50}, {"public.users", 2}};
    return e;
}

}  // namespace

TEST_CASE("postgres counts_diff names at most five differences") {
    std::map<std::string, uint64_t> want = {{"public.a", 3}, {"public.b", 0}};
    CHECK(pgm::counts_diff(want, want) == "");
    CHECK(pgm::counts_diff(want, {{"public.a", 4}, {"public.b", 0}}) == "public.a has 4 rows, the backup 3");
    CHECK(pgm::counts_diff(want, {{"public.a", 3}}) == "public.b missing");
    CHECK(pgm::counts_diff(want, {{"public.a", 3}, {"public.b", 0}, {"public.c", 1}}) == "public.c is not in the backup");
    std::map<std::string, uint64_t> many;
    for (int i = 0; i < 7; ++i) many["t" + std::to_string(i)] = 1;
    std::string d = pgm::counts_diff(many, {});
    CHECK(d.find("t4 missing") != std::string::npos);
    CHECK(d.find("t5") == std::string::npos);
    CHECK(d.find("; … (7 differences)") == d.size() - std::string("; … (7 differences)").size());
}

TEST_CASE("postgres staging names and commands") {
    CHECK(pgm::scratch_db("forum") == "forum_decamp_restore");
    CHECK(pgm::scratch_db(std::string(60, 'x')) == std::string(40, 'x') + "_decamp_restore");
    CHECK(pgm::dump_workdir("20250101T000000Z-ab12") == "/tmp/decamp-backup-20250101T000000Z-ab12");
    CHECK(pgm::disable_cmd(data::pg::debian_cluster("16", "main")) ==
          "systemctl disable --now -- postgresql postgresql@16-main 2>&1");
}

TEST_CASE("postgres mover: stream name, evidence, one host per role, manifest round trip") {
    auto m = data::make_mover(forum());
    CHECK(m->stream_ext() == ".dump");
    CHECK(backup::stream_name(1, forum()) == "1-postgres-forum.dump");
    CHECK_FALSE(m->restore_on_every_host());
    auto e = entry();
    CHECK(m->evidence(e) == "2 tables");
    e.owner = "forum";
    e.encoding = "UTF8";
    json::Value v;
    m->encode_evidence(e, v);
    CHECK(v["tables"]["public.items"].int_or(0) == 50);
    data::DataEntry back;
    data::make_mover(e)->decode_evidence(v, back);
    CHECK(back.tables == e.tables);
    CHECK(back.owner == "forum");
    CHECK(back.encoding == "UTF8");
}

TEST_CASE("postgres backup read: discovered cluster, dump into the backup's work dir, meta into the entry") {
    transport::RecordingTransport t("db1");
    t.push_result(0, "16 main 5433\n");
    auto m = data::make_mover(forum());
    auto h = host("old-db1");
    auto r = m->backup(t, h, "20250101T000000Z-ab12");
    CHECK(r->ok_status() == 0);
    CHECK(r->what() == "dumping database forum");
    auto c = data::pg::debian_cluster("16", "main");
    c.port = 5433;
    CHECK(r->command() == data::pgdump::dump_cmd(c, "forum", "/tmp/decamp-backup-20250101T000000Z-ab12"));
    t.push_result(0, "meta\tforum\tUTF8\tC.UTF-8\tC.UTF-8\nversion\tpg_dump (PostgreSQL) 16.4\npublic.items\t50\n");
    data::DataEntry e;
    std::map<std::string, std::string> sw;
    r->finish(e, sw);
    CHECK(e.owner == "forum");
    CHECK(e.tables == std::map<std::string, uint64_t>{{"public.items", 50}});
    CHECK(sw.at("pg_dump") == "pg_dump (PostgreSQL) 16.4");
    auto cmds = t.commands();
    REQUIRE(cmds.size() == 2);
    CHECK(cmds[0].find("pg_lsclusters") != std::string::npos);  // discovered, not guessed
}

TEST_CASE("postgres staged restore: scratch database, row counts checked, swap, unstage") {
    transport::RecordingTransport t("db1");
    t.push_result(0, "15 main 5432\n");
    auto e = entry();
    auto h = host("new-db1");
    auto st = data::make_mover(e)->stage(t, h, e);
    auto c = data::pg::debian_cluster("15", "main");
    CHECK(st->sink() == data::pgdump::restore_cmd(c, "forum_decamp_restore"));
    t.push_result(0, "public.items\t50\npublic.users\t2\n");
    CHECK(st->check() == "2 tables, row counts match");
    t.push_result(0, "public.items\t49\npublic.users\t2\n");
    try {
        st->check();
        FAIL("a different row count must throw");
    } catch (const Error& x) {
        CHECK(std::string(x.what()) == "restored database forum on new-db1: public.items has 49 rows, the backup 50");
    }
    st->swap();
    st->unstage();
    auto cmds = t.commands();
    REQUIRE(cmds.size() == 6);
    CHECK(cmds[4] == data::pgdump::swap_cmd(c, "forum", "forum_decamp_restore"));
    CHECK(cmds[5] == data::pgdump::drop_cmd(c, "forum_decamp_restore"));
    t.push_result(1, "", "boom");
    CHECK_THROWS_AS(st->swap(), Error);
}

TEST_CASE("postgres teardown says what it could not do") {
    auto m = data::make_mover(forum());
    auto h = host("spare-db1");
    {
        transport::RecordingTransport t("db1");
        t.push_result(0, "15 main 5432\n");
        CHECK(m->teardown(t, h) == "spare-db1: database forum dropped, PostgreSQL stopped");
        CHECK(t.commands().at(2) == pgm::disable_cmd(data::pg::debian_cluster("15")));
    }
    {
        transport::RecordingTransport t("db1");
        t.push_result(0, "15 main 5432\n");
        t.push_result(1, "", "no such database\n");
        t.push_result(1, "unit not found\n");
        CHECK(m->teardown(t, h) ==
              "spare-db1: database forum NOT dropped (no such database), PostgreSQL NOT stopped (unit not found)");
    }
    {
        transport::RecordingTransport t("db1");
        t.push_result(0, "\n");  // no cluster at all
        CHECK(m->teardown(t, h).rfind("spare-db1: database forum NOT dropped, PostgreSQL NOT stopped (", 0) == 0);
    }
}

TEST_CASE(
    "pg target major: the cluster first, else apt's candidate, else unknown; hostile answers are unknown") {
    const std::string cmd = data::pg::target_major_cmd();
    CHECK(cmd.find("pg_lsclusters -h") < cmd.find("apt-cache show --no-all-versions postgresql"));
    using data::pg::parse_target_major;
    CHECK(parse_target_major("cluster 17\n").version == "17");
    CHECK(parse_target_major("cluster 17\n").from == "cluster");
    CHECK(parse_target_major("apt 15\n").from == "apt");
    CHECK(parse_target_major("apt 9.6").version == "9.6");
    for (const char* bad : {"unknown", "", "apt", "apt 17 18", "cluster x17", "dpkg 17", "apt 1234567",
                            "apt .5", "cluster 17;rm"})
        CHECK_MESSAGE(parse_target_major(bad).version.empty(), bad);
}

TEST_CASE("pg physical_refusal: only another major, named with both hosts and the logical way") {
    using data::pg::physical_refusal;
    CHECK(physical_refusal("old-db1", "15", "new-db1", {"15", "apt"}) == "");
    CHECK(physical_refusal("old-db1", "15", "new-db1", {"", ""}) == "");  // not knowable yet
    std::string why = physical_refusal("old-db1", "15", "new-db1", {"17", "apt"});
    CHECK(why.find("PostgreSQL 15 on old-db1 but 17 on new-db1 (the version its apt installs)") == 0);
    CHECK(why.find("same major version") != std::string::npos);
    CHECK(why.find("logical replication") != std::string::npos);
    CHECK(physical_refusal("a", "17", "b", {"15", "cluster"}).find("but 15 on b:") != std::string::npos);
}

namespace {

// A source running PostgreSQL 15 whose database measures `bytes`, and a target that answers
// target_major_cmd with `target`.
void script_hosts(test::FakeMoveContext& ctx, const std::string& target, const std::string& bytes = "") {
    ctx.on_source.push_result(0, "15 main 5432\n");
    ctx.on_target.push_result(0, target);
    if (!bytes.empty()) ctx.on_source.push_result(0, bytes);
}

}  // namespace

TEST_CASE("postgres preflight: streaming within a major whatever the release, logical across, physical forced is refused") {
    const std::string fine = "wal_level\tlogical\nfree_slots\t8\nlarge_objects\t0\n";
    SUBCASE("same major (bookworm → a host whose apt also brings 15)") {
        auto m = data::make_mover(forum());
        test::FakeMoveContext ctx("db");
        script_hosts(ctx, "apt 15\n", "123456\n");
        CHECK(m->preflight(ctx) == 123456);
        REQUIRE(ctx.steps.size() == 1);
        CHECK(ctx.steps[0].second.find("target 15 (from its apt)") != std::string::npos);
        CHECK(ctx.kv.at("pg_cluster/forum") == "15 main 5432");
        CHECK(ctx.kv.at("pg_method/forum") == "physical");
        CHECK(ctx.on_target.commands() == std::vector<std::string>{data::pg::target_major_cmd()});
    }
    SUBCASE("no cluster and no package lists on the target yet: streaming, checked again at pg-grant") {
        auto m = data::make_mover(forum());
        test::FakeMoveContext ctx("db");
        script_hosts(ctx, "unknown\n", "1\n");
        CHECK(m->preflight(ctx) == 1);
        CHECK(ctx.steps[0].second.find("checked once it is provisioned") != std::string::npos);
        CHECK(ctx.kv.at("pg_method/forum") == "physical");
    }
    SUBCASE("15 on the source, 17 on the target: logical, the source checked for what it would lose") {
        auto m = data::make_mover(forum());
        test::FakeMoveContext ctx("db");
        script_hosts(ctx, "cluster 17\n", "123456\n");
        ctx.on_source.push_result(0, fine);
        CHECK(m->preflight(ctx) == 123456);
        CHECK(ctx.kv.at("pg_method/forum") == "logical");
        CHECK(ctx.steps[0].second.find("logical replication") != std::string::npos);
    }
    SUBCASE("method: physical across majors is refused, naming both and the way out") {
        auto ds = forum();
        ds.settings = Value::map();
        ds.settings.set("method", Value::string("physical"));
        auto m = data::make_mover(ds);
        test::FakeMoveContext ctx("db");
        script_hosts(ctx, "apt 17\n");
        CHECK_THROWS_WITH_AS(m->preflight(ctx), doctest::Contains("use method: logical or auto"), Error);
        CHECK(ctx.kv.empty());
    }
}
