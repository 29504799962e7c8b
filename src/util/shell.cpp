#include "util/shell.hpp"

namespace decamp::shell {

static bool is_safe(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == '/' || c == ':' || c == '=' || c == '+' ||
           c == ',' || c == '@' || c == '%';
}

std::string quote(std::string_view word) {
    if (word.empty()) return "''";
    bool safe = true;
    for (char c : word) safe = safe && is_safe(c);
    // A leading '-' or '=' is fine for the shell; callers put `--` where a program needs it.
    if (safe) return std::string(word);
    std::string out = "'";
    for (char c : word) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    out += "'";
    return out;
}

std::string join(const Argv& argv) {
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) out += ' ';
        out += quote(a);
    }
    return out;
}

static std::string join_with(const std::vector<std::string>& parts, const char* sep) {
    std::string out;
    for (const auto& p : parts) {
        if (p.empty()) continue;
        if (!out.empty()) out += sep;
        out += p;
    }
    return out;
}

std::string all_of(std::initializer_list<std::string> parts) {
    return join_with(std::vector<std::string>(parts), " && ");
}
std::string all_of(const std::vector<std::string>& parts) { return join_with(parts, " && "); }
std::string any_of(std::initializer_list<std::string> parts) {
    return join_with(std::vector<std::string>(parts), " || ");
}
std::string seq(const std::vector<std::string>& parts) { return join_with(parts, "\n"); }
std::string negate(const std::string& cmd) { return "! " + cmd; }
std::string group(const std::string& cmd) { return "{ " + cmd + "; }"; }
std::string silent(const std::string& cmd) { return cmd + " >/dev/null 2>&1"; }

std::string base64(std::string_view data) {
    static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < data.size(); i += 3) {
        unsigned v = (unsigned char)data[i] << 16 | (unsigned char)data[i + 1] << 8 |
                     (unsigned char)data[i + 2];
        out += tbl[v >> 18 & 63];
        out += tbl[v >> 12 & 63];
        out += tbl[v >> 6 & 63];
        out += tbl[v & 63];
    }
    if (i + 1 == data.size()) {
        unsigned v = (unsigned char)data[i] << 16;
        out += tbl[v >> 18 & 63];
        out += tbl[v >> 12 & 63];
        out += "==";
    } else if (i + 2 == data.size()) {
        unsigned v = (unsigned char)data[i] << 16 | (unsigned char)data[i + 1] << 8;
        out += tbl[v >> 18 & 63];
        out += tbl[v >> 12 & 63];
        out += tbl[v >> 6 & 63];
        out += '=';
    }
    return out;
}

std::string write_file_atomic(const std::string& path, std::string_view content,
                              const std::string& mode, const std::string& owner,
                              const std::string& group) {
    // The temp name lives beside the target so the final mv is a rename on one filesystem;
    // $$ keeps two concurrent writers apart. On any failure the temp file is removed.
    // - `dirname; echo .` then `${t%??}` keeps a directory name that ends in a newline intact.
    // - The temp file is created under umask 077, so secret content is never readable by
    //   others, not even for a moment; the final mode is set before the rename.
    // - Without an explicit mode/owner/group an existing target keeps its own (as Ansible's
    //   atomic_move does); a new file gets 0666 & ~umask and the caller's ownership.
    // - mv -T refuses to move the file *into* a directory that sits at `path`.
    const std::string q = quote(path);
    std::vector<std::string> steps;
    steps.push_back("(umask 077 && printf '%s' " + quote(base64(content)) +
                    " | base64 -d > \"$t\")");
    if (!mode.empty())
        steps.push_back("chmod " + quote(mode) + " \"$t\"");
    else
        steps.push_back("if [ -e " + q + " ]; then chmod --reference=" + q +
                        " \"$t\"; else chmod \"$(printf %o $((0666 & ~$(umask))))\" \"$t\"; fi");
    if (owner.empty() || group.empty())
        steps.push_back("{ [ ! -e " + q + " ] || chown --reference=" + q + " \"$t\" 2>/dev/null || :; }");
    if (!owner.empty() || !group.empty())
        steps.push_back("chown " + quote(owner + (group.empty() ? "" : ":" + group)) + " \"$t\"");
    steps.push_back("mv -fT -- \"$t\" " + q);
    return "t=\"$(dirname -- " + q + "; echo .)\" && t=\"${t%??}/.decamp.$$.tmp\" && { " +
           all_of(steps) + "; } || { rm -f -- \"$t\"; false; }";
}

std::string become(const std::string& script, const std::string& become_user) {
    Argv argv{"sudo", "-n"};
    if (!become_user.empty() && become_user != "root") {
        argv.push_back("-u");
        argv.push_back(become_user);
    }
    argv.insert(argv.end(), {"--", "sh", "-c", script});
    return join(argv);
}

}  // namespace decamp::shell
