// The filters that compute a value from their input and arguments alone (no scope, no
// secrets revealed, no budget beyond the caller's): the parser (expr.cpp) applies them and
// gives the result the input's provenance. Filters that need the parser's state (default,
// join, replace, int, first/last, length) stay there.
#include <cctype>

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

// The tests that look at a defined value only (defined/undefined are the parser's).
std::optional<bool> value_test(std::string_view test, const Value& v) {
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
