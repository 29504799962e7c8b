#include <doctest/doctest.h>

#include <algorithm>

#include "modules_sh.hpp"

using namespace decamp;
using namespace decamp::test;

TEST_CASE("registry: short and fully qualified names") {
    for (const char* n : {"apt", "package", "file", "copy", "template", "service", "systemd",
                          "user", "group", "command", "shell", "lineinfile", "wait_for",
                          "http_check", "postgresql_db", "postgresql_user"})
        CHECK_MESSAGE(modules::find(n) != nullptr, n);
    CHECK(modules::find("ansible.builtin.copy") == modules::find("copy"));
    CHECK(modules::find("ansible.legacy.shell") == modules::find("shell"));
    CHECK(modules::find("community.postgresql.postgresql_db") == modules::find("postgresql_db"));
    CHECK(modules::find("ansible.builtin.postgresql_db") == nullptr);
    CHECK(modules::find("debug") == nullptr);  // engine-level, not a module
    CHECK(modules::find("assert") == nullptr);
    CHECK(modules::find("nope") == nullptr);
    auto names = modules::names();
    CHECK(std::is_sorted(names.begin(), names.end()));
    CHECK(modules::find("command")->free_form());
    CHECK_FALSE(modules::find("copy")->free_form());
}

TEST_CASE("registry: required args are allowed, unknown args are errors naming the key") {
    for (const auto& n : modules::names()) {
        const auto* m = modules::find(n);
        auto allowed = m->allowed_args();
        for (const auto& r : m->required_args())
            CHECK_MESSAGE(std::find(allowed.begin(), allowed.end(), r) != allowed.end(), n << " " << r);
        CHECK_MESSAGE(arg_error_key(n, args({{"bogus_key", S("x")}})) == "bogus_key", n);
    }
    // Keys starting with '_' belong to the planner (copy's _src).
    CHECK_NOTHROW(plan("copy", args({{"dest", S("/x")}, {"content", S("")}, {"_src", S("files/x")}})));
}

TEST_CASE("args: booleans, integers and modes in their YAML spellings") {
    for (const auto& v : {B(true), S("yes"), S("True"), S("on"), I(1)})
        CHECK(plan("file", args({{"path", S("/tmp/x")}, {"state", S("directory")}, {"mode", S("0755")}, {"recurse", v}})).change.find("chmod -R") != std::string::npos);
    CHECK(arg_error_key("file", args({{"path", S("/x")}, {"state", S("directory")}, {"recurse", S("maybe")}})) == "recurse");
    CHECK(arg_error_key("wait_for", args({{"port", S("80x")}})) == "port");
    CHECK(arg_error_key("wait_for", args({{"port", I(70000)}})) == "port");
    CHECK(plan("wait_for", args({{"port", S("8080")}})).change.find(" 8080") != std::string::npos);
    // Modes: "0644", "644", 644 (YAML 0644 read as decimal digits), 420 read as digits too.
    for (const auto& v : {S("0644"), S("644"), I(644)})
        CHECK(plan("file", args({{"path", S("/x")}, {"mode", v}})).change.find("chmod -- 0644") != std::string::npos);
    CHECK(plan("file", args({{"path", S("/x")}, {"mode", S("02755")}})).probe.find("= 2755 ]") != std::string::npos);
    for (const auto& v : {S("0999"), S("u+rwx"), S("12345"), I(-1), B(true)})
        CHECK(arg_error_key("file", args({{"path", S("/x")}, {"mode", v}})) == "mode");
}
