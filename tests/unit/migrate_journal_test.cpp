#include <doctest/doctest.h>

#include "migrate/journal.hpp"
#include "test_util.hpp"

using namespace decamp;
using namespace decamp::migrate;

TEST_CASE("journal: migrations, steps and state survive reopening") {
    test::TempDir dir;
    auto path = dir.path() / ".decamp" / "state.db";
    std::string id;
    {
        Journal j(path);
        CHECK_FALSE(j.unfinished());
        auto m = j.start("migrate", "old", "new");
        id = m.id;
        j.step_started(id, "preflight", "disk-space");
        j.step_done(id, "disk-space", "new-db1:123");
        j.step_started(id, "provision", "apply-roles/new");  // crash here: never done
        j.set("active", "old");
    }
    Journal j(path);
    auto m = j.unfinished();
    REQUIRE(m);
    CHECK(m->id == id);
    CHECK(m->source == "old");
    CHECK(m->target == "new");
    auto done = j.step(id, "disk-space");
    REQUIRE(done);
    CHECK(done->state == "done");
    CHECK(done->detail == "new-db1:123");
    CHECK(j.step(id, "apply-roles/new")->state == "started");
    CHECK_FALSE(j.step(id, "never-ran"));
    // A step run again (resume) goes back to started, then done; its order is kept.
    j.step_started(id, "provision", "apply-roles/new");
    j.step_done(id, "apply-roles/new", "ok");
    auto steps = j.steps(id);
    REQUIRE(steps.size() == 2);
    CHECK(steps[0].name == "disk-space");
    CHECK(steps[1].state == "done");
    CHECK(j.get("active") == "old");
    j.set("active", "new");
    CHECK(j.get("active") == "new");
    j.finish(id, "done");
    CHECK_FALSE(j.unfinished());
    CHECK(j.latest()->state == "done");
    CHECK(j.migrations_from("old") == std::vector<std::string>{id});
    CHECK(j.migrations_from("new").empty());
}

TEST_CASE("journal: a second holder of the lock is refused") {
    test::TempDir dir;
    auto path = dir.path() / "state.db";
    Journal a(path);
    a.lock();
    Journal b(path);
    CHECK_THROWS_AS(b.lock(), LockedError);
}

TEST_CASE("journal: the state file is private") {
    test::TempDir dir;
    auto path = dir.path() / "s" / "state.db";
    Journal j(path);
    auto perms = std::filesystem::status(path).permissions();
    CHECK((perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) == std::filesystem::perms::none);
}
