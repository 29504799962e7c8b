#include <doctest/doctest.h>

#include "modules/postgresql.hpp"
#include "modules_sh.hpp"

using namespace decamp;
using namespace decamp::test;

TEST_CASE("postgresql: SQL quoting") {
    using modules::pg_quote_ident;
    using modules::pg_quote_literal;
    CHECK(pg_quote_ident("k", "forum") == "\"forum\"");
    CHECK(pg_quote_ident("k", "we\"ird") == "\"we\"\"ird\"");
    CHECK(pg_quote_literal("k", "it's") == "'it''s'");
    CHECK(pg_quote_literal("k", "a\\b'") == "E'a\\\\b'''");
    CHECK(pg_quote_literal("k", "$$; DROP TABLE x; --") == "'$$; DROP TABLE x; --'");
    CHECK_THROWS_AS(pg_quote_literal("k", std::string("a\0b", 3)), modules::ArgError);
}

TEST_CASE("postgresql_db: probe and change") {
    auto act = plan("postgresql_db", args({{"name", S("forum")}, {"owner", S("forum")}, {"encoding", S("UTF8")}}));
    CHECK(act.probe.find("runuser -u postgres -- psql -X -q -tA -v ON_ERROR_STOP=1") != std::string::npos);
    CHECK(act.probe.find("datname = '\\''forum'\\''") != std::string::npos);
    CHECK(act.change.find("CREATE DATABASE \"forum\" OWNER \"forum\" TEMPLATE template0 ENCODING '\\''UTF8'\\''") != std::string::npos);
    CHECK(act.change.find("ALTER DATABASE \"forum\" OWNER TO \"forum\"") != std::string::npos);
    auto drop = plan("community.postgresql.postgresql_db", args({{"name", S("x\"; DROP")}, {"state", S("absent")}}));
    CHECK(drop.change.find("DROP DATABASE IF EXISTS \"x\"\"; DROP\"") != std::string::npos);
    CHECK(arg_error_key("postgresql_db", args({})) == "name");
    CHECK(arg_error_key("postgresql_db", args({{"name", S("x")}, {"state", S("gone")}})) == "state");
}

TEST_CASE("postgresql_user: password never in summary, change text or psql's arguments") {
    const std::string pw = "S3cr3t'$(touch pwned)";
    auto act = plan("postgresql_user", args({{"name", S("forum")}, {"password", S(pw)}, {"role_attr_flags", S("LOGIN,NOSUPERUSER")}}));
    CHECK(act.summary == "postgres role forum (LOGIN,NOSUPERUSER, password set)");
    CHECK(act.summary.find("S3cr3t") == std::string::npos);
    CHECK(act.change_text.find("S3cr3t") == std::string::npos);
    CHECK(act.ok_reason.find("S3cr3t") == std::string::npos);
    // SQL goes through printf (a builtin) into psql's stdin; psql's argv has no password.
    for (const auto* text : {&act.probe, &act.change}) {
        size_t pos = 0;
        while ((pos = text->find("runuser", pos)) != std::string::npos) {
            size_t end = text->find(')', pos);
            CHECK(text->substr(pos, end - pos).find("S3cr3t") == std::string::npos);
            ++pos;
        }
        CHECK(text->find("printf '%s\\n' ") != std::string::npos);
    }
    CHECK(act.change.find("ALTER USER \"forum\" WITH LOGIN NOSUPERUSER PASSWORD") != std::string::npos);
    CHECK(act.probe.find("NOT a.rolsuper") != std::string::npos);
    CHECK(act.probe.find("SCRAM-SHA-256") != std::string::npos);
    CHECK(arg_error_key("postgresql_user", args({{"name", S("x")}, {"role_attr_flags", S("LOGIN,GODMODE")}})) == "role_attr_flags");
}

// With a PostgreSQL server reachable as the postgres OS user (DECAMP_TEST_PG=1, PGHOST/PGPORT
// set as needed), run the real probe and change.
TEST_CASE("postgresql_user: real server round trip (optional)") {
    const char* on = std::getenv("DECAMP_TEST_PG");
    if (!on || std::string(on) != "1") return;
    const std::string pw = "pw'$(touch /tmp/pwned-decamp)\\";
    auto act = plan("postgresql_user", args({{"name", S("decamp_t\"est")}, {"password", S(pw)}, {"role_attr_flags", S("LOGIN")}}));
    run_sh(plan("postgresql_user", args({{"name", S("decamp_t\"est")}, {"state", S("absent")}})).change);
    CHECK(run_sh(act.probe).code == 1);
    auto r = run_sh(act.change);
    CHECK_MESSAGE(r.code == 0, r.out);
    CHECK(run_sh(act.probe).code == 0);
    auto other = plan("postgresql_user", args({{"name", S("decamp_t\"est")}, {"password", S("different")}}));
    CHECK(run_sh(other.probe).code == 1);
    auto db = plan("postgresql_db", args({{"name", S("decamp_db'x")}, {"owner", S("decamp_t\"est")}}));
    CHECK(run_sh(db.probe).code == 1);
    CHECK(run_sh(db.change).code == 0);
    CHECK(run_sh(db.probe).code == 0);
    auto drop = plan("postgresql_db", args({{"name", S("decamp_db'x")}, {"state", S("absent")}}));
    CHECK(run_sh(drop.change).code == 0);
    CHECK(run_sh(drop.probe).code == 0);
    CHECK(run_sh(plan("postgresql_user", args({{"name", S("decamp_t\"est")}, {"state", S("absent")}})).change).code == 0);
    CHECK(run_sh("test ! -e /tmp/pwned-decamp").code == 0);
}
