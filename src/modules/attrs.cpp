#include "modules/attrs.hpp"

#include <algorithm>

#include "modules/args.hpp"
#include "util/shell.hpp"

namespace decamp::modules {

namespace {
bool numeric(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

void check_owner(const std::string& key, const std::string& value) {
    if (numeric(value)) return;
    require_simple_name(key, value, "a user or group name or a numeric id");
}

FileAttrs read_attrs(const Args& a) {
    FileAttrs at;
    if (auto m = a.mode("mode")) at.mode = *m;
    at.owner = a.str("owner", "");
    at.group = a.str("group", "");
    if (!at.owner.empty()) check_owner("owner", at.owner);
    if (!at.group.empty()) check_owner("group", at.group);
    return at;
}

std::vector<std::string> FileAttrs::probe_lines(const std::string& var, bool follow) const {
    // One stat call for every attribute asked (each exec costs on the host).
    std::string fmt, want;
    auto add = [&](const char* f, const std::string& w) {
        fmt += (fmt.empty() ? "" : " ") + std::string(f);
        want += (want.empty() ? "" : " ") + w;
    };
    if (!mode.empty()) add("%a", stat_mode(mode));
    if (!owner.empty()) add(numeric(owner) ? "%u" : "%U", owner);
    if (!group.empty()) add(numeric(group) ? "%g" : "%G", group);
    if (fmt.empty()) return {};
    // Following links, the call goes through ${__dcs:-stat}: a batch may answer it from the
    // one stat it made up front (engine/script.cpp); alone it is plain stat.
    return {"[ \"$(" + std::string(follow ? "${__dcs:-stat} -L" : "stat") + " -c " + shell::quote(fmt) + " -- \"$" +
            var + "\")\" = " + shell::quote(want) + " ] || exit 1"};
}

std::vector<std::string> FileAttrs::fix_lines(const std::string& var, bool recurse,
                                              bool no_deref) const {
    std::vector<std::string> out;
    const std::string r = recurse ? " -R" : "";
    if (!owner.empty() || !group.empty()) {
        std::string who = owner + (group.empty() ? "" : ":" + group);
        out.push_back("chown" + r + (no_deref ? " -h" : "") + " -- " + shell::quote(who) +
                      " \"$" + var + "\"");
    }
    // chmod after chown: chown clears setuid/setgid bits.
    if (!mode.empty()) out.push_back("chmod" + r + " -- " + shell::quote(mode) + " \"$" + var + "\"");
    return out;
}

std::string FileAttrs::describe() const {
    std::vector<std::string> parts;
    if (!mode.empty()) parts.push_back("mode " + mode);
    if (!owner.empty()) parts.push_back("owner " + owner);
    if (!group.empty()) parts.push_back("group " + group);
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
    return out;
}

}  // namespace decamp::modules
