#include <doctest/doctest.h>

#include <cstdio>
#include <random>
#include <string>

#include "modules_sh.hpp"
#include "test_util.hpp"
#include "util/diff.hpp"

using decamp::util::unified_diff;

TEST_CASE("diff: equal texts give no diff") {
    CHECK(unified_diff("", "", "a", "b") == "");
    CHECK(unified_diff("x\ny\n", "x\ny\n", "a", "b") == "");
}

TEST_CASE("diff: one changed line with context") {
    std::string a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
    std::string b = "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n";
    CHECK(unified_diff(a, b, "old", "new") ==
          "--- old\n+++ new\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n");
}

TEST_CASE("diff: creation, deletion and missing final newline") {
    CHECK(unified_diff("", "a\nb\n", "/dev/null", "f") == "--- /dev/null\n+++ f\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    CHECK(unified_diff("a\n", "", "f", "f") == "--- f\n+++ f\n@@ -1 +0,0 @@\n-a\n");
    CHECK(unified_diff("a\nb", "a\nb\n", "f", "f") ==
          "--- f\n+++ f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
}

TEST_CASE("diff: distant changes make separate hunks, close ones merge") {
    std::string a, b;
    for (int i = 1; i <= 30; ++i) {
        a += std::to_string(i) + "\n";
        b += (i == 3 || i == 25 ? "x" : std::to_string(i)) + "\n";
    }
    std::string d = unified_diff(a, b, "a", "b");
    CHECK(d.find("@@ -1,6 +1,6 @@") != std::string::npos);
    CHECK(d.find("@@ -22,7 +22,7 @@") != std::string::npos);
    std::string b2 = b;
    b2.replace(b2.find("\n9\n"), 3, "\ny\n");  // 3 and 9 are 5 apart: one hunk
    CHECK(unified_diff(a, b2, "a", "b").find("@@ -1,12 +1,12 @@") != std::string::npos);
}

// Applying our hunks with patch(1) must turn a into b: checks correctness on random edits.
TEST_CASE("diff: random edits round-trip through patch(1)") {
    decamp::test::TempDir dir;
    std::mt19937 rng(42);
    for (int round = 0; round < 40; ++round) {
        std::string a, b;
        int n = int(rng() % 60);
        for (int i = 0; i < n; ++i) {
            std::string line = std::to_string(rng() % 8) + "\n";
            int r = int(rng() % 10);
            if (r != 0) a += line;
            if (r != 1) b += (r == 2 ? "chg" + line : line);
        }
        if (rng() % 4 == 0) b += "tail-without-newline";
        auto fa = dir.write("a.txt", a);
        std::string d = unified_diff(a, b, "a.txt", "a.txt", int(rng() % 4));
        if (a == b) { CHECK(d.empty()); continue; }
        dir.write("p.diff", d);
        auto r = decamp::test::run_sh("patch -s a.txt < p.diff", dir.path());
        REQUIRE_MESSAGE(r.code == 0, r.out << "\n" << d);
        CHECK(decamp::test::read_file(fa) == b);
    }
}

TEST_CASE("diff: large inputs stay bounded and correct") {
    std::string a, b;
    for (int i = 0; i < 20000; ++i) {
        a += "line " + std::to_string(i) + "\n";
        b += "other " + std::to_string(i) + "\n";  // every line differs: beyond the edit bound
    }
    std::string d = unified_diff(a, b, "a", "b");
    CHECK(d.find("@@ -1,20000 +1,20000 @@") != std::string::npos);
}
