#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>

#include "engine/script.hpp"
#include "test_util.hpp"
#include "util/shell.hpp"

using namespace decamp;
using namespace decamp::engine;

namespace {

// Runs a script with /bin/sh here, the way a host would.
int sh(const std::string& script, std::string* out = nullptr) {
    std::string cmd = "sh -c " + shell::quote(script) + " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    std::string o;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) o.append(buf, n);
    int st = pclose(p);
    if (out) *out = o;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace

TEST_CASE("apply script: probe decides, change runs only when needed") {
    test::TempDir dir;
    std::string f = (dir.path() / "flag").string();
    modules::Action a;
    a.probe = "test -e " + shell::quote(f);
    a.change = "touch " + shell::quote(f);
    int rc = sh(apply_script(a));
    CHECK(apply_outcome(a, rc) == Outcome::Changed);
    CHECK(std::filesystem::exists(f));
    rc = sh(apply_script(a));
    CHECK(rc == kScriptConverged);
    CHECK(apply_outcome(a, rc) == Outcome::Ok);
}

TEST_CASE("apply script: a failing probe or change is a failure, never a change") {
    modules::Action a;
    a.probe = "exit 3";
    a.change = "echo should-not-run";
    std::string out;
    int rc = sh(apply_script(a), &out);
    CHECK(rc == kScriptProbeFailed);
    CHECK(out.find("should-not-run") == std::string::npos);
    CHECK(apply_outcome(a, rc) == Outcome::Failed);
    a.probe = "exit 1";
    a.change = "exit 97";  // a change exiting with a verdict code must not pass for one
    rc = sh(apply_script(a));
    CHECK(apply_outcome(a, rc) == Outcome::Failed);
    a.change = "exit 5";
    CHECK(apply_outcome(a, sh(apply_script(a))) == Outcome::Failed);
}

TEST_CASE("check script never runs the change and shows current content") {
    test::TempDir dir;
    std::string f = (dir.path() / "conf").string();
    dir.write("conf", "old line\n");
    modules::Action a;
    a.probe = "grep -qx 'new line' " + shell::quote(f);
    a.change = "echo 'new line' > " + shell::quote(f);
    a.current_cmd = "cat " + shell::quote(f);
    std::string out;
    int rc = sh(check_script(a), &out);
    CHECK(check_outcome(a, rc) == Outcome::WouldChange);
    CHECK(out == "old line\n");
    std::string content;
    sh("cat " + shell::quote(f), &content);
    CHECK(content == "old line\n");
    modules::Action always;
    always.change = "touch " + shell::quote((dir.path() / "x").string());
    CHECK(check_outcome(always, sh(check_script(always))) == Outcome::WouldChange);
    CHECK_FALSE(std::filesystem::exists(dir.path() / "x"));
}

TEST_CASE("become wraps with sudo -n only when needed") {
    CHECK(with_become("id", false, "", "deploy") == "id");
    CHECK(with_become("id", true, "", "root") == "id");
    CHECK(with_become("id", true, "", "deploy") == "sudo -n -- sh -c id");
    CHECK(with_become("echo 'a b'", true, "postgres", "deploy") == "sudo -n -u postgres -- sh -c 'echo '\\''a b'\\'''");
}

TEST_CASE("the stdin launcher runs the script it is fed, and its stdin is empty") {
    std::string launcher = stdin_launcher(false, "", "root");
    CHECK(launcher.find("secret") == std::string::npos);
    std::string cmd = "printf '%s' " + shell::quote("x=1; read y || y=empty; echo \"$x $y\"; exit 7") + " | sh -c " + shell::quote(launcher);
    FILE* p = popen(cmd.c_str(), "r");
    char buf[64] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    int st = pclose(p);
    CHECK(std::string(buf, n) == "1 empty\n");
    CHECK(WEXITSTATUS(st) == 7);
}

TEST_CASE("facts parse") {
    std::string out;
    REQUIRE(sh(facts_command(), &out) == 0);
    Value f = parse_facts(out);
    CHECK(f.get("arch"));
    CHECK(f.get("cpus")->kind() == Value::Kind::Int);
    CHECK(f.get("user")->as_string().size() > 0);
    Value g = parse_facts("os_id=debian\nos_version=12\nbroken line\n=x\n");
    CHECK(g.get("os_id")->as_string() == "debian");
    CHECK(g.get("os_version")->as_int() == 12);
    CHECK(g.get("os_family")->as_string() == "debian");
}
