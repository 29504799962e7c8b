#include <doctest/doctest.h>

#include <filesystem>

#include "modules_sh.hpp"
#include "test_util.hpp"

using namespace decamp;
using namespace decamp::test;
namespace fs = std::filesystem;

namespace {
fs::perms perms_of(const fs::path& p) { return fs::symlink_status(p).permissions() & fs::perms::all; }
}

TEST_CASE("file: directory with mode, converges and is idempotent, hostile names inert") {
    TempDir dir;
    for (const char* name : kHostile) {
        std::string n = name;
        if (n.find('/') != std::string::npos) continue;
        fs::path p = dir.path() / ("d" + n) / "sub";
        auto act = plan("file", args({{"path", S(p.string())}, {"state", S("directory")}, {"mode", S("0750")}}));
        CHECK(run_sh(act.probe, dir.path()).code == 1);
        auto r = run_sh(act.change, dir.path());
        REQUIRE_MESSAGE(r.code == 0, r.out);
        CHECK(fs::is_directory(p));
        CHECK(perms_of(p) == (fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec));
        CHECK(run_sh(act.probe, dir.path()).code == 0);
        // A mode change alone is detected and fixed.
        fs::permissions(p, fs::perms::owner_all);
        CHECK(run_sh(act.probe, dir.path()).code == 1);
        CHECK(run_sh(act.change, dir.path()).code == 0);
        CHECK(run_sh(act.probe, dir.path()).code == 0);
    }
    CHECK_FALSE(fs::exists(dir.path() / "pwned"));
}

TEST_CASE("file: recurse checks every entry") {
    TempDir dir;
    auto f = dir.write("tree/a/b/file", "x");
    fs::permissions(f, fs::perms::owner_read);
    auto act = plan("file", args({{"path", S((dir.path() / "tree").string())}, {"state", S("directory")},
                                  {"mode", S("0755")}, {"recurse", B(true)}}));
    CHECK(run_sh(act.probe).code == 1);
    CHECK(run_sh(act.change).code == 0);
    CHECK(run_sh(act.probe).code == 0);
    CHECK(perms_of(f) == (fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                          fs::perms::others_read | fs::perms::others_exec));
}

TEST_CASE("file: absent, link, touch, file") {
    TempDir dir;
    auto victim = dir.write("gone/x", "1");
    auto absent = plan("file", args({{"path", S((dir.path() / "gone").string())}, {"state", S("absent")}}));
    CHECK(run_sh(absent.probe).code == 1);
    CHECK(run_sh(absent.change).code == 0);
    CHECK_FALSE(fs::exists(dir.path() / "gone"));
    CHECK(run_sh(absent.probe).code == 0);

    auto target = dir.write("target", "t");
    auto link_path = dir.path() / "ln";
    auto link = plan("file", args({{"path", S(link_path.string())}, {"state", S("link")}, {"src", S("target")}}));
    CHECK(run_sh(link.probe).code == 1);
    REQUIRE(run_sh(link.change).code == 0);
    CHECK(fs::read_symlink(link_path) == "target");
    CHECK(run_sh(link.probe).code == 0);
    // Pointing elsewhere is detected; a regular file in the way needs force.
    auto relink = plan("file", args({{"path", S(link_path.string())}, {"state", S("link")}, {"src", S(target.string())}}));
    CHECK(run_sh(relink.probe).code == 1);
    CHECK(run_sh(relink.change).code == 0);
    CHECK(fs::read_symlink(link_path) == target);
    auto blocker = dir.write("blocker", "b");
    auto blocked = plan("file", args({{"path", S(blocker.string())}, {"state", S("link")}, {"src", S("target")}}));
    CHECK(run_sh(blocked.change).code == 2);
    CHECK(fs::is_regular_file(fs::symlink_status(blocker)));
    auto forced = plan("file", args({{"path", S(blocker.string())}, {"state", S("link")}, {"src", S("target")}, {"force", S("yes")}}));
    CHECK(run_sh(forced.change).code == 0);
    CHECK(fs::is_symlink(blocker));
    auto dangling = plan("file", args({{"path", S((dir.path() / "dl").string())}, {"state", S("link")}, {"src", S("missing")}}));
    CHECK(run_sh(dangling.change).code == 2);

    auto t = dir.path() / "touched";
    auto touch = plan("file", args({{"path", S(t.string())}, {"state", S("touch")}}));
    CHECK(touch.probe.empty());  // Ansible: touch always changes
    CHECK(run_sh(touch.change).code == 0);
    CHECK(fs::exists(t));
    auto keep = plan("file", args({{"path", S(t.string())}, {"state", S("touch")}, {"mode", S("0600")},
                                   {"modification_time", S("preserve")}, {"access_time", S("preserve")}}));
    CHECK(run_sh(keep.probe).code == 1);  // mode differs
    CHECK(run_sh(keep.change).code == 0);
    CHECK(run_sh(keep.probe).code == 0);

    auto missing = plan("file", args({{"path", S((dir.path() / "nope").string())}, {"mode", S("0600")}}));
    auto r = run_sh(missing.probe);
    CHECK(r.code == 2);  // state=file never creates: a failure, not "needs change"
    CHECK(r.out.find("does not exist") != std::string::npos);
    auto exists = plan("file", args({{"path", S(t.string())}, {"mode", S("0644")}}));
    CHECK(run_sh(exists.probe).code == 1);
    CHECK(run_sh(exists.change).code == 0);
    CHECK(run_sh(exists.probe).code == 0);
}

