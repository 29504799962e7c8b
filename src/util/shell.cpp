#include "util/shell.hpp"

#include <openssl/evp.h>

#include <algorithm>

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
    // OpenSSL's encoder (no line breaks); its length is an int, so large input goes in
    // chunks of a multiple of 3 bytes, which encode without padding in between.
    constexpr size_t kChunk = size_t(3) << 20;
    std::string out(4 * ((data.size() + 2) / 3), '\0');
    size_t at = 0;
    for (size_t i = 0; i < data.size(); i += kChunk) {
        size_t n = std::min(kChunk, data.size() - i);
        // EVP_EncodeBlock writes a terminating NUL; the last chunk's lands on out's own.
        at += size_t(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at),
                                     reinterpret_cast<const unsigned char*>(data.data() + i), int(n)));
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
