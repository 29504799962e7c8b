// The two error tiers end in run_guarded: one "decamp: error: …" line and the exit code the
// error carries.
#include <doctest/doctest.h>

#include <new>
#include <sstream>

#include "cli/cli.hpp"
#include "migrate/journal.hpp"
#include "transport/transport.hpp"
#include "util/secret.hpp"

using namespace decamp;

namespace {

struct Outcome {
    int code;
    std::string err;
};

template <class Thrower>
Outcome guarded(Thrower t) {
    std::ostringstream err;
    int code = cli::run_guarded([&]() -> int { t(); return 0; }, err);
    return {code, err.str()};
}

}  // namespace

TEST_CASE("errors: each tier's exit code, one line") {
    using transport::TransportError;
    struct Case {
        std::function<void()> thrower;
        int code;
    };
    const Case cases[] = {
        {[] { throw Error("state file unreadable"); }, kExitRuntime},
        {[] { throw TransportError(TransportError::Kind::Unreachable, "web1: no route"); }, kExitUnreachable},
        {[] { throw TransportError(TransportError::Kind::HostKey, "web1: key changed"); }, kExitHostKey},
        {[] { throw migrate::LockedError("another migration runs"); }, kExitLocked},
        {[] { throw Fatal(kExitMigrationFailed, "rolled back"); }, kExitMigrationFailed},
        {[] { throw cli::UsageError("--to needs a provider"); }, kExitUsage},
        {[] { throw std::runtime_error("from a library"); }, kExitRuntime},
    };
    for (const auto& c : cases) {
        Outcome o = guarded(c.thrower);
        CHECK(o.code == c.code);
        CHECK(o.err.rfind("decamp: error: ", 0) == 0);
        CHECK(o.err.find('\n') == o.err.size() - 1);  // one line
    }
    Outcome oom = guarded([] { throw std::bad_alloc(); });
    CHECK(oom.code == kExitOutOfMemory);
    CHECK(oom.err == "decamp: error: out of memory\n");
}

TEST_CASE("errors: a ConfigError prints every diagnostic, then one summary, exit 2") {
    Outcome o = guarded([] {
        throw ConfigError({Diagnostic{{"inv.yml", 3, 5}, "hosts/web1", "expected a map"},
                           Diagnostic{{"inv.yml", 9, 1}, "roles", "unknown key"}});
    });
    CHECK(o.code == kExitUsage);
    CHECK(o.err == "inv.yml:3:5: hosts/web1: expected a map\ninv.yml:9:1: roles: unknown key\n"
                   "decamp: error: 2 error(s) in the inventory or playbooks\n");
}

TEST_CASE("errors: an Error's detail only with -v, masked, control characters shown") {
    redactor().add("s3cr3t-detail-pw");
    auto thrower = [] {
        throw Error("PowerDNS refused", kExitRuntime,
                    "HTTP 500 answer: s3cr3t-detail-pw\n\x1b]0;pwned\x07 line 2");
    };
    std::ostringstream quiet;
    CHECK(cli::run_guarded(
              [&]() -> int {
                  thrower();
                  return 0;
              },
              quiet, 0) == kExitRuntime);
    CHECK(quiet.str() == "decamp: error: PowerDNS refused (-v shows the detail)\n");
    std::ostringstream loud;
    CHECK(cli::run_guarded(
              [&]() -> int {
                  thrower();
                  return 0;
              },
              loud, 1) == kExitRuntime);
    const std::string out = loud.str();
    CHECK(out.rfind("decamp: error: PowerDNS refused\n  | HTTP 500 answer: ", 0) == 0);
    CHECK(out.find("s3cr3t-detail-pw") == std::string::npos);
    CHECK(out.find('\x1b') == std::string::npos);
    CHECK(out.find("\\x1b]0;pwned\\x07 line 2") != std::string::npos);
    // An exception from outside the two tiers names its type at -v.
    std::ostringstream lib;
    CHECK(cli::run_guarded([]() -> int { throw std::out_of_range("vector"); }, lib, 1) == kExitRuntime);
    CHECK(lib.str().find("exception type std::out_of_range") != std::string::npos);
}
