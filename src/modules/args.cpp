#include "modules/args.hpp"

#include <algorithm>

namespace decamp::modules {

namespace {

std::string kind_name(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::Null: return "null";
        case Value::Kind::Bool: return "a boolean";
        case Value::Kind::Int: return "an integer";
        case Value::Kind::String: return "a string";
        case Value::Kind::List: return "a list";
        case Value::Kind::Map: return "a map";
        case Value::Kind::Secret: return "a secret";
    }
    return "?";
}

std::optional<bool> parse_bool(const std::string& s) {
    std::string l;
    for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (l == "true" || l == "yes" || l == "on" || l == "1" || l == "y") return true;
    if (l == "false" || l == "no" || l == "off" || l == "0" || l == "n") return false;
    return std::nullopt;
}

}  // namespace

bool Args::has(const std::string& key) const {
    const Value* v = args_.get(key);
    return v && !v->is_null();
}

std::string Args::which(std::initializer_list<const char*> keys) const {
    for (const char* k : keys)
        if (has(k)) return k;
    return "";
}

std::optional<std::string> Args::str(const std::string& key) const {
    const Value* v = args_.get(key);
    if (!v || v->is_null()) return std::nullopt;
    switch (v->kind()) {
        case Value::Kind::String:
        case Value::Kind::Secret: return v->as_string();
        case Value::Kind::Bool:
        case Value::Kind::Int: return v->to_text();
        default: throw ArgError(key, "expected a string, got " + kind_name(*v));
    }
}

std::string Args::str(const std::string& key, const std::string& fallback) const {
    auto s = str(key);
    return s ? *s : fallback;
}

std::string Args::required_str(const std::string& key) const {
    auto s = str(key);
    if (!s || s->empty()) throw ArgError(key, "is required (expected a non-empty string)");
    return *s;
}

std::optional<bool> Args::opt_flag(const std::string& key) const {
    const Value* v = args_.get(key);
    if (!v || v->is_null()) return std::nullopt;
    if (v->kind() == Value::Kind::Bool) return v->as_bool();
    if (v->kind() == Value::Kind::Int && (v->as_int() == 0 || v->as_int() == 1))
        return v->as_int() == 1;
    if (v->kind() == Value::Kind::String)
        if (auto b = parse_bool(v->as_string())) return b;
    throw ArgError(key, "expected a boolean (true/false, yes/no), got " +
                            (v->is_scalar() ? "'" + v->to_text() + "'" : kind_name(*v)));
}

bool Args::flag(const std::string& key, bool fallback) const {
    auto b = opt_flag(key);
    return b ? *b : fallback;
}

std::optional<int64_t> Args::integer(const std::string& key, int64_t min, int64_t max) const {
    const Value* v = args_.get(key);
    if (!v || v->is_null()) return std::nullopt;
    int64_t n = 0;
    if (v->kind() == Value::Kind::Int) {
        n = v->as_int();
    } else if (v->kind() == Value::Kind::String) {
        const std::string& s = v->as_string();
        bool ok = !s.empty() && s.size() <= 18 &&
                  std::all_of(s.begin() + (s[0] == '-' ? 1 : 0), s.end(),
                              [](char c) { return c >= '0' && c <= '9'; }) &&
                  s != "-";
        if (!ok) throw ArgError(key, "expected an integer, got '" + s + "'");
        n = std::stoll(s);
    } else {
        throw ArgError(key, "expected an integer, got " + kind_name(*v));
    }
    if (n < min || n > max)
        throw ArgError(key, "expected an integer from " + std::to_string(min) + " to " +
                                std::to_string(max) + ", got " + std::to_string(n));
    return n;
}

std::optional<std::vector<std::string>> Args::list(const std::string& key) const {
    const Value* v = args_.get(key);
    if (!v || v->is_null()) return std::nullopt;
    std::vector<std::string> out;
    if (v->is_list()) {
        for (const auto& item : v->items()) {
            if (!item.is_scalar()) throw ArgError(key, "expected a list of strings");
            out.push_back(item.kind() == Value::Kind::Secret ? item.as_string() : item.to_text());
        }
        return out;
    }
    if (v->kind() == Value::Kind::String || v->kind() == Value::Kind::Int) {
        std::string s = v->to_text(), cur;
        for (char c : s) {
            if (c == ',') {
                if (!cur.empty()) out.push_back(cur);
                cur.clear();
            } else if (c != ' ') {
                cur += c;
            }
        }
        if (!cur.empty()) out.push_back(cur);
        return out;
    }
    throw ArgError(key, "expected a list or a comma-separated string, got " + kind_name(*v));
}