TEST_CASE("file: argument errors name the key") {
    CHECK(arg_error_key("file", args({{"path", S("relative/x")}})) == "path");
    CHECK(arg_error_key("file", args({{"dest", S("relative")}})) == "dest");
    CHECK(arg_error_key("file", args({})) == "path");
    CHECK(arg_error_key("file", args({{"path", S("/x")}, {"state", S("weird")}})) == "state");
    CHECK(arg_error_key("file", args({{"path", S("/x")}, {"state", S("hard")}})) == "state");
    CHECK(arg_error_key("file", args({{"path", S("/")}, {"state", S("absent")}})) == "path");
    CHECK(arg_error_key("file", args({{"path", S("//")}, {"state", S("absent")}})) == "path");
    CHECK(arg_error_key("file", args({{"path", S("/x")}, {"state", S("link")}})) == "src");
    CHECK(arg_error_key("file", args({{"path", S("/x")}, {"owner", S("a b")}})) == "owner");
    CHECK(arg_error_key("file", args({{"path", S("/x")}, {"group", S("-g")}})) == "group");
    CHECK(arg_error_key("file", args({{"path", S("/x")}, {"recurse", B(true)}})) == "recurse");
    auto act = plan("file", args({{"name", S("/etc/x")}, {"owner", S("www-data")}, {"group", I(33)}}));
    CHECK(act.change.find("chown -- www-data:33 \"$p\"") != std::string::npos);
}

TEST_CASE("file: owner (by name) and group (by id) and mode are read with one stat and compared") {
    test::TempDir dir;
    auto f = dir.write("f", "x");
    std::filesystem::permissions(f, std::filesystem::perms(0640));
    std::string who = run_sh("stat -c %U " + f.string()).out;
    std::string gid = run_sh("stat -c %g " + f.string()).out;
    who.pop_back();
    gid.pop_back();
    auto same = plan("file", args({{"path", S(f.string())}, {"owner", S(who)}, {"group", I(std::stoi(gid))}, {"mode", S("0640")}}));
    CHECK(run_sh(same.probe).code == 0);
    auto other_mode = plan("file", args({{"path", S(f.string())}, {"owner", S(who)}, {"mode", S("0644")}}));
    CHECK(run_sh(other_mode.probe).code == 1);
    auto other_group = plan("file", args({{"path", S(f.string())}, {"group", I(std::stoi(gid) + 1)}}));
    CHECK(run_sh(other_group.probe).code == 1);
    auto other_owner = plan("file", args({{"path", S(f.string())}, {"owner", S(who == "nobody" ? "daemon" : "nobody")}}));
    CHECK(run_sh(other_owner.probe).code == 1);
}

TEST_CASE("file: state=absent through a symlink removes the link, never the target's files") {
    TempDir dir;
    auto kept = dir.write("data/precious", "1");
    dir.write("data/sub/deep", "2");
    const fs::path link = dir.path() / "link";
    fs::create_directory_symlink(dir.path() / "data", link);
    for (const std::string spelling : {link.string() + "/", link.string() + "//", link.string()}) {
        CAPTURE(spelling);
        if (!fs::is_symlink(fs::symlink_status(link))) fs::create_directory_symlink(dir.path() / "data", link);
        auto act = plan("file", args({{"path", S(spelling)}, {"state", S("absent")}}));
        CHECK(act.summary == "file " + link.string() + " absent");
        CHECK(run_sh(act.probe).code == 1);
        auto r = run_sh(act.change);
        CHECK_MESSAGE(r.code == 0, r.out);
        CHECK_FALSE(fs::exists(fs::symlink_status(link)));
        CHECK(read_file(kept) == "1");
        CHECK(read_file(dir.path() / "data/sub/deep") == "2");
        CHECK(run_sh(act.probe).code == 0);
    }
    // A link to a file: the link goes, the file stays.
    fs::create_symlink(kept, link);
    REQUIRE(run_sh(plan("file", args({{"path", S(link.string())}, {"state", S("absent")}})).change).code == 0);
    CHECK_FALSE(fs::exists(fs::symlink_status(link)));
    CHECK(read_file(kept) == "1");
    // Paths that do not name an entry.
    CHECK(arg_error_key("file", args({{"path", S(link.string() + "/.")}, {"state", S("absent")}})) == "path");
    CHECK(arg_error_key("file", args({{"path", S(link.string() + "/..")}, {"state", S("absent")}})) == "path");
    // A directory reached through a symlinked parent is the playbook's to remove (documented).
    auto via_parent = plan("file", args({{"path", S(link.string() + "/")}, {"state", S("directory")}}));
    CHECK(via_parent.summary == "directory " + link.string());
}
