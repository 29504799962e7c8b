// file: a path is a file, directory, symlink, absent, or touched, with mode/owner/group.
// Paths must be absolute (the remote working directory is not something to rely on).
#include "modules/args.hpp"
#include "modules/attrs.hpp"
#include "modules/builtin.hpp"
#include "util/shell.hpp"

namespace decamp::modules {

Action plan_file(const std::string&, const Value& args) {
    Args a(args);
    const std::string key = a.which({"path", "dest", "name"});
    if (key.empty()) throw ArgError("path", "is required");
    // The path names the entry itself: with a trailing slash every tool resolves a symlink in
    // the last component (`rm -rf link/` empties the directory the link points to), so the
    // slashes go. Symlinks in the parent directories are followed, as by the kernel and Ansible.
    std::string path = a.required_str(key);
    require_absolute_path(key, path);
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    const std::string last = path.substr(path.rfind('/') + 1);
    if (last == "." || last == "..")
        throw ArgError(key, "must name the entry itself, not end in /" + last);
    const std::string state =
        a.choice("state", {"file", "directory", "link", "hard", "absent", "touch"}, "file");
    if (state == "hard") throw ArgError("state", "state=hard is not supported (expected file, directory, link, absent or touch)");
    const FileAttrs at = read_attrs(a);
    const bool recurse = a.flag("recurse", false);
    const bool force = a.flag("force", false);
    (void)a.flag("follow", true);
    const std::string mtime = a.choice("modification_time", {"now", "preserve"}, "now");
    const std::string atime = a.choice("access_time", {"now", "preserve"}, "now");
    if (recurse && state != "directory") throw ArgError("recurse", "only applies to state=directory");
    if (a.has("src") && state != "link") throw ArgError("src", "only applies to state=link");
    if (state == "absent" && !at.empty())
        throw ArgError(a.has("mode") ? "mode" : a.has("owner") ? "owner" : "group",
                       "makes no sense with state=absent");

    const std::string q = shell::quote(path);
    const std::string set_p = "p=" + q;
    Action act;
    act.diff_path = path;
    const std::string desc = at.describe();
    std::vector<std::string> probe{set_p}, change{set_p};

    if (state == "absent") {
        // Refuse the obvious disaster; anything else is the playbook's decision.
        if (path == "/") throw ArgError(key, "refusing to remove /");
        probe.push_back("if [ -e \"$p\" ] || [ -L \"$p\" ]; then exit 1; fi");
        // A symlink is removed as the link (as Ansible does), never recursed through.
        change.push_back("if [ -L \"$p\" ]; then rm -f -- \"$p\"; else rm -rf -- \"$p\"; fi");
        act.summary = "file " + path + " absent";
        act.ok_reason = path + " does not exist";
        act.change_text = "- " + path;
    } else if (state == "directory") {
        probe.push_back("[ -d \"$p\" ] || exit 1");
        if (recurse) {
            // Every entry below must match too.
            std::vector<std::string> tests;
            if (!at.mode.empty()) tests.push_back("! -perm " + shell::quote(stat_mode(at.mode)));
            if (!at.owner.empty()) tests.push_back("! -user " + shell::quote(at.owner));
            if (!at.group.empty()) tests.push_back("! -group " + shell::quote(at.group));
            std::string expr;
            for (const auto& t : tests) expr += (expr.empty() ? "" : " -o ") + t;
            if (!expr.empty())
                probe.push_back("[ -z \"$(find \"$p\" \\( " + expr + " \\) -print -quit)\" ] || exit 1");
        } else {
            for (auto& l : at.probe_lines("p")) probe.push_back(l);
            if (!at.empty()) act.stat_paths.push_back(path);
        }
        change.push_back("mkdir -p -- \"$p\"");
        for (auto& l : at.fix_lines("p", recurse)) change.push_back(l);
        act.summary = "directory " + path + (desc.empty() ? "" : " (" + desc + ")");
        act.ok_reason = path + " is a directory" + (desc.empty() ? "" : " with " + desc);
        act.change_text = "+ directory " + path + (desc.empty() ? "" : " (" + desc + ")");
    } else if (state == "link") {
        const std::string src = a.str("src", "");
        if (src.empty()) throw ArgError("src", "is required with state=link");
        require_no_newline("src", src);
        if (!at.mode.empty()) throw ArgError("mode", "is not supported with state=link");
        // $(readlink; echo .) keeps trailing newlines so the comparison is exact.
        probe.push_back("[ -L \"$p\" ] && [ \"$(readlink -- \"$p\"; echo .)\" = " +
                        shell::quote(src + "\n.") + " ] || exit 1");
        for (auto& l : at.probe_lines("p", false)) probe.push_back(l);
        change.push_back("s=" + shell::quote(src));
        if (!force) {
            change.push_back(
                "if [ -e \"$p\" ] && [ ! -L \"$p\" ]; then echo \"file: $p exists and is not a "
                "symlink (set force: true to replace it)\" >&2; exit 2; fi");
            change.push_back(
                "case $s in /*) t=$s ;; *) t=$(dirname -- \"$p\")/$s ;; esac; [ -e \"$t\" ] || "
                "{ echo \"file: link source $s does not exist (set force: true to link anyway)\" "
                ">&2; exit 2; }");
        } else {
            change.push_back("if [ -d \"$p\" ] && [ ! -L \"$p\" ]; then rmdir -- \"$p\" || exit 2; fi");
        }
        change.push_back("ln -sfnT -- \"$s\" \"$p\"");
        for (auto& l : at.fix_lines("p", false, true)) change.push_back(l);
        act.summary = "link " + path + " -> " + src;
        act.ok_reason = path + " points to " + src;
        act.change_text = "+ link " + path + " -> " + src;
    } else if (state == "touch") {
        const bool idempotent = mtime == "preserve" && atime == "preserve";
        if (idempotent) {
            probe.push_back("[ -e \"$p\" ] || exit 1");
            for (auto& l : at.probe_lines("p")) probe.push_back(l);
            if (!at.empty()) act.stat_paths.push_back(path);
            change.push_back("[ -e \"$p\" ] || touch -- \"$p\"");
        } else {
            probe.clear();  // like Ansible: touch updates the times, so it always changes
            change.push_back(std::string("touch") + (mtime == "preserve" ? " -a" : atime == "preserve" ? " -m" : "") +
                             " -- \"$p\"");
        }
        for (auto& l : at.fix_lines("p")) change.push_back(l);
        act.summary = "touch " + path + (desc.empty() ? "" : " (" + desc + ")");
        act.ok_reason = path + " exists" + (desc.empty() ? "" : " with " + desc);
        act.change_text = "touch " + path;
    } else {  // file: must already exist; only attributes are managed (as in Ansible)
        probe.push_back("if [ ! -e \"$p\" ]; then echo \"file: $p does not exist (use state: touch "
                        "or copy to create it)\" >&2; exit 2; fi");
        probe.push_back("if [ -d \"$p\" ]; then echo \"file: $p is a directory, not a file\" >&2; exit 2; fi");
        for (auto& l : at.probe_lines("p")) probe.push_back(l);
        if (!at.empty()) act.stat_paths.push_back(path);
        for (auto& l : at.fix_lines("p")) change.push_back(l);
        if (at.empty()) change.clear();
        act.summary = "file " + path + (desc.empty() ? "" : " (" + desc + ")");
        act.ok_reason = path + " exists" + (desc.empty() ? "" : " with " + desc);
        act.change_text = desc.empty() ? "" : "~ " + path + " " + desc;
    }
    if (!probe.empty()) act.probe = subshell(probe);
    if (!change.empty()) act.change = subshell(change);
    return act;
}

}  // namespace decamp::modules
