// PCRE2 on the orchestrator: Perl's dialect, no recursion on the C stack, a step budget.
#include <doctest/doctest.h>

#include <chrono>

#include "modules/lineinfile.hpp"
#include "modules_sh.hpp"
#include "util/regex.hpp"

using namespace decamp;
using namespace decamp::test;

TEST_CASE("regex: Perl semantics for groups, $ before a final newline, bytes") {
    util::Regex re("^(\\w+)=(x)?(.*)$");
    std::vector<std::string> g;
    REQUIRE(re.search("key=value\n", &g));
    CHECK(g == std::vector<std::string>{"key=value", "key", "", "value"});
    CHECK(util::Regex("(?i)^LISTEN\\b").search("listen 80\n"));
    CHECK(util::Regex("(?<=a)b").search("ab"));
    CHECK_FALSE(util::Regex("^b").search("ab"));
    CHECK(util::Regex("\\xff").search(std::string("a\xff", 2)));
    CHECK_THROWS_WITH_AS(util::Regex("a(b"), doctest::Contains("bad regular expression /a(b/"), Error);
}

TEST_CASE("regex: a 1 MB line through lineinfile's planner path works, and quickly") {
    const std::string big = "opt=" + std::string(1 << 20, 'x') + "\n";
    const std::string content = "a=1\n" + big + "b=2\n";
    modules::LineinfileSpec s;
    s.line = "opt=short";
    s.regexp = "^opt=(.*)$";
    const auto t0 = std::chrono::steady_clock::now();
    auto r = modules::lineinfile_apply(content, s);
    CHECK(r.changed);
    CHECK(r.content == "a=1\nopt=short\nb=2\n");
    // The same through the module's diff function, as `plan` uses it.
    auto act = plan("lineinfile", args({{"path", S("/etc/app.conf")}, {"regexp", S("^opt=(x+)y?$")},
                                        {"line", S("opt=\\1!")}, {"backrefs", B(true)}}));
    CHECK(act.desired(content) == "a=1\n" + big.substr(0, big.size() - 1) + "!\nb=2\n");
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
}

TEST_CASE("regex: a catastrophic pattern hits the step budget with an error, not a hang") {
    const std::string subject = std::string(40, 'a') + "b";
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH_AS(util::Regex("^(a+)+$").search(subject), doctest::Contains("too expensive"), Error);
    auto act = plan("lineinfile", args({{"path", S("/etc/x")}, {"regexp", S("^(a|a)*$")}, {"line", S("z")}}));
    CHECK_THROWS_WITH_AS(act.desired(subject + "\n"), doctest::Contains("/^(a|a)*$/ is too expensive"), Error);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    MESSAGE("two catastrophic matches refused in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s");
    // A bad pattern is an argument error when planning (and so at load time).
    CHECK(arg_error_key("lineinfile", args({{"path", S("/etc/x")}, {"regexp", S("(")}, {"line", S("z")}})) == "regexp");
    CHECK(arg_error_key("lineinfile", args({{"path", S("/etc/x")}, {"insertafter", S("[")}, {"line", S("z")}})) == "insertafter");
}
