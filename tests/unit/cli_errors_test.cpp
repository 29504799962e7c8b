// The two error tiers end in run_guarded: one "decamp: error: …" line and the exit code the
// error carries.
#include <doctest/doctest.h>

#include <new>
#include <sstream>

#include "cli/cli.hpp"
#include "migrate/journal.hpp"
#include "transport/transport.hpp"

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
