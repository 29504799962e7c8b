// Batching as a pure decision: which tasks go to a host together, and why a batch ends.
#include <doctest/doctest.h>

#include <vector>

#include "engine/batching.hpp"
#include "modules/module.hpp"

using namespace decamp;
using namespace decamp::engine;

namespace {

BatchTask remote(const std::string& launcher = "sh") {
    BatchTask t;
    t.remote = true;
    t.launcher = launcher;
    return t;
}

// Cuts a list of tasks into batches the way the runner does; returns the batch sizes.
std::vector<size_t> cut(const std::vector<BatchTask>& tasks, int max = 64, bool fatal = false) {
    std::vector<size_t> sizes;
    size_t i = 0;
    while (i < tasks.size()) {
        Batch b;
        while (i < tasks.size()) {
            auto d = fit_task(b, tasks[i], max, fatal);
            if (d.fit == Fit::Close) break;
            ++b.tasks;
            if (tasks[i].remote) b.launcher = tasks[i].launcher;
            ++i;
            if (d.fit == Fit::JoinAndClose) break;
        }
        REQUIRE(b.tasks > 0);  // every batch takes at least one task: no endless loop
        sizes.push_back(b.tasks);
    }
    return sizes;
}

}  // namespace

TEST_CASE("batching: independent tasks go together; what a later task may read ends a batch") {
    BatchTask reg = remote();
    reg.registers = true;
    BatchTask fact;
    fact.defines_vars = true;
    BatchTask slow = remote();
    slow.slow = true;
    CHECK(cut({remote(), remote(), remote()}) == std::vector<size_t>{3});
    CHECK(cut({remote(), reg, remote()}) == std::vector<size_t>{2, 1});
    CHECK(cut({remote(), fact, remote()}) == std::vector<size_t>{2, 1});
    CHECK(cut({slow, slow, remote()}) == std::vector<size_t>{1, 1, 1});
    CHECK(cut({remote(), slow, remote()}) == std::vector<size_t>{2, 1});
    CHECK(fit_task({}, reg, 64, false).why == std::string("register: a later task may read its result"));
}

TEST_CASE("batching: a task decided by an expression goes alone; become changes start a new batch") {
    BatchTask solo = remote();
    solo.solo = true;
    CHECK(cut({remote(), solo, remote()}) == std::vector<size_t>{1, 1, 1});
    CHECK(cut({remote("sh"), remote("sudo"), remote("sudo")}) == std::vector<size_t>{1, 2});
    BatchTask local;  // debug: no launcher, never splits a batch
    CHECK(cut({remote("sh"), local, remote("sh")}) == std::vector<size_t>{3});
    CHECK(cut({local, remote("sudo"), remote("sh")}) == std::vector<size_t>{2, 1});
}

TEST_CASE("batching: --batch 1 and any_errors_fatal send one task at a time") {
    CHECK(cut({remote(), remote(), remote()}, 1) == std::vector<size_t>{1, 1, 1});
    CHECK(cut({remote(), remote()}, 64, true) == std::vector<size_t>{1, 1});
}

TEST_CASE("module traits are columns of the module table") {
    CHECK(modules::traits("apt").slow);
    CHECK(modules::traits("package").slow);
    CHECK(modules::traits("wait_for").slow);
    CHECK(modules::traits("ansible.builtin.apt").slow);  // by its fully qualified name too
    CHECK_FALSE(modules::traits("copy").slow);
    CHECK(modules::traits("copy").src == modules::Traits::Src::File);
    CHECK(modules::traits("template").src == modules::Traits::Src::Template);
    CHECK(modules::traits("set_fact").local);
    CHECK(modules::traits("set_fact").defines_vars);
    CHECK(modules::traits("debug").local);
    CHECK_FALSE(modules::traits("debug").defines_vars);
    CHECK_FALSE(modules::traits("command").local);
    CHECK_FALSE(modules::traits("no_such_module").slow);
}
