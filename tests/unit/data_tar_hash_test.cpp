// Per-file sha256 from a tar stream, against sha256sum over the same tree, for GNU tar's
// default, POSIX/pax and long names, fed in odd-sized chunks.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "data/tar_hash.hpp"
#include "data/files_sync.hpp"
#include "test_util.hpp"
#include "transport/transport.hpp"
#include "util/shell.hpp"
#include "util/sha256.hpp"
#include "util/tar_stream.hpp"

using namespace decamp;
namespace fs = std::filesystem;

TEST_CASE("tar hash: matches sha256sum of the tree for gnu and posix archives") {
    test::TempDir tmp;
    const fs::path tree = tmp.path() / "tree";
    fs::create_directories(tree / "d" / std::string(120, 'L'));
    std::ofstream(tree / "a.txt") << "alpha";
    std::ofstream(tree / "empty");
    std::ofstream(tree / "d" / std::string(120, 'L') / (std::string(110, 'n') + ".bin")) << std::string(70000, 'z');
    std::ofstream(tree / "new\nline 'q'") << "weird";
    fs::create_hard_link(tree / "a.txt", tree / "d" / "hard");
    fs::create_symlink("a.txt", tree / "sym");
    auto t = transport::make_local();
    auto want = data::files::checksums(*t, tree.string());
    CHECK(want.size() == 5);
    for (const char* format : {"gnu", "posix", "ustar"}) {
        CAPTURE(format);
        auto r = t->run("tar -C " + shell::quote(tree.string()) + " --format=" + format + " -cf - . 2>/dev/null");
        if (std::string(format) == "ustar" && r.exit_status != 0) continue;  // names too long for ustar
        REQUIRE(r.exit_status == 0);
        data::TarHasher h;
        for (size_t at = 0; at < r.out.size(); at += 777) h.feed(std::string_view(r.out).substr(at, 777));
        CHECK(h.ended());
        CHECK(h.files() == want);
    }
}

TEST_CASE("tar hash: path normalisation") {
    CHECK(data::normalize_tar_path("./a/b") == "a/b");
    CHECK(data::normalize_tar_path("./") == "");
    CHECK(data::normalize_tar_path("dir/") == "dir");
    CHECK(data::normalize_tar_path(".") == "");
}

TEST_CASE("tar stream: every entry once, with its type, link and whole name; data only for regular files") {
    test::TempDir tmp;
    const fs::path tree = tmp.path() / "tree";
    const std::string longdir(130, 'D');
    fs::create_directories(tree / longdir);
    std::ofstream(tree / longdir / "f") << "0123456789";
    fs::create_hard_link(tree / longdir / "f", tree / "hard");
    fs::create_symlink(longdir + "/f", tree / "sym");
    struct Seen : util::TarStream::Handler {
        std::map<std::string, std::string> what;  // name -> "type:link:bytes"
        std::string cur;
        size_t bytes = 0;
        int ends = 0;
        void entry(const util::TarStream::Entry& e) override {
            cur = util::normalize_tar_path(e.name);
            what[cur] = std::string(1, e.type == '\0' ? '0' : e.type) + ":" + e.link;
            bytes = 0;
        }
        void data(std::string_view d) override { bytes += d.size(); }
        void entry_end() override {
            what[cur] += ":" + std::to_string(bytes);
            ++ends;
        }
    };
    auto t = transport::make_local();
    for (const char* format : {"gnu", "posix"}) {
        CAPTURE(format);
        auto r = t->run("tar -C " + shell::quote(tree.string()) + " --format=" + format + " -cf - . 2>/dev/null");
        REQUIRE(r.exit_status == 0);
        Seen seen;
        util::TarStream ts(seen);
        for (size_t at = 0; at < r.out.size(); at += 511) ts.feed(std::string_view(r.out).substr(at, 511));
        CHECK(ts.ended());
        CHECK(seen.what[longdir + "/f"] == "0::10");
        CHECK(seen.what["hard"].rfind("1:", 0) == 0);
        CHECK(seen.what["hard"].find("f:0") != std::string::npos);
        CHECK(seen.what["sym"] == "2:" + longdir + "/f:0");
        CHECK(seen.what[longdir] == "5::0");
        CHECK(seen.what[""] == "5::0");  // the root, "./"
        CHECK(seen.what.size() == 5);
        CHECK(seen.ends == 5);
        // A hard link to a file with a long name still gets that file's checksum.
        data::TarHasher h;
        h.feed(r.out);
        CHECK(h.files().at("hard") == util::sha256_hex("0123456789"));
        CHECK(h.files().at(longdir + "/f") == util::sha256_hex("0123456789"));
    }
}
