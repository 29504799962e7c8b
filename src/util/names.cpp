#include "util/names.hpp"

#include <arpa/inet.h>

#include <cctype>

namespace decamp::names {

namespace {

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

bool valid_ip(const std::string& s) {
    unsigned char buf[16];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// Host name labels (no trailing dot required); all-numeric is a broken IP, not a name.
bool valid_hostname(const std::string& s) {
    std::string n = !s.empty() && s.back() == '.' ? s.substr(0, s.size() - 1) : s;
    if (n.empty() || n.size() > 253) return false;
    bool all_numeric = true;
    size_t start = 0;
    while (true) {
        size_t dot = n.find('.', start);
        std::string label = n.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        for (char c : label) {
            if (!alnum(c) && c != '-' && c != '_') return false;
            if (!std::isdigit(static_cast<unsigned char>(c))) all_numeric = false;
        }
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return !all_numeric;
}

}  // namespace

std::string check_unit(const std::string& s) {
    const char* want = "expected a systemd unit name (letters, digits, ':', '_', '.', '@', '\\', '-'; not starting with '-' or '.')";
    if (s.empty() || s.size() > 255 || s[0] == '-' || s[0] == '.') return want;
    for (char c : s)
        if (!alnum(c) && c != ':' && c != '_' && c != '.' && c != '@' && c != '\\' && c != '-') return want;
    return "";
}

std::string check_abs_path(const std::string& s) {
    if (s.empty() || s[0] != '/' || s == "/") return "expected an absolute path other than /";
    if (s.size() > 4096) return "expected a path of at most 4096 bytes";
    for (char c : s)
        if (control(c)) return "expected a path without control characters (newline, tab, NUL, ...)";
    if (s.back() == '/') return "expected a path without a trailing '/'";
    size_t start = 1;
    while (start <= s.size()) {
        size_t slash = s.find('/', start);
        if (slash == std::string::npos) slash = s.size();
        std::string part = s.substr(start, slash - start);
        if (part.empty()) return "expected a normalized path (no \"//\")";
        if (part == "." || part == "..") return "expected a normalized path (no \".\" or \"..\" component)";
        start = slash + 1;
    }
    return "";
}

std::string check_pg_name(const std::string& s) {
    const char* want = "expected a PostgreSQL name: a letter or '_', then letters, digits, '_', '-' or '$' (at most 63 bytes)";
    if (s.empty() || s.size() > 63 || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return want;
    for (char c : s)
        if (!alnum(c) && c != '_' && c != '-' && c != '$') return want;
    return "";
}

std::string check_fqdn(const std::string& s) {
    if (s.empty() || s.back() != '.') return "expected a fully qualified name ending in '.', e.g. www.example.com.";
    if (s == ".") return "";
    std::string n = s.substr(0, s.size() - 1);
    if (n.rfind("*.", 0) == 0) n = n.substr(2);
    if (!valid_hostname(n + ".") && !(n.find_first_not_of("0123456789.") == std::string::npos && !n.empty() && valid_hostname("x." + n)))
        return "expected a DNS name: labels of letters, digits, '-' and '_' (1 to 63 each, not starting or ending with '-')";
    return "";
}

std::string check_host_port(const std::string& s) {
    const char* want = "expected a host name or IP address, optionally with :port";
    std::string host = s, port;
    if (!s.empty() && s[0] == '[') {
        size_t close = s.find(']');
        if (close == std::string::npos) return want;
        host = s.substr(1, close - 1);
        if (close + 1 < s.size()) {
            if (s[close + 1] != ':') return want;
            port = s.substr(close + 2);
            if (port.empty()) return want;
        }
        if (!valid_ip(host)) return want;
    } else if (size_t colon = s.find(':'); colon != std::string::npos && s.find(':', colon + 1) == std::string::npos) {
        host = s.substr(0, colon);
        port = s.substr(colon + 1);
        if (port.empty()) return want;
    }
    if (!port.empty()) {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return want;
        int p = std::stoi(port);
        if (p < 1 || p > 65535) return want;
    }
    if (!valid_ip(host) && !valid_hostname(host)) return want;
    return "";
}

std::string check_user(const std::string& s) {
    const char* want = "expected a user name: letters, digits, '.', '_', '-' (not first), at most 32";
    if (s.empty() || s.size() > 32 || s[0] == '-' || s[0] == '.') return want;
    for (char c : s)
        if (!alnum(c) && c != '.' && c != '_' && c != '-') return want;
    return "";
}

std::string check_name(const std::string& s) {
    const char* want = "names may use letters, digits, '-', '_' and '.', starting with a letter, digit or '_' (at most 64)";
    if (s.empty() || s.size() > 64 || !(alnum(s[0]) || s[0] == '_')) return want;
    for (char c : s)
        if (!alnum(c) && c != '-' && c != '_' && c != '.') return want;
    return "";
}

std::string check_address(const std::string& s) {
    if (valid_ip(s) || valid_hostname(s)) return "";
    return "expected an IP address or host name, e.g. 198.18.1.11 or web1.example.net";
}

std::string check_http_url(const std::string& s) {
    size_t scheme = s.rfind("https://", 0) == 0 ? 8 : s.rfind("http://", 0) == 0 ? 7 : 0;
    if (!scheme) return "expected an http:// or https:// URL";
    // Outside {{ … }}, no whitespace, control characters, quotes or backslashes.
    int depth = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s.compare(i, 2, "{{") == 0) { ++depth; ++i; continue; }
        if (depth && s.compare(i, 2, "}}") == 0) { --depth; ++i; continue; }
        if (control(s[i])) return "expected a URL without control characters";
        if (!depth && (std::isspace(static_cast<unsigned char>(s[i])) || s[i] == '"' || s[i] == '\'' || s[i] == '\\'))
            return "expected a URL without spaces, quotes or backslashes (percent-encode them)";
    }
    std::string rest = s.substr(scheme);
    std::string authority = rest.substr(0, rest.find_first_of("/?#"));
    if (authority.empty()) return "expected a host after " + s.substr(0, scheme);
    if (authority.find('@') != std::string::npos) return "expected a URL without user:password@ (credentials belong in secrets)";
    if (authority.find("{{") == std::string::npos) {
        if (auto e = check_host_port(authority); !e.empty()) return "URL host \"" + authority + "\": " + e;
    }
    return "";
}

}  // namespace decamp::names