std::string Args::choice(const std::string& key, std::initializer_list<const char*> choices,
                         const std::string& fallback) const {
    auto s = str(key);
    if (!s) return fallback;
    std::string all;
    for (const char* c : choices) {
        if (*s == c) return *s;
        all += all.empty() ? "" : ", ";
        all += c;
    }
    throw ArgError(key, "expected one of " + all + ", got '" + *s + "'");
}

std::optional<std::string> Args::mode(const std::string& key) const {
    const Value* v = args_.get(key);
    if (!v || v->is_null()) return std::nullopt;
    std::string digits;
    if (v->kind() == Value::Kind::Int) {
        if (v->as_int() < 0) throw ArgError(key, "expected an octal mode such as '0644'");
        digits = std::to_string(v->as_int());
    } else if (v->kind() == Value::Kind::String) {
        digits = v->as_string();
    } else {
        throw ArgError(key, "expected an octal mode such as '0644', got " + kind_name(*v));
    }
    bool ok = !digits.empty() && std::all_of(digits.begin(), digits.end(),
                                             [](char c) { return c >= '0' && c <= '7'; });
    std::string trimmed = digits;
    while (trimmed.size() > 1 && trimmed[0] == '0') trimmed.erase(0, 1);
    if (!ok || trimmed.size() > 4)
        throw ArgError(key, "expected an octal mode such as '0644' (symbolic modes are not "
                            "supported), got '" + digits + "'");
    while (trimmed.size() < 4) trimmed.insert(0, "0");
    return trimmed;
}

void Args::check_keys(const std::vector<std::string>& allowed) const {
    if (!args_.is_map()) {
        if (args_.is_null()) return;
        throw ArgError("", "expected a map of arguments");
    }
    for (const auto& [k, v] : args_.entries()) {
        (void)v;
        if (!k.empty() && k[0] == '_') continue;
        if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
            std::string all;
            for (const auto& a : allowed) all += (all.empty() ? "" : ", ") + a;
            throw ArgError(k, "unsupported argument (expected one of: " + all + ")");
        }
    }
}

void require_absolute_path(const std::string& key, const std::string& path) {
    if (path.empty() || path[0] != '/')
        throw ArgError(key, "expected an absolute path, got '" + path + "'");
    if (path.find('\0') != std::string::npos) throw ArgError(key, "path contains a NUL byte");
}

namespace {
bool has_nul(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::String: return v.as_string().find('\0') != std::string::npos;
        case Value::Kind::List:
            for (const auto& i : v.items())
                if (has_nul(i)) return true;
            return false;
        case Value::Kind::Map:
            for (const auto& [k, i] : v.entries())
                if (k.find('\0') != std::string::npos || has_nul(i)) return true;
            return false;
        default: return false;
    }
}
}  // namespace

void require_no_nul(const Value& args) {
    if (!args.is_map()) {
        if (has_nul(args)) throw ArgError("", "an argument contains a NUL byte");
        return;
    }
    for (const auto& [k, v] : args.entries())
        if (k.find('\0') != std::string::npos || has_nul(v))
            throw ArgError(k, "contains a NUL byte");
}

void require_no_newline(const std::string& key, const std::string& value) {
    if (value.find_first_of("\n\r") != std::string::npos || value.find('\0') != std::string::npos)
        throw ArgError(key, "must not contain newlines or NUL bytes");
}

void require_simple_name(const std::string& key, const std::string& value, const char* what) {
    auto word = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    };
    bool ok = !value.empty() && value.size() <= 255 && word(value[0]);
    for (char c : value)
        ok = ok && (word(c) || c == '.' || c == '@' || c == ':' || c == '+' || c == '-' ||
                    c == '$' || c == '\\');
    if (!ok) throw ArgError(key, std::string("expected ") + what + ", got '" + value + "'");
}

std::string stat_mode(const std::string& octal_mode) {
    std::string s = octal_mode;
    while (s.size() > 1 && s[0] == '0') s.erase(0, 1);
    return s;
}

std::string subshell(const std::vector<std::string>& lines) {
    std::string out = "(\n";
    for (const auto& l : lines) {
        if (l.empty()) continue;
        out += l;
        out += '\n';
    }
    return out + ")";
}

}  // namespace decamp::modules
