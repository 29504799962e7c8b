// Small text helpers shared by the data movers and their messages.
#pragma once

#include <string>

namespace decamp::util {

// The last `n` bytes of a command's output for an error message, trailing blanks removed;
// "(no output)" when nothing is left.
inline std::string output_tail(const std::string& s, size_t n = 1500) {
    std::string t = s.size() > n ? "…" + s.substr(s.size() - n) : s;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    return t.empty() ? "(no output)" : t;
}

// `s` without leading and trailing blanks (spaces, tabs, CR, LF).
inline std::string trim(const std::string& s) {
    size_t a = s.find_first_not_of(" \t\r\n");
    if (a == std::string::npos) return "";
    size_t b = s.find_last_not_of(" \t\r\n");
    return s.substr(a, b - a + 1);
}

}  // namespace decamp::util
