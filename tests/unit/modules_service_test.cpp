#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>

#include "modules_sh.hpp"

using namespace decamp;
using namespace decamp::test;

namespace {

// A stand-in `systemctl` on PATH: `show -p A -p B -- unit` prints only the asked properties
// from FAKE_<Prop> variables, as systemd does; `is-enabled --quiet` exits FAKE_IS_ENABLED.
struct FakeSystemctl {
    std::filesystem::path dir = std::filesystem::temp_directory_path() / ("decamp-fake-systemctl-" + std::to_string(getpid()));
    FakeSystemctl() {
        std::filesystem::create_directories(dir);
        std::ofstream(dir / "systemctl") << R"(#!/bin/sh
case "$1" in
show) shift; while [ $# -gt 0 ]; do case "$1" in -p) eval "v=\${FAKE_$2-}"; printf '%s=%s\n' "$2" "$v"; shift 2;; *) shift;; esac; done ;;
is-enabled) exit "${FAKE_IS_ENABLED:-1}" ;;
*) exit 0 ;;
esac
)";
        std::filesystem::permissions(dir / "systemctl", std::filesystem::perms::owner_all);
    }
    ~FakeSystemctl() { std::filesystem::remove_all(dir); }
    // Exit status of the probe with these unit properties.
    int probe(const modules::Action& act, const std::string& env) {
        return run_sh("PATH='" + dir.string() + "':$PATH; " + env + "\n" + act.probe).code;
    }
};

}  // namespace

TEST_CASE("service: started + enabled, one systemctl call decides, the change runs both") {
    auto act = plan("service", args({{"name", S("nginx")}, {"state", S("started")}, {"enabled", S("yes")}}));
    CHECK(act.probe.find("systemctl show -p UnitFileState -p ActiveState -- nginx") != std::string::npos);
    CHECK(act.change == "(\nset -e\nsystemctl enable -- nginx\nsystemctl start -- nginx\n)");
    CHECK(act.summary == "service nginx started, enabled");
    FakeSystemctl f;
    CHECK(f.probe(act, "FAKE_UnitFileState=enabled FAKE_ActiveState=active; export FAKE_UnitFileState FAKE_ActiveState") == 0);
    CHECK(f.probe(act, "export FAKE_UnitFileState=static FAKE_ActiveState=reloading") == 0);
    CHECK(f.probe(act, "export FAKE_UnitFileState=enabled FAKE_ActiveState=inactive") == 1);
    CHECK(f.probe(act, "export FAKE_UnitFileState=enabled FAKE_ActiveState=activating") == 1);
    CHECK(f.probe(act, "export FAKE_UnitFileState=disabled FAKE_ActiveState=active") == 1);
    CHECK(f.probe(act, "export FAKE_UnitFileState=linked FAKE_ActiveState=active") == 1);
    CHECK(f.probe(act, "export FAKE_UnitFileState=masked FAKE_ActiveState=active") == 1);
    // A unit systemd does not know: no state at all.
    CHECK(f.probe(act, "export FAKE_UnitFileState= FAKE_ActiveState=inactive") == 1);
    // Generated (SysV) units: is-enabled decides.
    CHECK(f.probe(act, "export FAKE_UnitFileState=generated FAKE_ActiveState=active FAKE_IS_ENABLED=0") == 0);
    CHECK(f.probe(act, "export FAKE_UnitFileState=generated FAKE_ActiveState=active FAKE_IS_ENABLED=1") == 1);

    auto stop = plan("service", args({{"name", S("x")}, {"state", S("stopped")}, {"enabled", B(false)}}));
    CHECK(f.probe(stop, "export FAKE_UnitFileState=disabled FAKE_ActiveState=inactive") == 0);
    CHECK(f.probe(stop, "export FAKE_UnitFileState=static FAKE_ActiveState=failed") == 0);
    CHECK(f.probe(stop, "export FAKE_UnitFileState=enabled FAKE_ActiveState=inactive") == 1);
    CHECK(f.probe(stop, "export FAKE_UnitFileState=disabled FAKE_ActiveState=active") == 1);

    auto dr = plan("systemd", args({{"name", S("app")}, {"state", S("started")}, {"daemon_reload", B(true)}}));
    CHECK(f.probe(dr, "export FAKE_NeedDaemonReload=no FAKE_ActiveState=active") == 0);
    CHECK(f.probe(dr, "export FAKE_NeedDaemonReload=yes FAKE_ActiveState=active") == 1);

    auto masked = plan("systemd", args({{"name", S("x")}, {"masked", B(true)}}));
    CHECK(f.probe(masked, "export FAKE_UnitFileState=masked") == 0);
    CHECK(f.probe(masked, "export FAKE_UnitFileState=enabled") == 1);
    CHECK(f.probe(masked, "export FAKE_UnitFileState=masked-runtime") == 1);  // gone at reboot
    auto unmasked = plan("systemd", args({{"name", S("x")}, {"masked", B(false)}}));
    CHECK(f.probe(unmasked, "export FAKE_UnitFileState=masked-runtime") == 1);
    CHECK(f.probe(unmasked, "export FAKE_UnitFileState=disabled") == 0);
}

