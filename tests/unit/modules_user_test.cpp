#include <doctest/doctest.h>

#include "modules_sh.hpp"

using namespace decamp;
using namespace decamp::test;

TEST_CASE("user: probe runs against this host's accounts") {
    CHECK(run_sh(plan("user", args({{"name", S("root")}, {"uid", I(0)}, {"home", S("/root")}})).probe).code == 0);
    CHECK(run_sh(plan("user", args({{"name", S("root")}, {"uid", I(5)}})).probe).code == 1);
    CHECK(run_sh(plan("user", args({{"name", S("root")}, {"group", S("root")}})).probe).code == 0);
    CHECK(run_sh(plan("user", args({{"name", S("root")}, {"shell", S("/bin/decamp-nope")}})).probe).code == 1);
    CHECK(run_sh(plan("user", args({{"name", S("decamp-nobody")}})).probe).code == 1);
    CHECK(run_sh(plan("user", args({{"name", S("decamp-nobody")}, {"state", S("absent")}})).probe).code == 0);
    CHECK(run_sh(plan("user", args({{"name", S("root")}, {"state", S("absent")}})).probe).code == 1);
    CHECK(run_sh(plan("group", args({{"name", S("root")}, {"gid", I(0)}})).probe).code == 0);
    CHECK(run_sh(plan("group", args({{"name", S("root")}, {"gid", I(7)}})).probe).code == 1);
    CHECK(run_sh(plan("group", args({{"name", S("decamp-nogroup")}})).probe).code == 1);
    // root's supplementary groups are just "root": wanting exactly [] is converged.
    CHECK(run_sh(plan("user", args({{"name", S("root")}, {"groups", Value::list()}})).probe).code == 0);
    CHECK(run_sh(plan("user", args({{"name", S("root")}, {"groups", S("decamp-nogroup")}, {"append", B(true)}})).probe).code == 1);
}

TEST_CASE("user: commands, and the password hash stays out of texts and command lines") {
    const std::string hash = "$6$salt$Vv7bBsecrethashvalue";
    auto act = plan("user", args({{"name", S("deploy")}, {"uid", I(1500)}, {"groups", S("sudo, adm")},
                                  {"append", B(true)}, {"shell", S("/bin/bash")}, {"password", S(hash)}}));
    CHECK(act.summary.find(hash) == std::string::npos);
    CHECK(act.change_text.find(hash) == std::string::npos);
    CHECK(act.ok_reason.find(hash) == std::string::npos);
    CHECK(act.probe.find(hash) == std::string::npos);  // compared as sha256
    CHECK(act.change.find("useradd -u 1500 -s /bin/bash -G sudo,adm -m -- deploy") != std::string::npos);
    CHECK(act.change.find("usermod -u 1500 -s /bin/bash -a -G sudo,adm -- deploy") != std::string::npos);
    CHECK(act.change.find("| chpasswd -e") != std::string::npos);
    CHECK(act.change.find("usermod -p") == std::string::npos);
    auto del = plan("user", args({{"name", S("old")}, {"state", S("absent")}, {"remove", B(true)}}));
    CHECK(del.change == "userdel -r -- old");
    auto grp = plan("group", args({{"name", S("app")}, {"gid", S("1200")}, {"system", B(true)}}));
    CHECK(grp.change == "if getent group -- app >/dev/null; then groupmod -g 1200 -- app; else groupadd -g 1200 -r -- app; fi");
    auto nohome = plan("user", args({{"name", S("svc")}, {"create_home", S("no")}, {"system", S("yes")}}));
    CHECK(nohome.change.find("useradd -M -r -- svc") != std::string::npos);
    CHECK(nohome.change.find("then :; else") != std::string::npos);  // nothing to modify
}

TEST_CASE("user/group: argument errors") {
    CHECK(arg_error_key("user", args({{"name", S("a b")}})) == "name");
    CHECK(arg_error_key("user", args({{"name", S("-o")}})) == "name");
    CHECK(arg_error_key("user", args({{"name", S("x")}, {"password", S("plaintext")}})) == "password");
    CHECK(arg_error_key("user", args({{"name", S("x")}, {"password", S("$6$a:b")}})) == "password");
    CHECK(arg_error_key("user", args({{"name", S("x")}, {"shell", S("bash")}})) == "shell");
    CHECK(arg_error_key("user", args({{"name", S("x")}, {"uid", S("12a")}})) == "uid");
    CHECK(arg_error_key("user", args({{"name", S("x")}, {"groups", S("ok,$(x)")}})) == "groups");
    CHECK(arg_error_key("user", args({{"name", S("x")}, {"comment", S("a:b")}})) == "comment");
    CHECK(arg_error_key("user", args({{"name", S("x")}, {"update_password", S("sometimes")}})) == "update_password");
    CHECK(arg_error_key("group", args({{"name", S("x")}, {"gid", I(-1)}})) == "gid");
    CHECK(arg_error_key("group", args({})) == "name");
}
