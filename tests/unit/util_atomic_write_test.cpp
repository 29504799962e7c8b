// Every way decamp replaces a file on a host, run for real under /bin/sh with an attacker
// who plants symlinks at the temp names and keeps re-planting them during the write.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "modules_sh.hpp"
#include "test_util.hpp"
#include "util/shell.hpp"

using namespace decamp;
using namespace decamp::test;
namespace fs = std::filesystem;

namespace {

struct Victim {
    fs::path path;
    std::string content = "precious\n";
    struct stat before {};

    explicit Victim(const TempDir& dir) {
        path = dir.write("outside/victim", content);
        fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
        REQUIRE(::stat(path.c_str(), &before) == 0);
    }
    void check_untouched() const {
        struct stat now {};
        REQUIRE(::lstat(path.c_str(), &now) == 0);
        CHECK(S_ISREG(now.st_mode));
        CHECK(read_file(path) == content);
        CHECK((now.st_mode & 07777) == (before.st_mode & 07777));
        CHECK(now.st_uid == before.st_uid);
        CHECK(now.st_gid == before.st_gid);
    }
};

// Symlinks to the victim at every temp name the old writers used: `.decamp.$$.tmp` for the
// shell and for the pids after it (Perl runs as a child), before the write starts.
std::string plant(const fs::path& dir, const fs::path& victim) {
    return "perl -e 'symlink $ARGV[0], \"$ARGV[1]/.decamp.$_.tmp\" for $ARGV[2] .. $ARGV[2] + 20000' " +
           shell::quote(victim.string()) + " " + shell::quote(dir.string()) + " $$\n";
}

// A racer that replaces any temp file that appears (random names included) by a symlink to
// the victim, while `write` runs `rounds` times.
std::string race(const fs::path& dir, const fs::path& victim, const std::string& write, int rounds) {
    const std::string racer = R"PL(my ($v, $d) = @ARGV; while (1) { opendir(my $h, $d) or next;
for (readdir $h) { my $f = "$d/$_"; next unless /^\.decamp\.|\.decamp-/ && !-l $f;
unlink $f; symlink $v, $f } closedir $h })PL";
    return "perl -e " + shell::quote(racer) + " " + shell::quote(victim.string()) + " " +
           shell::quote(dir.string()) + " &\n"
           "racer=$!\n"
           "n=0; while [ $n -lt " + std::to_string(rounds) + " ]; do ( " + write + " ) >/dev/null 2>&1; n=$((n+1)); done\n"
           "kill $racer; wait $racer 2>/dev/null; exit 0\n";
}

// Runs `write` (a change writing `dest`) with planted links, then against the racer; the
// victim outside must keep its content, mode and owner. With the links only planted, the
// write must also succeed and leave a regular file with `expect` at dest.
void attack(const std::string& what, const fs::path& dest, const std::string& write,
            const std::string& expect) {
    CAPTURE(what);
    TempDir dir;
    Victim victim(dir);
    fs::create_directories(dest.parent_path());
    auto r = run_sh(plant(dest.parent_path(), victim.path) + write);
    CHECK_MESSAGE(r.code == 0, r.out);
    victim.check_untouched();
    CHECK(fs::is_regular_file(fs::symlink_status(dest)));
    CHECK(read_file(dest) == expect);

    auto raced = run_sh(race(dest.parent_path(), victim.path, write, 10));
    CHECK_MESSAGE(raced.code == 0, raced.out);
    victim.check_untouched();
}

// The test's own setup of an existing dest: after a raced round dest may be the attacker's
// symlink (renamed over it in place of our temp file), which the setup must not write through.
std::string reset(const fs::path& p, const std::string& printf_fmt) {
    return "rm -f -- " + shell::quote(p.string()) + " && printf '" + printf_fmt + "' > " +
           shell::quote(p.string()) + "; ";
}

}  // namespace