TEST_CASE("service/systemd: restarted always changes; daemon_reload; masked; stopped") {
    auto r = plan("systemd", args({{"name", S("app.service")}, {"state", S("restarted")}, {"daemon_reload", B(true)}}));
    CHECK(r.probe.empty());
    CHECK(r.change.find("systemctl daemon-reload\nsystemctl restart -- app.service") != std::string::npos);
    auto dr = plan("ansible.builtin.systemd", args({{"daemon_reload", S("true")}}));
    CHECK(dr.probe.empty());
    CHECK(dr.change.find("systemctl daemon-reload") != std::string::npos);
    auto st = plan("systemd", args({{"name", S("app")}, {"state", S("started")}, {"daemon_reload", B(true)}}));
    CHECK(st.probe.find("NeedDaemonReload") != std::string::npos);
    auto stop = plan("service", args({{"name", S("x")}, {"state", S("stopped")}, {"enabled", B(false)}}));
    CHECK(stop.change.find("systemctl disable -- x") != std::string::npos);
    auto m = plan("systemd", args({{"name", S("x")}, {"masked", B(true)}, {"state", S("stopped")}}));
    CHECK(m.change.find("systemctl stop -- x\nsystemctl mask -- x") != std::string::npos);
    auto reload = plan("service", args({{"name", S("x")}, {"state", S("reloaded")}}));
    CHECK(reload.change.find("systemctl reload -- x; else systemctl start -- x") != std::string::npos);
    // Unit names with escapes and instances are fine and quoted.
    auto inst = plan("service", args({{"name", S("getty@tty1.service")}, {"state", S("started")}}));
    CHECK(inst.change.find("systemctl start -- getty@tty1.service") != std::string::npos);
}

TEST_CASE("service: argument errors") {
    CHECK(arg_error_key("service", args({{"name", S("nginx; reboot")}, {"state", S("started")}})) == "name");
    CHECK(arg_error_key("service", args({{"name", S("-x")}, {"state", S("started")}})) == "name");
    CHECK(arg_error_key("service", args({{"name", S("x")}, {"state", S("running")}})) == "state");
    CHECK(arg_error_key("service", args({{"name", S("x")}})) == "state");
    CHECK(arg_error_key("service", args({{"name", S("x")}, {"enabled", S("perhaps")}})) == "enabled");
    CHECK(arg_error_key("service", args({{"name", S("x")}, {"daemon_reload", B(true)}})) == "daemon_reload");
    CHECK(arg_error_key("systemd", args({{"state", S("started")}})) == "name");
    CHECK(arg_error_key("systemd", args({{"name", S("x")}, {"masked", B(true)}, {"state", S("started")}})) == "masked");
}
