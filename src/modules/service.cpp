// service / systemd: a unit started, stopped, restarted or reloaded; enabled; masked;
// daemon-reload. restarted/reloaded always change (as in Ansible), so their probe is empty.
#include "modules/args.hpp"
#include "modules/builtin.hpp"
#include "util/shell.hpp"

namespace decamp::modules {

Action plan_service(const std::string& module, const Value& args, const Value&) {
    Args a(args);
    const std::string name = a.str("name", "");
    auto state_opt = a.str("state");
    std::string state;
    if (state_opt) state = a.choice("state", {"started", "stopped", "restarted", "reloaded"}, "");
    auto enabled = a.opt_flag("enabled");
    auto masked = a.opt_flag("masked");
    const bool daemon_reload = a.flag("daemon_reload", false);
    if (name.empty() && (!state.empty() || enabled || masked))
        throw ArgError("name", "is required with state, enabled or masked");
    if (name.empty() && !daemon_reload) throw ArgError("name", "is required");
    if (!name.empty()) require_simple_name("name", name, "a systemd unit name");
    if (state.empty() && !enabled && !masked && !daemon_reload)
        throw ArgError("state", "expected at least one of state, enabled, masked or daemon_reload");
    if (masked && *masked && (state == "started" || state == "restarted" || state == "reloaded"))
        throw ArgError("masked", "a masked unit cannot be " + state);
    if (masked && *masked && enabled && *enabled)
        throw ArgError("masked", "a masked unit cannot be enabled");

    const std::string n = shell::quote(name);
    const std::string is_enabled = "\"$(systemctl is-enabled -- " + n + " 2>/dev/null)\"";
    std::vector<std::string> probe, change, parts;
    bool always = daemon_reload && name.empty();

    if (daemon_reload) {
        if (!name.empty())
            probe.push_back("[ \"$(systemctl show -p NeedDaemonReload --value -- " + n +
                            " 2>/dev/null)\" != yes ] || exit 1");
        change.push_back("systemctl daemon-reload");
        parts.push_back("daemon-reload");
    }
    if (masked && !*masked) {
        probe.push_back("[ " + is_enabled + " != masked ] || exit 1");
        change.push_back("systemctl unmask -- " + n);
        parts.push_back("unmasked");
    }
    if (enabled) {
        if (*enabled)
            // is-enabled exits 0 for enabled, static, indirect, alias, generated...
            probe.push_back("systemctl is-enabled --quiet -- " + n + " || exit 1");
        else
            probe.push_back("case " + is_enabled + " in enabled|enabled-runtime|linked|linked-runtime) exit 1 ;; esac");
        change.push_back(std::string("systemctl ") + (*enabled ? "enable" : "disable") + " -- " + n);
        parts.push_back(*enabled ? "enabled" : "disabled");
    }
    if (state == "started") {
        probe.push_back("systemctl is-active --quiet -- " + n + " || exit 1");
        change.push_back("systemctl start -- " + n);
    } else if (state == "stopped") {
        probe.push_back("if systemctl is-active --quiet -- " + n + "; then exit 1; fi");
        change.push_back("systemctl stop -- " + n);
    } else if (state == "restarted") {
        always = true;
        change.push_back("systemctl restart -- " + n);
    } else if (state == "reloaded") {
        always = true;
        // A unit that is not running is started instead (Ansible does the same).
        change.push_back("if systemctl is-active --quiet -- " + n + "; then systemctl reload -- " +
                         n + "; else systemctl start -- " + n + "; fi");
    }
    if (!state.empty()) parts.insert(parts.begin(), state);
    if (masked && *masked) {
        probe.push_back("[ " + is_enabled + " = masked ] || exit 1");
        change.push_back("systemctl mask -- " + n);
        parts.push_back("masked");
    }

    Action act;
    if (!always) {
        probe.insert(probe.begin(),
                     "command -v systemctl >/dev/null 2>&1 || { echo '" + module +
                         ": systemctl not found' >&2; exit 2; }");
        act.probe = subshell(probe);
    }
    std::vector<std::string> ch{"set -e"};
    ch.insert(ch.end(), change.begin(), change.end());
    act.change = subshell(ch);
    std::string what;
    for (const auto& p : parts) what += (what.empty() ? "" : ", ") + p;
    act.summary = (name.empty() ? "systemd" : "service " + name) + " " + what;
    act.ok_reason = (name.empty() ? "systemd" : name) + " is " + what;
    act.change_text = "~ " + (name.empty() ? "systemd" : name) + ": " + what;
    return act;
}

}  // namespace decamp::modules
