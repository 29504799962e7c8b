#include <doctest/doctest.h>

#include <filesystem>

#include "modules_sh.hpp"
#include "test_util.hpp"
#include "util/sha256.hpp"

using namespace decamp;
using namespace decamp::test;
namespace fs = std::filesystem;

TEST_CASE("copy/template: content converges byte-exact and idempotently, hostile data inert") {
    TempDir dir;
    std::vector<std::string> contents(std::begin(kHostile), std::end(kHostile));
    contents.push_back(std::string("nul\0byte\n", 9));
    contents.push_back("");
    contents.push_back("no final newline");
    int i = 0;
    for (const char* module : {"copy", "template"}) {
        for (const char* name : kHostile) {
            std::string n = name;
            if (n.find('/') != std::string::npos) continue;
            const std::string& content = contents[size_t(i++) % contents.size()];
            fs::path p = dir.path() / n;
            auto act = plan(module, args({{"dest", S(p.string())}, {"content", S(content)}, {"mode", S("0600")}}));
            CHECK(run_sh(act.probe, dir.path()).code == 1);
            auto r = run_sh(act.change, dir.path());
            REQUIRE_MESSAGE(r.code == 0, r.out);
            CHECK(read_file(p) == content);
            CHECK(run_sh(act.probe, dir.path()).code == 0);
            // Diff support: current content via current_cmd, desired is the content.
            auto cur = run_sh(act.current_cmd, dir.path());
            CHECK(cur.out == content);
            CHECK(act.desired("whatever") == content);
            CHECK(act.diff_path == p.string());
            // Someone edits the file: detected, and rewritten.
            dir.write(n, content + "x");
            CHECK(run_sh(act.probe, dir.path()).code == 1);
            CHECK(run_sh(act.change, dir.path()).code == 0);
            CHECK(read_file(p) == content);
            // Mode drift alone is detected.
            fs::permissions(p, fs::perms::owner_all);
            CHECK(run_sh(act.probe, dir.path()).code == 1);
        }
    }
    CHECK_FALSE(fs::exists(dir.path() / "pwned"));
}

TEST_CASE("copy: existing mode kept without mode:, directory dest fails, force: false") {
    TempDir dir;
    auto p = dir.write("secret", "old");
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
    auto act = plan("copy", args({{"dest", S(p.string())}, {"content", S("new")}}));
    CHECK(run_sh(act.change).code == 0);
    CHECK((fs::status(p).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));

    fs::create_directory(dir.path() / "d");
    auto d = plan("copy", args({{"dest", S((dir.path() / "d").string())}, {"content", S("x")}}));
    auto r = run_sh(d.probe);
    CHECK(r.code == 2);
    CHECK(r.out.find("is a directory") != std::string::npos);

    auto keep = plan("copy", args({{"dest", S(p.string())}, {"content", S("other")}, {"force", S("no")}}));
    CHECK(run_sh(keep.probe).code == 0);
    CHECK(run_sh(keep.change).code == 0);
    CHECK(read_file(p) == "new");
    auto create = plan("copy", args({{"dest", S((dir.path() / "n").string())}, {"content", S("c")}, {"force", B(false)}}));
    CHECK(run_sh(create.probe).code == 1);
    CHECK(run_sh(create.change).code == 0);
    CHECK(read_file(dir.path() / "n") == "c");
}

TEST_CASE("copy: probe text and argument errors") {
    auto act = plan("copy", args({{"dest", S("/etc/motd")}, {"content", S("hi\n")}, {"owner", S("root")}, {"_src", S("files/motd")}}));
    CHECK(act.probe.find(util::sha256_hex("hi\n")) != std::string::npos);
    CHECK(act.probe.find("-L -c %U -- \"$d\")\" = root ]") != std::string::npos);
    // What a batch may read up front for this probe.
    CHECK(act.hash_paths == std::vector<std::string>{"/etc/motd"});
    CHECK(act.stat_paths == std::vector<std::string>{"/etc/motd"});
    CHECK(act.summary == "copy files/motd -> /etc/motd (owner root)");
    CHECK(arg_error_key("copy", args({{"dest", S("/x")}, {"content", S("")}, {"backup", B(true)}})) == "backup");
    CHECK(arg_error_key("copy", args({{"dest", S("/x")}, {"src", S("files/x")}})) == "src");
    CHECK(arg_error_key("copy", args({{"dest", S("/x")}})) == "content");
    CHECK(arg_error_key("copy", args({{"dest", S("x")}, {"content", S("")}})) == "dest");
    CHECK(arg_error_key("copy", args({{"content", S("")}})) == "dest");
    CHECK(arg_error_key("template", args({{"dest", S("/x")}, {"content", S("")}, {"mode", S("rw")}})) == "mode");
}
