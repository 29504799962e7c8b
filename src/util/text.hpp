// Small text helpers: UTF-8 validity, and the tail of a command's output for error messages.
#pragma once

#include <string>
#include <string_view>

namespace decamp::util {

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF): what JSON
// text may carry as is.
bool valid_utf8(std::string_view s);

// The last `n` bytes of a command's output for an error message, trailing blanks removed;
// "(no output)" when nothing is left.
inline std::string output_tail(const std::string& s, size_t n = 1500) {
    std::string t = s.size() > n ? "…" + s.substr(s.size() - n) : s;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    return t.empty() ? "(no output)" : t;
}

}  // namespace decamp::util
