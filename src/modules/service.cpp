// service / systemd: a unit started, stopped, restarted or reloaded; enabled; masked;
// daemon-reload. restarted/reloaded always change (as in Ansible), so their probe is empty.
#include <algorithm>

#include "modules/args.hpp"
#include "modules/builtin.hpp"
#include "util/shell.hpp"

namespace decamp::modules {

Action plan_service(const std::string& module, const Value& args) {
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
    // One `systemctl show` reads every property the probe needs (each systemctl call costs a
    // few milliseconds on the host); the checks are shell patterns on its Key=value lines.
    const std::string nl = "\n";
    auto prop_in = [&](const std::string& prop, std::initializer_list<const char*> values) {
        std::string pat;
        for (const char* v : values) pat += (pat.empty() ? "" : "|") + std::string("*\"") + nl + prop + "=" + v + nl + "\"*";
        return pat;
    };
    std::vector<std::string> probe, change, parts;
    bool always = daemon_reload && name.empty();
    std::vector<std::string> props;

    if (daemon_reload) {
        if (!name.empty()) {
            props.push_back("NeedDaemonReload");
            probe.push_back("case $__u in " + prop_in("NeedDaemonReload", {"yes"}) + ") exit 1;; esac");
        }
        change.push_back("systemctl daemon-reload");
        parts.push_back("daemon-reload");
    }
    if (masked && !*masked) {
        props.push_back("UnitFileState");
        probe.push_back("case $__u in " + prop_in("UnitFileState", {"masked", "masked-runtime"}) + ") exit 1;; esac");
        change.push_back("systemctl unmask -- " + n);
        parts.push_back("unmasked");
    }
    if (enabled) {
        props.push_back("UnitFileState");
        if (*enabled)
            // The states `systemctl is-enabled` calls enabled (exit 0); a generated (SysV)
            // unit is asked directly, its enablement lives in rc links.
            probe.push_back("case $__u in " +
                            prop_in("UnitFileState", {"enabled", "enabled-runtime", "static", "alias", "indirect", "transient"}) +
                            ") ;; " + prop_in("UnitFileState", {"generated"}) + ") systemctl is-enabled --quiet -- " + n +
                            " || exit 1;; *) exit 1;; esac");
        else
            probe.push_back("case $__u in " + prop_in("UnitFileState", {"enabled", "enabled-runtime", "linked", "linked-runtime"}) +
                            ") exit 1;; " + prop_in("UnitFileState", {"generated"}) + ") ! systemctl is-enabled --quiet -- " + n +
                            " || exit 1;; esac");
        change.push_back(std::string("systemctl ") + (*enabled ? "enable" : "disable") + " -- " + n);
        parts.push_back(*enabled ? "enabled" : "disabled");
    }
    // is-active answers yes for active and reloading.
    if (state == "started") {
        props.push_back("ActiveState");
        probe.push_back("case $__u in " + prop_in("ActiveState", {"active", "reloading"}) + ") ;; *) exit 1;; esac");
        change.push_back("systemctl start -- " + n);
    } else if (state == "stopped") {
        props.push_back("ActiveState");
        probe.push_back("case $__u in " + prop_in("ActiveState", {"active", "reloading"}) + ") exit 1;; esac");
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
        props.push_back("UnitFileState");
        // masked-runtime goes at the next boot: not what masked: true asks for.
        probe.push_back("case $__u in " + prop_in("UnitFileState", {"masked"}) + ") ;; *) exit 1;; esac");
        change.push_back("systemctl mask -- " + n);
        parts.push_back("masked");
    }

    Action act;
    if (!always) {
        std::string show = "__u=\"" + nl + "$(systemctl show";
        std::vector<std::string> seen;
        for (const auto& p : props) {
            if (std::find(seen.begin(), seen.end(), p) != seen.end()) continue;
            seen.push_back(p);
            show += " -p " + p;
        }
        show += " -- " + n + " 2>/dev/null)" + nl + "\"";
        probe.insert(probe.begin(), show);
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
