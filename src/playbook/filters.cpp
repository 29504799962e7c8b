// The filters that compute a value from their input and arguments alone (no scope, no
// secrets revealed, no budget beyond the caller's): the parser (expr.cpp) applies them and
// gives the result the input's provenance. Filters that need the parser's state (default,
// join, replace, int, first/last, length) stay there.
#include <algorithm>
#include <cctype>
#include <cstdint>

#include "playbook/expr_detail.hpp"
#include "util/regex.hpp"
#include "util/shell.hpp"

namespace decamp::tmpl::detail {

std::optional<Value> text_filter(std::string_view name, const Value& in, const std::vector<Value>& args) {
    const std::string s = in.to_text();
    if (name == "lower" || name == "upper") {
        std::string out = s;
        for (auto& c : out)
            c = static_cast<char>(name == "lower" ? tolower(static_cast<unsigned char>(c))
                                                  : toupper(static_cast<unsigned char>(c)));
        return Value::string(out);
    }
    if (name == "quote") return Value::string(shell::quote(s));
    if (name == "b64encode") return Value::string(shell::base64(s));
    if (name == "trim") {
        size_t a = s.find_first_not_of(" \t\r\n");
        size_t b = s.find_last_not_of(" \t\r\n");
        return Value::string(a == std::string::npos ? "" : s.substr(a, b - a + 1));
    }
    if (name == "string") return Value::string(s);
    if (name == "bool") {
        std::string l = s;
        for (auto& c : l) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
        return Value::boolean(l == "true" || l == "yes" || l == "on" || l == "1");
    }
    if (name == "list") {
        if (in.is_list()) return in;
        Value out = Value::list();
        if (in.is_map())
            for (const auto& [k, x] : in.entries()) out.push(Value::string(k));
        else
            for (char c : s) out.push(Value::string(std::string(1, c)));
        return out;
    }
    if (name == "basename" || name == "dirname") {
        const size_t slash = s.rfind('/');
        if (name == "basename") return Value::string(slash == std::string::npos ? s : s.substr(slash + 1));
        if (slash == std::string::npos) return Value::string("");
        return Value::string(slash == 0 ? "/" : s.substr(0, slash));
    }
    if (name == "version_compare")
        return Value::boolean(
            version_compare(s, args.at(0).to_text(), args.size() > 1 ? args[1].to_text() : "=="));
    if (name == "regex_search") {
        // The first match (Ansible: None when nothing matches; here the empty string, which
        // tests false the same way).
        const util::Regex re(args.empty() ? "" : args[0].to_text());
        std::vector<std::string> groups;
        if (!re.search(s, &groups) || groups.empty()) return Value::string("");
        return Value::string(groups[0]);
    }
    return std::nullopt;
}

namespace {

// One part of a LooseVersion: a number, or text (a run of a-z, or of anything else but '.').
struct Part {
    bool number;
    int64_t n;
    std::string text;
};

std::vector<Part> version_parts(const std::string& s) {
    std::vector<Part> out;
    auto kind = [](char c) {
        if (isdigit(static_cast<unsigned char>(c))) return 0;
        if (c >= 'a' && c <= 'z') return 1;
        return c == '.' ? 3 : 2;
    };
    for (size_t i = 0; i < s.size();) {
        const int k = kind(s[i]);
        size_t j = i;
        while (j < s.size() && kind(s[j]) == k && (k != 3 || j == i)) ++j;
        const std::string piece = s.substr(i, j - i);
        if (k == 0) {
            int64_t n = 0;
            for (char c : piece) n = n > INT64_MAX / 10 - 10 ? n : n * 10 + (c - '0');
            out.push_back(Part{true, n, piece});
        } else if (k != 3) {
            out.push_back(Part{false, 0, piece});
        }
        i = j;
    }
    return out;
}

int compare_versions(const std::string& a, const std::string& b) {
    const auto x = version_parts(a), y = version_parts(b);
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
        // Python 3 cannot order a number and text; a number sorts first here (1.0 < 1.a).
        if (x[i].number != y[i].number) return x[i].number ? -1 : 1;
        if (x[i].number && x[i].n != y[i].n) return x[i].n < y[i].n ? -1 : 1;
        if (!x[i].number && x[i].text != y[i].text) return x[i].text < y[i].text ? -1 : 1;
    }
    return x.size() == y.size() ? 0 : x.size() < y.size() ? -1 : 1;
}

}  // namespace

bool version_compare(const std::string& a, const std::string& b, const std::string& op) {
    const int c = compare_versions(a, b);
    if (op == "<" || op == "lt") return c < 0;
    if (op == "<=" || op == "le") return c <= 0;
    if (op == ">" || op == "gt") return c > 0;
    if (op == ">=" || op == "ge") return c >= 0;
    if (op == "==" || op == "=" || op == "eq") return c == 0;
    if (op == "!=" || op == "<>" || op == "ne") return c != 0;
    throw Error("unknown version operator \"" + op +
                "\"; expected <, lt, <=, le, >, gt, >=, ge, ==, =, eq, !=, <>, ne");
}

int compare(const Value& a, const Value& b) {
    if (a.kind() == Value::Kind::Int && b.kind() == Value::Kind::Int)
        return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
    std::string x = a.to_text(), y = b.to_text();
    return x < y ? -1 : x > y;
}
bool loosely_equal(const Value& a, const Value& b) {
    if (a.kind() == b.kind()) return a == b;
    if (a.is_scalar() && b.is_scalar()) return a.to_text() == b.to_text();
    return false;
}
bool contains(const Value& hay, const Value& needle) {
    if (hay.is_list()) {
        for (const auto& i : hay.items())
            if (loosely_equal(i, needle)) return true;
        return false;
    }
    if (hay.is_map()) return hay.get(needle.to_text()) != nullptr;
    return hay.to_text().find(needle.to_text()) != std::string::npos;
}

// The tests that look at a defined value only (defined/undefined are the parser's).
std::optional<bool> value_test(std::string_view test, const Value& v, const std::vector<Value>& args) {
    if (test == "version" || test == "version_compare")
        return version_compare(v.to_text(), args.at(0).to_text(), args.size() > 1 ? args[1].to_text() : "==");
    auto field = [&](const char* k) {
        const Value* f = v.get(k);
        return f && f->truthy();
    };
    if (test == "none") return v.is_null();
    if (test == "string") return v.is_string();
    if (test == "number") return v.kind() == Value::Kind::Int;
    if (test == "mapping") return v.is_map();
    if (test == "iterable" || test == "sequence") return v.is_list() || v.is_map() || v.is_string();
    if (test == "changed") return field("changed");
    if (test == "failed") return field("failed");
    if (test == "skipped") return field("skipped");
    if (test == "succeeded" || test == "success") return !field("failed");
    // Ansible's `is true` / `is false`: the boolean itself, not a truthy value.
    if (test == "true") return v.kind() == Value::Kind::Bool && v.as_bool();
    if (test == "false") return v.kind() == Value::Kind::Bool && !v.as_bool();
    return std::nullopt;
}

}  // namespace decamp::tmpl::detail
