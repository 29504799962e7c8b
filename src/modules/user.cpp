// user / group: local accounts via getent + useradd/usermod/userdel (groupadd/...).
// The password is a crypt hash; it never appears in the summary, and both probe and change
// keep it off command lines (probe compares a sha256 of it, change pipes it to chpasswd -e).
#include <algorithm>

#include "modules/args.hpp"
#include "modules/attrs.hpp"
#include "modules/builtin.hpp"
#include "util/sha256.hpp"
#include "util/shell.hpp"

namespace decamp::modules {

namespace {

bool numeric(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Field of the getent line held in $e (1-based), exact (no trailing-newline loss: the
// fields cannot hold newlines).
std::string field(int n) { return "\"$(printf '%s\\n' \"$e\" | cut -d: -f" + std::to_string(n) + ")\""; }

}  // namespace

Action plan_user(const std::string&, const Value& args) {
    Args a(args);
    const std::string name = a.required_str("name");
    require_simple_name("name", name, "a user name");
    if (name.size() > 32) throw ArgError("name", "expected at most 32 characters");
    const std::string state = a.choice("state", {"present", "absent"}, "present");
    auto uid = a.integer("uid", 0, 4294967294);
    const std::string group = a.str("group", "");
    if (!group.empty()) check_owner("group", group);
    auto groups = a.list("groups");
    if (groups)
        for (const auto& g : *groups) check_owner("groups", g);
    const bool append = a.flag("append", false);
    const std::string shell_path = a.str("shell", "");
    if (!shell_path.empty()) require_absolute_path("shell", shell_path);
    const std::string home = a.str("home", "");
    if (!home.empty()) require_absolute_path("home", home);
    const std::string ck = a.has("create_home") ? "create_home" : "createhome";
    const bool create_home = a.flag(ck, true);
    const bool system = a.flag("system", false);
    const std::string password = a.str("password", "");
    const std::string update_password = a.choice("update_password", {"always", "on_create"}, "always");
    const std::string comment = a.str("comment", "");
    const bool remove = a.flag("remove", false);
    for (const auto* k : {"shell", "home", "comment"}) {
        auto v = a.str(k);
        if (v) require_no_newline(k, *v);
        if (v && v->find(':') != std::string::npos) throw ArgError(k, "must not contain ':'");
    }
    if (!password.empty()) {
        if (password.find_first_of(":\n\r") != std::string::npos)
            throw ArgError("password", "must not contain ':' or newlines");
        if (password[0] != '$' && password[0] != '!' && password[0] != '*')
            throw ArgError("password", "expected a crypt hash (such as $6$... or $y$...), not a "
                                       "plain-text password");
    }

    const std::string n = shell::quote(name);
    Action act;
    if (state == "absent") {
        act.probe = subshell({"getent passwd -- " + n + " >/dev/null || exit 0", "exit 1"});
        act.change = "userdel " + std::string(remove ? "-r " : "") + "-- " + n;
        act.summary = "user " + name + " absent";
        act.ok_reason = "user " + name + " does not exist";
        act.change_text = "- user " + name;
        return act;
    }

    std::vector<std::string> probe{"e=$(getent passwd -- " + n + ") || exit 1"};
    if (uid) probe.push_back("[ " + field(3) + " = " + std::to_string(*uid) + " ] || exit 1");
    if (!group.empty()) {
        if (numeric(group))
            probe.push_back("[ " + field(4) + " = " + group + " ] || exit 1");
        else
            probe.push_back("[ " + field(4) + " = \"$(getent group -- " + shell::quote(group) +
                            " | cut -d: -f3)\" ] || exit 1");
    }
    if (!comment.empty() || a.has("comment"))
        probe.push_back("[ " + field(5) + " = " + shell::quote(comment) + " ] || exit 1");
    if (!home.empty()) probe.push_back("[ " + field(6) + " = " + shell::quote(home) + " ] || exit 1");
    if (!shell_path.empty())
        probe.push_back("[ " + field(7) + " = " + shell::quote(shell_path) + " ] || exit 1");
    if (groups) {
        std::string want = " ";
        for (const auto& g : *groups) want += g + " ";
        probe.push_back("set -f; have=\" $(id -nG -- " + n + ") \"");
        probe.push_back("for g in " + (groups->empty() ? std::string("''") : shell::join(*groups)) +
                        "; do [ -z \"$g\" ] || case $have in *\" $g \"*) ;; *) exit 1 ;; esac; done");
        if (!append) {
            // No supplementary group beyond the wanted ones (the primary group aside).
            probe.push_back("prim=$(id -gn -- " + n + ")");
            probe.push_back("for g in $have; do [ \"$g\" = \"$prim\" ] || case " +
                            shell::quote(want) + " in *\" $g \"*) ;; *) exit 1 ;; esac; done");
        }
    }
    if (!password.empty() && update_password == "always") {
        // Compare a digest, so the hash itself is not in the probe text.
        probe.push_back("[ \"$(getent shadow -- " + n + " | cut -d: -f2 | sha256sum | cut -c1-64)\" = " +
                        util::sha256_hex(password + "\n") + " ] || exit 1");
    }
    probe.push_back("exit 0");
    act.probe = subshell(probe);

    shell::Argv common;
    if (uid) common.insert(common.end(), {"-u", std::to_string(*uid)});
    if (!group.empty()) common.insert(common.end(), {"-g", group});
    if (!shell_path.empty()) common.insert(common.end(), {"-s", shell_path});
    if (!home.empty()) common.insert(common.end(), {"-d", home});
    if (a.has("comment")) common.insert(common.end(), {"-c", comment});
    std::string groups_csv;
    if (groups)
        for (const auto& g : *groups) groups_csv += (groups_csv.empty() ? "" : ",") + g;

    shell::Argv add{"useradd"};
    add.insert(add.end(), common.begin(), common.end());
    if (groups && !groups->empty()) add.insert(add.end(), {"-G", groups_csv});
    add.push_back(create_home ? "-m" : "-M");
    if (system) add.push_back("-r");
    add.insert(add.end(), {"--", name});

    shell::Argv mod{"usermod"};
    mod.insert(mod.end(), common.begin(), common.end());
    if (groups && (append ? !groups->empty() : true)) {
        if (append) mod.push_back("-a");
        mod.insert(mod.end(), {"-G", groups_csv});
    }
    mod.insert(mod.end(), {"--", name});

    std::vector<std::string> change{"set -e"};
    std::string set_pw = password.empty() ? "" :
        "printf '%s:%s\\n' " + n + " " + shell::quote(password) + " | chpasswd -e";
    std::string on_new = shell::join(add) + (set_pw.empty() ? "" : "; " + set_pw);
    std::string on_old;
    if (mod.size() > 3) on_old = shell::join(mod);
    if (!set_pw.empty() && update_password == "always") on_old += (on_old.empty() ? "" : "; ") + set_pw;
    if (on_old.empty()) on_old = ":";
    change.push_back("if getent passwd -- " + n + " >/dev/null; then " + on_old + "; else " +
                     on_new + "; fi");
    act.change = subshell(change);

    std::vector<std::string> parts;
    if (uid) parts.push_back("uid " + std::to_string(*uid));
    if (!group.empty()) parts.push_back("group " + group);
    if (groups) parts.push_back(std::string(append ? "+groups " : "groups ") + groups_csv);
    if (!shell_path.empty()) parts.push_back("shell " + shell_path);
    if (!home.empty()) parts.push_back("home " + home);
    if (!password.empty()) parts.push_back("password set");
    std::string desc;
    for (const auto& p : parts) desc += (desc.empty() ? "" : ", ") + p;
    act.summary = "user " + name + (desc.empty() ? "" : " (" + desc + ")");
    act.ok_reason = "user " + name + " exists" + (desc.empty() ? "" : " with " + desc);
    act.change_text = "+ user " + name + (desc.empty() ? "" : " (" + desc + ")");
    return act;
}

Action plan_group(const std::string&, const Value& args) {
    Args a(args);
    const std::string name = a.required_str("name");
    require_simple_name("name", name, "a group name");
    if (name.size() > 32) throw ArgError("name", "expected at most 32 characters");
    const std::string state = a.choice("state", {"present", "absent"}, "present");
    auto gid = a.integer("gid", 0, 4294967294);
    const bool system = a.flag("system", false);
    const std::string n = shell::quote(name);
    Action act;
    if (state == "absent") {
        act.probe = subshell({"getent group -- " + n + " >/dev/null || exit 0", "exit 1"});
        act.change = "groupdel -- " + n;
        act.summary = "group " + name + " absent";
        act.ok_reason = "group " + name + " does not exist";
        act.change_text = "- group " + name;
        return act;
    }
    std::vector<std::string> probe{"e=$(getent group -- " + n + ") || exit 1"};
    if (gid) probe.push_back("[ " + field(3) + " = " + std::to_string(*gid) + " ] || exit 1");
    probe.push_back("exit 0");
    act.probe = subshell(probe);
    shell::Argv add{"groupadd"};
    if (gid) add.insert(add.end(), {"-g", std::to_string(*gid)});
    if (system) add.push_back("-r");
    add.insert(add.end(), {"--", name});
    std::string on_old = gid ? shell::join({"groupmod", "-g", std::to_string(*gid), "--", name}) : ":";
    act.change = "if getent group -- " + n + " >/dev/null; then " + on_old + "; else " +
                 shell::join(add) + "; fi";
    act.summary = "group " + name + (gid ? " (gid " + std::to_string(*gid) + ")" : "");
    act.ok_reason = "group " + name + " exists" + (gid ? " with gid " + std::to_string(*gid) : "");
    act.change_text = "+ group " + name + (gid ? " (gid " + std::to_string(*gid) + ")" : "");
    return act;
}

}  // namespace decamp::modules
