#include "util/text.hpp"

#include <cctype>
#include <cstdio>

namespace decamp::util {

std::string trim(std::string_view s, std::string_view chars) {
    size_t a = s.find_first_not_of(chars);
    if (a == std::string_view::npos) return "";
    size_t b = s.find_last_not_of(chars);
    return std::string(s.substr(a, b - a + 1));
}

std::string trim_right(std::string_view s, std::string_view chars) {
    size_t b = s.find_last_not_of(chars);
    return b == std::string_view::npos ? "" : std::string(s.substr(0, b + 1));
}

bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        unsigned cp = 0, min = 0;
        if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07, min = 0x10000;
        else return false;  // a continuation byte without a lead, or 0xF8..0xFF
        if (i + len > s.size()) return false;
        for (size_t k = 1; k < len; ++k) {
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

std::string printable(std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += char(c);
        }
    }
    return out;
}

std::string human_bytes(uint64_t b) {
    char buf[32];
    if (b >= (1ull << 30)) snprintf(buf, sizeof buf, "%.1f GiB", double(b) / (1ull << 30));
    else if (b >= (1ull << 20)) snprintf(buf, sizeof buf, "%.1f MiB", double(b) / (1ull << 20));
    else if (b >= 1024) snprintf(buf, sizeof buf, "%.1f KiB", double(b) / 1024);
    else snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
    return buf;
}

std::string percent_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

}  // namespace decamp::util
