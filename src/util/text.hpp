// Small text helpers: trimming, UTF-8 validity, and the tail of a command's output for
// error messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace decamp::util {

// ASCII whitespace as the shell and most tools print it.
inline constexpr std::string_view kBlanks = " \t\r\n\v\f";

// `s` without leading and trailing `chars` (whitespace unless told).
std::string trim(std::string_view s, std::string_view chars = kBlanks);
// `s` without trailing `chars`: command output whose leading blanks mean something.
std::string trim_right(std::string_view s, std::string_view chars = kBlanks);

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF): what JSON
// text may carry as is.
bool valid_utf8(std::string_view s);

// `s` safe to print on a terminal: control characters (ESC included, so a host's output
// cannot move the cursor or retitle the window) shown as \xNN; tabs and UTF-8 kept.
std::string printable(std::string_view s);

// "512 B", "1.5 KiB", "12.0 MiB", "3.2 GiB": sizes in messages and reports.
std::string human_bytes(uint64_t bytes);

// RFC 3986 percent-encoding: every byte but letters, digits and -._~ as %XX (form values,
// and the URL-encoded form of a secret the masker also looks for).
std::string percent_encode(std::string_view s);

// The last `n` bytes of a command's output for an error message, trailing blanks removed;
// "(no output)" when nothing is left.
inline std::string output_tail(const std::string& s, size_t n = 1500) {
    std::string t = trim_right(s.size() > n ? "…" + s.substr(s.size() - n) : s, "\n ");
    return t.empty() ? "(no output)" : t;
}

}  // namespace decamp::util
