#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "modules_sh.hpp"
#include "test_util.hpp"
#include "util/shell.hpp"

using namespace decamp;
namespace fs = std::filesystem;

TEST_CASE("shell::quote: exact spellings") {
    CHECK(shell::quote("") == "''");
    CHECK(shell::quote("abc/def-1.2") == "abc/def-1.2");
    CHECK(shell::quote("a b") == "'a b'");
    CHECK(shell::quote("it's") == "'it'\\''s'");
    CHECK(shell::join({"echo", "a b", "$x"}) == "echo 'a b' '$x'");
}

TEST_CASE("shell::quote: hostile words round-trip through sh -c printf") {
    test::TempDir dir;
    std::string all_bytes;
    for (int c = 1; c < 256; ++c) all_bytes += char(c);
    std::vector<std::string> words(std::begin(test::kHostile), std::end(test::kHostile));
    words.push_back(all_bytes);
    words.push_back("~");
    words.push_back("a=b");
    words.push_back("trailing newline\n\n");
    for (const auto& w : words) {
        auto r = test::run_sh("printf %s " + shell::quote(w) + " > out", dir.path());
        CHECK(r.code == 0);
        CHECK(test::read_file(dir.path() / "out") == w);
        // Quoted twice (a script inside sh -c) it still comes out byte-exact.
        auto r2 = test::run_sh(shell::join({"sh", "-c", "printf %s " + shell::quote(w) + " > out2"}),
                               dir.path());
        CHECK(r2.code == 0);
        CHECK(test::read_file(dir.path() / "out2") == w);
    }
    CHECK_FALSE(fs::exists(dir.path() / "pwned"));
}

TEST_CASE("shell::write_file_atomic: byte-exact, modes, ownership kept, no dir clobbering") {
    test::TempDir dir;
    std::string content("bin\0ary\n'$(touch pwned)'\n", 24);
    for (const char* name : test::kHostile) {
        std::string n = name;
        if (n.find('/') != std::string::npos) continue;
        fs::path target = dir.path() / n;
        auto r = test::run_sh(shell::write_file_atomic(target.string(), content, "0640", "", ""),
                              dir.path());
        REQUIRE_MESSAGE(r.code == 0, r.out);
        CHECK(test::read_file(target) == content);
        CHECK((fs::status(target).permissions() & fs::perms::all) ==
              (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
    }
    CHECK_FALSE(fs::exists(dir.path() / "pwned"));

    // No mode given: an existing file keeps its mode; a new file gets 0666 & ~umask.
    auto keep = dir.write("keep", "old");
    fs::permissions(keep, fs::perms::owner_read | fs::perms::owner_write);
    REQUIRE(test::run_sh(shell::write_file_atomic(keep.string(), "new", "", "", "")).code == 0);
    CHECK(test::read_file(keep) == "new");
    CHECK((fs::status(keep).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
    auto fresh = dir.path() / "fresh";
    REQUIRE(test::run_sh("umask 022; " + shell::write_file_atomic(fresh.string(), "x", "", "", "")).code == 0);
    CHECK((fs::status(fresh).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read));

    // A directory at the target is an error, not a place to drop the file into.
    fs::create_directory(dir.path() / "d");
    auto r = test::run_sh(shell::write_file_atomic((dir.path() / "d").string(), "x", "", "", ""));
    CHECK(r.code != 0);
    CHECK(fs::is_empty(dir.path() / "d"));

    // A directory name ending in a newline is kept intact.
    fs::create_directory(dir.path() / "nl\n");
    auto nl = dir.path() / "nl\n" / "f";
    REQUIRE(test::run_sh(shell::write_file_atomic(nl.string(), "ok", "", "", "")).code == 0);
    CHECK(test::read_file(nl) == "ok");
    // No temp files left behind.
    int count = 0;
    for (auto& e : fs::directory_iterator(dir.path() / "nl\n")) { (void)e; ++count; }
    CHECK(count == 1);
}

TEST_CASE("shell::base64") {
    CHECK(shell::base64("") == "");
    CHECK(shell::base64("f") == "Zg==");
    CHECK(shell::base64("fo") == "Zm8=");
    CHECK(shell::base64("foo") == "Zm9v");
    CHECK(shell::base64("foobar") == "Zm9vYmFy");
    CHECK(shell::base64(std::string("\0\xff\n", 3)) == "AP8K");
    CHECK(shell::base64("any carnal pleas") == "YW55IGNhcm5hbCBwbGVhcw==");
}

TEST_CASE("shell::base64: large input is encoded in chunks without seams") {
    // Past the 3 MiB chunk, with a tail that needs padding: the whole equals its parts,
    // since a multiple of 3 bytes encodes without padding.
    std::string data;
    for (size_t i = 0; i < (size_t(3) << 20) + 3 * 1000 + 2; ++i) data += char(i * 131 + 7);
    const std::string whole = shell::base64(data);
    CHECK(whole.size() == 4 * ((data.size() + 2) / 3));
    CHECK(whole.find('\0') == std::string::npos);
    const size_t cut = 3 * 700001;
    CHECK(whole == shell::base64(std::string_view(data).substr(0, cut)) +
                       shell::base64(std::string_view(data).substr(cut)));
    CHECK(whole.compare(whole.size() - 2, 2, "==") != 0);
    CHECK(whole.back() == '=');
}
