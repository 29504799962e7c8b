#include <doctest/doctest.h>

#include <filesystem>

#include "modules/command.hpp"
#include "modules_sh.hpp"
#include "test_util.hpp"

using namespace decamp;
using namespace decamp::test;
namespace fs = std::filesystem;
using V = std::vector<std::string>;

TEST_CASE("command: shlex splitting like Python's shlex.split") {
    using modules::shlex_split;
    CHECK(shlex_split("echo hello world") == V{"echo", "hello", "world"});
    CHECK(shlex_split("  a\t b  ") == V{"a", "b"});
    CHECK(shlex_split("echo 'a b' \"c d\"") == V{"echo", "a b", "c d"});
    CHECK(shlex_split("a'b'\"c\"d") == V{"abcd"});
    CHECK(shlex_split("\"a \\\"q\\\" \\\\ \\n\"") == V{"a \"q\" \\ \\n"});
    CHECK(shlex_split("a\\ b \\'x") == V{"a b", "'x"});
    CHECK(shlex_split("''") == V{""});
    CHECK(shlex_split("'$(x)' $HOME") == V{"$(x)", "$HOME"});
    CHECK_THROWS(shlex_split("echo 'open"));
    CHECK_THROWS(shlex_split("echo \"open"));
    CHECK_THROWS(shlex_split("trailing\\"));
}

TEST_CASE("command: words stay literal; shell gets shell semantics") {
    TempDir dir;
    auto act = plan("command", args({{"cmd", S("printf '%s|' $(touch pwned) `touch pwned` ';' '$HOME' a\\ b")}}));
    CHECK(act.probe.empty());
    auto r = run_sh(act.change, dir.path());
    CHECK(r.code == 0);
    CHECK(r.out == "$(touch|pwned)|`touch|pwned`|;|$HOME|a b|");
    CHECK_FALSE(fs::exists(dir.path() / "pwned"));

    auto argv = plan("command", args({{"argv", Value::list({S("printf"), S("%s"), S("a; touch pwned")})}}));
    r = run_sh(argv.change, dir.path());
    CHECK(r.out == "a; touch pwned");
    CHECK_FALSE(fs::exists(dir.path() / "pwned"));

    auto sh = plan("shell", args({{"cmd", S("echo one | tr o 0; exit 3")}}));
    r = run_sh(sh.change + "; echo after=$?", dir.path());
    CHECK(r.out == "0ne\nafter=3\n");  // exit inside the script does not end the caller

    auto assign = plan("command", args({{"cmd", S("FOO=1 true")}}));
    CHECK(run_sh(assign.change).code == 127);  // FOO=1 is a program name, as in Ansible
}

TEST_CASE("command/shell: creates, removes, chdir") {
    TempDir dir;
    const std::string d = dir.path().string();
    for (const char* module : {"command", "shell"}) {
        auto act = plan(module, args({{"cmd", S("touch made")}, {"chdir", S(d)}, {"creates", S("made")}}));
        CHECK(run_sh(act.probe).code == 1);
        CHECK(run_sh(act.change).code == 0);
        CHECK(fs::exists(dir.path() / "made"));
        CHECK(run_sh(act.probe).code == 0);
        auto rm = plan(module, args({{"cmd", S("rm made")}, {"chdir", S(d)}, {"removes", S(d + "/made")}}));
        CHECK(run_sh(rm.probe).code == 1);
        CHECK(run_sh(rm.change).code == 0);
        CHECK(run_sh(rm.probe).code == 0);
    }
    auto bad_dir = plan("command", args({{"cmd", S("true")}, {"chdir", S(d + "/nope")}, {"creates", S("x")}}));
    CHECK(run_sh(bad_dir.probe).code == 2);
    // Hostile creates path is one word.
    auto h = plan("command", args({{"cmd", S("true")}, {"creates", S(d + "/$(touch pwned)")}}));
    CHECK(run_sh(h.probe, dir.path()).code == 1);
    CHECK_FALSE(fs::exists(dir.path() / "pwned"));
}

TEST_CASE("command/shell: argument errors") {
    CHECK(arg_error_key("command", args({})) == "cmd");
    CHECK(arg_error_key("command", args({{"cmd", S("echo 'open")}})) == "cmd");
    CHECK(arg_error_key("command", args({{"cmd", S("make creates=/x")}})) == "cmd");
    CHECK(arg_error_key("shell", args({{"cmd", S("make chdir=/x")}})) == "cmd");
    CHECK(arg_error_key("command", args({{"cmd", S("x")}, {"argv", Value::list({S("y")})}})) == "argv");
    CHECK(arg_error_key("command", args({{"argv", S("y")}})) == "argv");
    CHECK(arg_error_key("shell", args({{"argv", Value::list({S("y")})}})) == "argv");
    CHECK(arg_error_key("command", args({{"cmd", S("x")}, {"executable", S("/bin/bash")}})) == "executable");
    CHECK(arg_error_key("shell", args({{"cmd", S("x")}, {"executable", S("bash")}})) == "executable");
    CHECK(plan("shell", args({{"cmd", S("echo $0")}, {"executable", S("/bin/bash")}})).change ==
          "/bin/bash -c 'echo $0'");
    CHECK(plan("command", args({{"cmd", S("ls -l /tmp")}, {"chdir", S("/srv/app")}})).change ==
          "cd -- /srv/app && ls -l /tmp");
}
