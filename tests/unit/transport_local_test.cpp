// The local transport: sh -c children through Boost.Process, files on this machine.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "test_util.hpp"
#include "transport/transport.hpp"

using namespace decamp;
using namespace decamp::transport;
using Clock = std::chrono::steady_clock;

TEST_CASE("local: run captures stdout, stderr and exit status") {
    auto t = make_local();
    CHECK(t->describe() == "local");
    RunResult r = t->run("echo out; echo err >&2; exit 4");
    CHECK(r.exit_status == 4);
    CHECK(r.out == "out\n");
    CHECK(r.err == "err\n");
    CHECK(t->run("kill -9 $$").exit_status == -1);
    CHECK(t->run("true").exit_status == 0);
}

TEST_CASE("local: stdin, pull stdin, big output on both streams, streaming") {
    auto t = make_local();
    RunOptions o;
    o.stdin_data = "abc";
    CHECK(t->run("cat", o).out == "abc");

    int n = 0;
    RunOptions pull;
    pull.stdin_source = [&](std::string& chunk) {
        if (n == 4) return false;
        chunk.assign(1 << 20, 'q');
        ++n;
        return true;
    };
    CHECK(t->run("wc -c", pull).out == "4194304\n");

    RunOptions big;
    big.stdin_data.assign(10 << 20, 'x');
    RunResult r = t->run("head -c 10485760 /dev/zero >&2 & cat; wait", big);
    CHECK(r.out == big.stdin_data);
    CHECK(r.err.size() == size_t(10 << 20));

    RunOptions ignored;  // a command that never reads stdin: no hang, no SIGPIPE
    ignored.stdin_data.assign(4 << 20, 'y');
    CHECK(t->run("echo done", ignored).out == "done\n");

    std::string seen;
    RunOptions stream;
    stream.on_output = [&](std::string_view chunk, bool is_err) {
        if (!is_err) seen.append(chunk);
    };
    r = t->run("seq 1 100000", stream);
    CHECK(seen.size() == 588895);
    CHECK(r.out.size() == 64 * 1024);
}

TEST_CASE("local: timeout kills the whole process group") {
    auto t = make_local();
    RunOptions o;
    o.timeout = std::chrono::milliseconds(200);
    auto start = Clock::now();
    RunResult r = t->run("echo started; sleep 6.5 & sleep 6.5; wait", o);
    CHECK(r.timed_out);
    CHECK(r.exit_status == -1);
    CHECK(r.out == "started\n");
    CHECK(Clock::now() - start < std::chrono::seconds(2));
    CHECK(t->run("pgrep -f 'sleep 6[.]5'").exit_status == 1);
}

TEST_CASE("local: upload is atomic with mode and owner; download round trip") {
    test::TempDir tmp;
    auto t = make_local();
    const std::string path = (tmp.path() / "f.conf").string();
    t->upload("one\n", path, {"0600", "", ""});
    CHECK(t->download(path) == "one\n");
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);

    if (::geteuid() == 0) {
        t->upload("two\n", path, {"0644", "nobody", "nogroup"});
        REQUIRE(::stat(path.c_str(), &st) == 0);
        CHECK(t->run("stat -c '%a %U:%G' " + path).out == "644 nobody:nogroup\n");
    }
    auto local = tmp.write("src.bin", std::string("\0\1\2binary", 9));
    t->upload_file(local, (tmp.path() / "copy.bin").string());
    CHECK(t->download((tmp.path() / "copy.bin").string()) == std::string("\0\1\2binary", 9));

    // Only the two targets and the source: no temp files left.
    int files = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(tmp.path())) ++files;
    CHECK(files == 3);

    CHECK_THROWS_AS(t->download((tmp.path() / "missing").string()), TransportError);
    CHECK_THROWS_AS(t->upload("x", (tmp.path() / "no/dir/f").string()), TransportError);
    CHECK_THROWS_AS(t->upload("x", path, {"0644", "no-such-user-decamp", ""}), TransportError);
    CHECK(t->download(path) != "x");
}
