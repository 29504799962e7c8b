// YAML to Value: the alias expansion budget (billion laughs) and the nesting limit.
#include <doctest/doctest.h>

#include <chrono>

#include "util/yaml.hpp"

using namespace decamp;

namespace {

// n levels, each a list of 10 aliases to the one before: 10^n values when expanded.
std::string alias_bomb(int levels) {
    std::string s = "a0: &a0 [\"lol\"]\n";
    for (int i = 1; i <= levels; ++i) {
        s += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
        for (int j = 0; j < 10; ++j) s += std::string(j ? "," : "") + "*a" + std::to_string(i - 1);
        s += "]\n";
    }
    return s;
}

}  // namespace

TEST_CASE("yaml: an alias bomb is refused with file:line:column") {
    std::string bomb = alias_bomb(9);
    CHECK(bomb.size() < 1024);
    std::vector<Diagnostic> diags;
    // Time and memory to refuse it are measured in tests/bench/budgets, not here.
    yaml::parse(bomb, "bomb.yml", diags);
    REQUIRE(diags.size() == 1);
    CHECK(diags[0].str().rfind("bomb.yml:", 0) == 0);
    CHECK(diags[0].mark.line > 0);
    CHECK(diags[0].mark.column > 0);
    CHECK(diags[0].message.find("too many values") != std::string::npos);
}

TEST_CASE("yaml: ordinary anchors and large documents stay within the budget") {
    std::vector<Diagnostic> diags;
    Value v = yaml::parse("defaults: &d {user: app, port: 5432}\na: *d\nb: *d\n", "ok.yml", diags);
    CHECK(diags.empty());
    CHECK(v.get("b")->get("port")->as_int() == 5432);
    // 200 000 plain items: more than the floor, fewer than the bytes.
    std::string big = "[";
    for (int i = 0; i < 200000; ++i) big += (i ? ",1" : "1");
    big += "]";
    Value list = yaml::parse(big, "big.yml", diags);
    CHECK(diags.empty());
    CHECK(list.size() == 200000);
    // A small bomb that expands past the floor.
    diags.clear();
    yaml::parse(alias_bomb(6), "six.yml", diags);
    CHECK(diags.size() == 1);
}

TEST_CASE("yaml: nesting deeper than 64 levels is refused") {
    std::vector<Diagnostic> diags;
    yaml::parse(std::string(70, '[') + std::string(70, ']'), "deep.yml", diags);
    REQUIRE_FALSE(diags.empty());
    CHECK(diags[0].message.find("deeper than 64") != std::string::npos);
}