TEST_CASE("atomic write: planted and racing symlinks never redirect the write, chmod or chown") {
    TempDir base;
    const fs::path d = base.path() / "etc";

    attack("copy with mode and owner", d / "app.conf",
           plan("copy", args({{"dest", S((d / "app.conf").string())}, {"content", S("new\n")},
                              {"mode", S("0644")}, {"owner", S("nobody")}})).change,
           "new\n");
    attack("template over an existing file (attributes kept)", d / "motd",
           reset(d / "motd", "old") +
               plan("template", args({{"dest", S((d / "motd").string())}, {"content", S("hi\n")}})).change,
           "hi\n");
    attack("lineinfile with mode and owner", d / "hosts",
           reset(d / "hosts", "a\\n") +
               plan("lineinfile", args({{"path", S((d / "hosts").string())}, {"line", S("b")},
                                        {"mode", S("0640")}, {"owner", S("nobody")}})).change,
           "a\nb\n");
    attack("a rewrite from a shell filter (pg_hba.conf)", d / "pg_hba.conf",
           reset(d / "pg_hba.conf", "keep\\ndrop\\n") + "f=" +
               shell::quote((d / "pg_hba.conf").string()) + "; " +
               shell::write_output_atomic((d / "pg_hba.conf").string(), "grep -vxF drop \"$f\"", "", "",
                                          "", {0, 1}),
           "keep\n");
}

TEST_CASE("atomic write: the new file gets its attributes before it appears, none are left behind") {
    TempDir dir;
    auto p = dir.path() / "secret";
    auto r = run_sh(shell::write_file_atomic(p.string(), "s3cret", "0600", "nobody", "nogroup"));
    REQUIRE_MESSAGE(r.code == 0, r.out);
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(st.st_uid == 65534);
    CHECK(read_file(p) == "s3cret");
    // Only the file itself: no temp file left over, here or after a failed write.
    CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
    auto bad = run_sh(shell::write_file_atomic(p.string(), "x", "", "no-such-user-here", ""));
    CHECK(bad.code != 0);
    CHECK(bad.out.find("unknown user no-such-user-here") != std::string::npos);
    CHECK(read_file(p) == "s3cret");
    CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("atomic write: a symlink at dest is replaced, not written through") {
    TempDir dir;
    Victim victim(dir);
    auto link = dir.path() / "conf";
    fs::create_symlink(victim.path, link);
    auto r = run_sh(shell::write_file_atomic(link.string(), "mine", "0644", "", ""));
    REQUIRE_MESSAGE(r.code == 0, r.out);
    victim.check_untouched();
    CHECK(fs::is_regular_file(fs::symlink_status(link)));
    CHECK(read_file(link) == "mine");
}

TEST_CASE("atomic write: a producer that fails or dies leaves the file alone") {
    TempDir dir;
    auto p = dir.write("f", "old");
    auto fail = run_sh(shell::write_output_atomic(p.string(), "printf partial; (exit 2)", "", "", "", {0, 1}));
    CHECK(fail.code != 0);
    CHECK(fail.out.find("producing its content failed (exit 2)") != std::string::npos);
    CHECK(read_file(p) == "old");
    auto died = run_sh(shell::write_output_atomic(p.string(), "sh -c 'printf partial; kill -9 $$'", "", "", "", {0}));
    CHECK(died.code != 0);
    CHECK(read_file(p) == "old");
    // The shell feeding the writer is killed: no trailer arrives.
    auto cut = run_sh(shell::write_output_atomic(p.string(), "printf partial; sh -c 'kill -9 $PPID'", "", "", "", {0}));
    CHECK(cut.code != 0);
    CHECK(cut.out.find("did not arrive whole") != std::string::npos);
    CHECK(read_file(p) == "old");
    // Content that itself looks like the trailer is still written exactly.
    const std::string tricky = "x\ndecamp-producer-exit:0\n";
    REQUIRE(run_sh(shell::write_file_atomic(p.string(), tricky, "", "", "")).code == 0);
    CHECK(read_file(p) == tricky);
}
