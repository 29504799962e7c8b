#include <doctest/doctest.h>

#include <sys/stat.h>

#include "modules_sh.hpp"
#include "test_util.hpp"
#include "util/systemd.hpp"

using namespace decamp;

namespace {

// A stand-in systemctl: every verb exits FAKE_RC (default 0) and logs its argv to FAKE_LOG;
// `is-active -- UNIT` prints the state named by FAKE_STATE_<unit with - and . as _>,
// "inactive" when unset (as systemd says for a unit it does not know).
std::string fake_path(const test::TempDir& dir) {
    auto p = dir.write("bin/systemctl", R"(#!/bin/sh
echo "$*" >>"$FAKE_LOG"
if [ "$1" = is-active ]; then
  u=$3; v=$(printf %s "$u" | tr -- '-.@' '___')
  eval "s=\${FAKE_STATE_$v-inactive}"
  echo "$s"; [ "$s" = active ]; exit
fi
exit "${FAKE_RC:-0}"
)");
    chmod(p.c_str(), 0755);
    return "set -a; PATH='" + p.parent_path().string() + "':$PATH; FAKE_LOG='" + (dir.path() / "log").string() + "'; ";
}

}  // namespace

TEST_CASE("systemd: command text puts -- before the units, then checks each unit's state") {
    CHECK(systemd::units_cmd(systemd::Verb::Stop, {"forum.service", "forum-worker"}) ==
          "systemctl stop -- forum.service forum-worker || exit 1\n"
          "for u in forum.service forum-worker; do\n"
          "  s=$(systemctl is-active -- \"$u\")\n"
          "  case $s in inactive|failed) ;; *)\n"
          "    printf 'decamp: unit %s is %s after systemctl stop\\n' \"$u\" \"${s:-unknown}\" >&2; exit 1 ;;\n"
          "  esac\ndone");
    auto start = systemd::units_cmd(systemd::Verb::Restart, {"a b"});
    CHECK(start.rfind("systemctl restart -- 'a b' || exit 1\nfor u in 'a b'; do\n", 0) == 0);
    CHECK(start.find("case $s in active|reloading) ;;") != std::string::npos);
    CHECK(systemd::units_cmd(systemd::Verb::DisableNow, {"x"}, systemd::Missing::Ignore)
              .rfind("systemctl disable --now -- x || :\n", 0) == 0);
}

TEST_CASE("systemd: a stop that leaves the unit running fails instead of reporting success") {
    test::TempDir dir;
    const std::string env = fake_path(dir);
    auto stop = systemd::units_cmd(systemd::Verb::Stop, {"forum", "forum-worker"});
    // systemctl stop said 0 but forum-worker is still active (e.g. it is restarted by a timer).
    auto r = test::run_sh(env + "FAKE_STATE_forum_worker=active\n" + stop);
    CHECK(r.code == 1);
    CHECK(r.out.find("unit forum-worker is active after systemctl stop") != std::string::npos);
    CHECK(test::run_sh(env + "FAKE_STATE_forum=failed\n" + stop).code == 0);
    // systemctl itself failing (unit not loaded) fails the strict stop…
    CHECK(test::run_sh(env + "FAKE_RC=5\n" + stop).code == 1);
    // … but not the tolerant one, whose state check still runs.
    auto lenient = systemd::units_cmd(systemd::Verb::Stop, {"forum"}, systemd::Missing::Ignore);
    CHECK(test::run_sh(env + "FAKE_RC=5\n" + lenient).code == 0);
    CHECK(test::run_sh(env + "FAKE_RC=5 FAKE_STATE_forum=active\n" + lenient).code == 1);
}

TEST_CASE("systemd: a start must leave every unit active") {
    test::TempDir dir;
    const std::string env = fake_path(dir);
    auto start = systemd::units_cmd(systemd::Verb::Start, {"forum"});
    CHECK(test::run_sh(env + "FAKE_STATE_forum=active\n" + start).code == 0);
    auto r = test::run_sh(env + "FAKE_STATE_forum=failed\n" + start);
    CHECK(r.code == 1);
    CHECK(r.out.find("unit forum is failed after systemctl start") != std::string::npos);
    // The units reach systemctl after --, so a name can never be taken as an option.
    test::run_sh(env + "FAKE_STATE_forum=active\n" + start);
    std::ifstream log(dir.path() / "log");
    std::string first;
    std::getline(log, first);
    CHECK(first == "start -- forum");
}
