#include <doctest/doctest.h>

#include <filesystem>

#include "modules_sh.hpp"
#include "test_util.hpp"

using namespace decamp;
using namespace decamp::test;
namespace fs = std::filesystem;

TEST_CASE("wait_for: path present/absent, for real") {
    TempDir dir;
    auto p = dir.write("ready", "");
    auto present = plan("wait_for", args({{"path", S(p.string())}, {"timeout", I(0)}}));
    CHECK(present.check_only);
    CHECK(present.probe.empty());
    CHECK(run_sh(present.change).code == 0);
    auto absent = plan("wait_for", args({{"path", S(p.string())}, {"state", S("absent")}, {"timeout", I(0)}, {"msg", S("still there")}}));
    auto r = run_sh(absent.change);
    CHECK(r.code == 1);
    CHECK(r.out == "still there\n");
    fs::remove(p);
    CHECK(run_sh(absent.change).code == 0);
}

TEST_CASE("wait_for: ports") {
    // A closed local port: started times out, stopped succeeds at once.
    auto up = plan("wait_for", args({{"port", I(1)}, {"timeout", S("0")}}));
    auto r = run_sh(up.change);
    CHECK(r.code == 1);
    CHECK(r.out.find("timeout after 0s waiting for port 127.0.0.1:1") != std::string::npos);
    CHECK(run_sh(plan("wait_for", args({{"port", I(1)}, {"state", S("stopped")}, {"timeout", I(0)}})).change).code == 0);
    CHECK(arg_error_key("wait_for", args({{"port", I(80)}, {"host", S("$(touch pwned)")}})) == "host");
    CHECK(arg_error_key("wait_for", args({{"port", I(80)}, {"host", S("-oProxy")}})) == "host");
    CHECK(arg_error_key("wait_for", args({{"port", I(80)}, {"path", S("/x")}})) == "path");
    CHECK(arg_error_key("wait_for", args({{"port", I(80)}, {"state", S("drained")}})) == "state");
    CHECK(plan("wait_for", args({{"timeout", I(5)}})).change == "sleep 5");
}

TEST_CASE("http_check: curl command, quoting, errors") {
    auto act = plan("http_check", args({{"url", S("http://10.0.0.1/healthz?a=1&b='x'")}, {"host_header", S("www.example.test")}}));
    CHECK(act.check_only);
    CHECK(act.change.find("curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -H 'Host: www.example.test' 'http://10.0.0.1/healthz?a=1&b='\\''x'\\'''") != std::string::npos);
    CHECK(act.change.find("[ \"$code\" = 200 ] && exit 0") != std::string::npos);
    CHECK(arg_error_key("http_check", args({{"url", S("ftp://x")}})) == "url");
    CHECK(arg_error_key("http_check", args({{"url", S("http://x/\nHost: y")}})) == "url");
    CHECK(arg_error_key("http_check", args({{"url", S("http://x/")}, {"host_header", S("a\r\nX: y")}})) == "host_header");
    CHECK(arg_error_key("http_check", args({{"url", S("http://x/")}, {"status", I(42)}})) == "status");
    CHECK(arg_error_key("http_check", args({})) == "url");
    // A connection refused ends with a clear message and exit 1 (curl is on this host).
    if (run_sh("command -v curl").code == 0) {
        auto down = plan("http_check", args({{"url", S("http://127.0.0.1:1/$(touch pwned)")}, {"timeout", I(2)}}));
        TempDir dir;
        auto r = run_sh(down.change, dir.path());
        CHECK(r.code == 1);
        CHECK(r.out.find("expected status 200, got 000") != std::string::npos);
        CHECK_FALSE(fs::exists(dir.path() / "pwned"));
    }
}
