// copy / template: a file with exactly this content. The planner has already read `src:`
// (or rendered the template) into `content`; `_src` names the original for messages.
// The probe compares the host's sha256sum with the digest computed here, then attributes.
#include "modules/args.hpp"
#include "modules/attrs.hpp"
#include "modules/builtin.hpp"
#include "util/sha256.hpp"
#include "util/shell.hpp"

namespace decamp::modules {

// Bytes of the current file shown in a diff; larger files are compared by checksum only.
constexpr const char* kDiffLimit = "1048576";

Action plan_copy(const std::string& module, const Value& args) {
    Args a(args);
    const std::string dest = a.required_str("dest");
    require_absolute_path("dest", dest);
    if (a.flag("backup", false))
        throw ArgError("backup", "backup: true is not supported (expected false or absent)");
    if (!a.has("content")) {
        if (a.has("src"))
            throw ArgError("src", "was not resolved into content by the planner");
        throw ArgError("content", "is required (or src)");
    }
    const Value* cv = args.get("content");
    if (!cv->is_scalar()) throw ArgError("content", "expected a string");
    const std::string content = cv->kind() == Value::Kind::String ? cv->as_string() : cv->to_text();
    const bool force = a.flag("force", true);
    const FileAttrs at = read_attrs(a);
    const std::string origin = a.str("_src", a.str("src", ""));

    const std::string q = shell::quote(dest);
    const std::string hash = util::sha256_hex(content);
    Action act;
    std::vector<std::string> probe{"d=" + q};
    probe.push_back("if [ -d \"$d\" ]; then echo \"" + module +
                    ": $d is a directory (dest must name the file)\" >&2; exit 2; fi");
    probe.push_back("[ -e \"$d\" ] || exit 1");
    if (force) {
        // sha256sum escapes odd names with a leading backslash.
        probe.push_back("case \"$(${__dch:-sha256sum} -- \"$d\")\" in " + hash + "*|\\\\" + hash + "*) ;; *) exit 1;; esac");
        for (auto& l : at.probe_lines("d")) probe.push_back(l);
        act.hash_paths.push_back(dest);
        if (!at.empty()) act.stat_paths.push_back(dest);
    }
    act.probe = subshell(probe);

    std::string write = shell::write_file_atomic(dest, content, at.mode, at.owner, at.group);
    if (force) {
        act.change = write;
    } else {
        // force: false only creates a missing file; an existing one is left alone.
        act.change = "[ -e " + q + " ] || { " + write + "; }";
    }
    act.diff_path = dest;
    act.current_cmd = "if [ -f " + q + " ]; then head -c " + kDiffLimit + " -- " + q + "; fi";
    // A copy per call: the lambda may run for every diff shown.
    act.desired = [content](const std::string&) { return content; };  // NOLINT(performance-no-automatic-move)
    const std::string desc = at.describe();
    act.summary = module + " " + (origin.empty() ? "" : origin + " -> ") + dest +
                  (desc.empty() ? "" : " (" + desc + ")");
    act.ok_reason = force ? dest + " has the expected content (sha256 " + hash.substr(0, 12) + ")" +
                                (desc.empty() ? "" : " and " + desc)
                          : dest + " exists (force: false)";
    act.change_text = "write " + dest + " (" + std::to_string(content.size()) + " bytes" +
                      (desc.empty() ? "" : ", " + desc) + ")";
    return act;
}

}  // namespace decamp::modules
