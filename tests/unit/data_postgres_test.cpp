// The PostgreSQL mover's backup side: the row-count diff, the names it stages under, and
// its hooks driven over a recording transport (the cluster discovered, never guessed; a
// staged restore that refuses different row counts; a teardown that says what failed).
#include <doctest/doctest.h>

#include "backup/backup.hpp"
#include "data/mover.hpp"
#include "data/pg_dump.hpp"
#include "data/postgres.hpp"
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

TEST_CASE("postgres mover: streaming within a Debian release, logical across, the choice kept for resume") {
    auto ds = forum();
    auto run = [&](const std::string& target_release, const std::string& check_out,
                   const std::string& method) {
        ds.settings = Value::map();
        if (!method.empty()) ds.settings.set("method", Value::string(method));
        transport::RecordingTransport t("db");
        t.push_result(0, "15 main 5432\n");
        t.push_result(0, "bookworm\n");
        t.push_result(0, target_release + "\n");
        t.push_result(0, "123456\n");
        t.push_result(0, check_out);
        test::LocalContext ctx(t, "m1");
        auto m = data::make_mover(ds);
        uint64_t size = m->preflight(ctx);
        CHECK(size == 123456);
        return ctx.state.at("pg_method/forum") + " " + std::to_string(t.commands().size());
    };
    const std::string fine = "wal_level\tlogical\nfree_slots\t8\nlarge_objects\t0\n";
    CHECK(run("bookworm", "", "") == "physical 4");
    CHECK(run("trixie", fine, "") == "logical 5");  // the source checked for what would be lost
    CHECK(run("bookworm", fine, "logical") == "logical 5");
    try {
        run("trixie", "", "physical");
        FAIL("physical across releases must throw");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("use method: logical") != std::string::npos);
    }
    try {
        run("trixie", fine + "nokey\t7075626c6963\t6c6f67\td\n", "");
        FAIL("a table without a key must be refused");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("\"public\".\"log\"") != std::string::npos);
    }
    // --dry-run says the method, and refuses there already what logical replication would lose.
    transport::RecordingTransport t("db");
    for (const char* out : {"15 main 5432\n", "123456\n", "bookworm\n", "trixie\n"}) t.push_result(0, out);
    t.push_result(0, fine + "unlogged\t7075626c6963\t6361636865\n");
    test::LocalContext ctx(t, "m2");
    ds.settings = Value::map();
    try {
        data::make_mover(ds)->plan(ctx);
        FAIL("--dry-run must refuse an unlogged table");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("unlogged table(s) would not be replicated: \"public\".\"cache\"") !=
              std::string::npos);
    }
    CHECK(ctx.state.empty());  // a dry run keeps nothing
    for (const char* out : {"15 main 5432\n", "123456\n", "bookworm\n", "trixie\n"}) t.push_result(0, out);
    t.push_result(0, fine);
    CHECK(data::make_mover(ds)->plan(ctx) ==
          "postgres forum on old-db1: 120.6 KiB (PostgreSQL 15) → logical replica "
          "(schema, then publication and subscription) on new-db1, promoted at cutover");
    CHECK(data::make_mover(forum())->describe_move(inventory::Inventory{}, "old", "new") ==
          "- → replica (streaming, or logical across majors) on -");
}
