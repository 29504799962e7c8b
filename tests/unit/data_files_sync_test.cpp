// Files data mover: real tar streams between two local transports and two temp dirs, with
// hostile names, a delta pass with deletions, and a failing target that must not hang.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>
#include <cstring>

#include "data/files_sync.hpp"
#include "test_util.hpp"
#include "transport/recording.hpp"
#include "util/error.hpp"

using namespace decamp;
using namespace decamp::data;
namespace fs = std::filesystem;

namespace {

std::string random_bytes(size_t n, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t v = rng();
        std::memcpy(&s[i], &v, 8);
    }
    return s;
}

// The tree of the test: nested dirs, a 5 MB random file, an empty file, hostile names, a link.
void make_tree(const fs::path& root) {
    fs::create_directories(root / "a/b/c");
    std::ofstream(root / "a/b/c/deep.txt") << "deep\n";
    std::ofstream(root / "big.bin", std::ios::binary) << random_bytes(5 << 20, 42);
    std::ofstream(root / "empty");
    std::ofstream(root / "with space.txt") << "space\n";
    std::ofstream(root / "new\nline") << "newline\n";
    std::ofstream(root / "quote'\"$(x)`y`") << "quotes\n";
    std::ofstream(root / "-rf") << "dash\n";
    std::ofstream(root / "back\\slash") << "bs\n";
    std::ofstream(root / "a/remove me") << "will go\n";
    fs::create_symlink("a/b/c/deep.txt", root / "link");
    ::chmod((root / "empty").c_str(), 0600);
}

}  // namespace

TEST_CASE("files: full pass, delta pass with deletions, checksums (local to local)") {
    test::TempDir tmp;
    const fs::path src = tmp.path() / "src", dst = tmp.path() / "dst/tree";
    const std::string marker = (tmp.path() / "state/marker").string();
    make_tree(src);
    auto s = transport::make_local();
    auto t = transport::make_local();

    auto st = files::full_pass(*s, *t, src.string(), dst.string(), marker);
    CHECK(st.files == 9);
    CHECK(st.bytes > (5u << 20));
    CHECK(fs::exists(marker));
    MESSAGE("full pass: " << st.files << " files, " << st.bytes << " bytes in " << st.seconds
                          << " s");
    CHECK(fs::is_symlink(dst / "link"));
    CHECK(fs::read_symlink(dst / "link") == "a/b/c/deep.txt");
    struct stat a {}, b {};
    ::stat((src / "empty").c_str(), &a);
    ::stat((dst / "empty").c_str(), &b);
    CHECK((b.st_mode & 07777) == 0600);
    CHECK(a.st_mtime == b.st_mtime);
    auto sums_src = files::checksums(*s, src.string());
    CHECK(sums_src.size() == 9);
    CHECK(sums_src.count("new\nline") == 1);
    CHECK(sums_src["empty"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(files::checksums(*t, dst.string()) == sums_src);
    CHECK(files::tree_size(*s, src.string()) > (5u << 20));
    CHECK(files::tree_size(*s, (tmp.path() / "nope").string()) == 0);

    // Changes after the marker: modify one, add one (in a new dir), delete two.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ofstream(src / "with space.txt", std::ios::app) << "more\n";
    fs::create_directories(src / "new dir");
    std::ofstream(src / "new dir/-n\nx") << "added\n";
    fs::remove(src / "a/remove me");
    fs::remove(src / "-rf");
    auto d = files::delta_pass(*s, *t, src.string(), dst.string(), marker);
    CHECK(d.deleted == 2);
    CHECK(d.files == 2);
    CHECK(d.bytes < (1u << 20));  // not the big file again
    CHECK(!fs::exists(dst / "a/remove me"));
    CHECK(!fs::exists(dst / "-rf"));
    CHECK(fs::exists(dst / "a/b/c/deep.txt"));
    CHECK(files::checksums(*t, dst.string()) == files::checksums(*s, src.string()));
    CHECK(!fs::exists(marker + ".new"));

    // Nothing changed: a delta moves (almost) nothing and deletes nothing.
    auto again = files::delta_pass(*s, *t, src.string(), dst.string(), marker);
    CHECK(again.files == 0);
    CHECK(again.deleted == 0);
}

TEST_CASE("files: a failing target stops the source instead of hanging") {
    test::TempDir tmp;
    const fs::path src = tmp.path() / "src";
    make_tree(src);
    fs::resize_file(src / "big.bin", 200 << 20);  // far more than the queue holds
    tmp.write("blocker", "a file where the target dir should be");
    auto s = transport::make_local();
    auto t = transport::make_local();
    auto fut = std::async(std::launch::async, [&] {
        files::full_pass(*s, *t, src.string(), (tmp.path() / "blocker/tree").string(),
                         (tmp.path() / "marker").string());
    });
    REQUIRE(fut.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    try {
        fut.get();
        FAIL("expected an error");
    } catch (const Error& e) {
        std::string m = e.what();
        CHECK(m.find("reading on local") != std::string::npos);
        CHECK(m.find("writing on local") != std::string::npos);
        MESSAGE(m);
    }
    (void)tmp;
}

TEST_CASE("files: a failing source fails the pass, names both sides and stops the target") {
    test::TempDir tmp;
    auto s = transport::make_local();
    auto t = transport::make_local();
    try {
        files::full_pass(*s, *t, (tmp.path() / "missing").string(), (tmp.path() / "dst").string(),
                         (tmp.path() / "m").string());
        FAIL("expected an error");
    } catch (const Error& e) {
        std::string m = e.what();
        CHECK(m.find("missing") != std::string::npos);
        CHECK(m.find("reading on local: exit") != std::string::npos);
        CHECK(m.find("writing on local: stopped because the source failed") != std::string::npos);
    }
    CHECK_THROWS_AS(files::full_pass(*s, *t, "relative/path", "/tmp/m"), Error);
}

TEST_CASE("files: command text quotes hostile paths") {
    transport::RecordingTransport r;
    r.push_result(0, "12\n");
    CHECK(files::tree_size(r, "/srv/it's here") == 12);
    CHECK(r.commands().back() ==
          "if [ -e '/srv/it'\\''s here' ]; then du -sb -- '/srv/it'\\''s here' | cut -f1; else echo 0; fi");
    r.push_result(0, std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  ./-x\ny") + '\0');
    auto sums = files::checksums(r, "/srv/$(x)");
    CHECK(sums.at("-x\ny").size() == 64);
    CHECK(r.commands().back() ==
          "cd -- '/srv/$(x)' && find . -type f -print0 | xargs -0 -r sha256sum -z --");
}

TEST_CASE("files: throughput local to local (manual)" * doctest::skip()) {
    test::TempDir tmp;
    fs::create_directories(tmp.path() / "src");
    for (int i = 0; i < 8; ++i)
        std::ofstream(tmp.path() / "src" / ("f" + std::to_string(i)), std::ios::binary)
            << random_bytes(64 << 20, unsigned(i));
    auto s = transport::make_local();
    auto t = transport::make_local();
    auto st = files::full_pass(*s, *t, (tmp.path() / "src").string(),
                               (tmp.path() / "dst").string(), (tmp.path() / "marker").string());
    const double mbps = double(st.bytes) / 1e6 / st.seconds;
    MESSAGE(mbps << " MB/s (" << st.bytes << " bytes, " << st.seconds << " s)");
}
