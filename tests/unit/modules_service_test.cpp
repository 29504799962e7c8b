#include <doctest/doctest.h>

#include "modules_sh.hpp"

using namespace decamp;
using namespace decamp::test;

TEST_CASE("service: started + enabled, exact commands") {
    auto act = plan("service", args({{"name", S("nginx")}, {"state", S("started")}, {"enabled", S("yes")}}));
    CHECK(act.probe ==
          "(\n"
          "command -v systemctl >/dev/null 2>&1 || { echo 'service: systemctl not found' >&2; exit 2; }\n"
          "systemctl is-enabled --quiet -- nginx || exit 1\n"
          "systemctl is-active --quiet -- nginx || exit 1\n"
          ")");
    CHECK(act.change == "(\nset -e\nsystemctl enable -- nginx\nsystemctl start -- nginx\n)");
    CHECK(act.summary == "service nginx started, enabled");
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
    CHECK(stop.probe.find("if systemctl is-active --quiet -- x; then exit 1; fi") != std::string::npos);
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
