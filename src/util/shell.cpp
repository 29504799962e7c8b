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
