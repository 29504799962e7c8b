// The recording fake the engine's tests use instead of a host.
#include <doctest/doctest.h>

#include "transport/recording.hpp"

using namespace decamp::transport;

TEST_CASE("recording: records commands and answers from the queue, then the responder") {
    RecordingTransport t("web1");
    CHECK(t.describe() == "web1");
    t.push_result(0, "first");
    t.push_result(2, "", "boom");
    CHECK(t.run("a").out == "first");
    RunResult r = t.run("b");
    CHECK(r.exit_status == 2);
    CHECK(r.err == "boom");
    CHECK(t.run("c").exit_status == 0);  // nothing scripted: success, no output

    t.set_responder([](const std::string& cmd) {
        RunResult r;
        r.exit_status = cmd == "fail" ? 1 : 0;
        r.out = "ran " + cmd;
        return r;
    });
    CHECK(t.run("x").out == "ran x");
    CHECK(t.run("fail").exit_status == 1);
    CHECK(t.commands() == std::vector<std::string>{"a", "b", "c", "x", "fail"});
}

TEST_CASE("recording: stdin, streaming, files, errors") {
    RecordingTransport t;
    RunOptions o;
    o.stdin_data = "in:";
    int n = 0;
    o.stdin_source = [&](std::string& chunk) {
        if (n == 2) return false;
        chunk = std::to_string(n++);
        return true;
    };
    std::string streamed;
    o.on_output = [&](std::string_view c, bool) { streamed.append(c); };
    t.push_result(0, "out", "err");
    t.run("cmd", o);
    REQUIRE(t.calls().size() == 1);
    CHECK(t.calls()[0].stdin_data == "in:01");
    CHECK(streamed == "outerr");

    t.upload("content", "/etc/x", {"0600", "root", "root"});
    REQUIRE(t.uploads().size() == 1);
    CHECK(t.uploads()[0].opts.mode == "0600");
    CHECK(t.download("/etc/x") == "content");
    t.set_file("/etc/y", "y");
    CHECK(t.download("/etc/y") == "y");
    CHECK_THROWS_AS(t.download("/nope"), TransportError);
    CHECK(t.downloads().size() == 3);

    t.set_responder([](const std::string&) -> RunResult {
        throw TransportError(TransportError::Kind::Io, "connection lost");
    });
    CHECK_THROWS_AS(t.run("z"), TransportError);
    t.close();
    CHECK(t.closed());
}
