// The filters that compute a value from their input and arguments alone (no scope, no
// secrets revealed, no budget beyond the caller's): the parser (expr.cpp) applies them and
// gives the result the input's provenance. Filters that need the parser's state (default,
// join, replace, int, first/last, length) stay there.
#include <algorithm>
#include <cctype>
#include <cstdint>

#include "playbook/expr_detail.hpp"
#include "util/json.hpp"
#include "util/regex.hpp"
#include "util/shell.hpp"

namespace decamp::tmpl::detail {

namespace {

// A re.sub replacement template: \\N and \\g<N> for group N, \\n \\t \\r, \\\\ for a backslash.
std::string expand_replacement(const std::string& rep, const std::string& s,
                               const std::vector<std::pair<size_t, size_t>>& g) {
    std::string out;
    auto group = [&](size_t n) {
        if (n >= g.size()) throw Error("regex_replace: no group " + std::to_string(n) + " in the pattern");
        if (g[n].first != std::string::npos) out += s.substr(g[n].first, g[n].second - g[n].first);
    };
    for (size_t i = 0; i < rep.size(); ++i) {
        const char c = rep[i];
        const char e = i + 1 < rep.size() ? rep[i + 1] : '\0';
        if (c != '\\' || e == '\0') {
            out += c;
        } else if (isdigit(static_cast<unsigned char>(e))) {
            size_t n = static_cast<size_t>(e - '0');
            ++i;
            if (i + 1 < rep.size() && isdigit(static_cast<unsigned char>(rep[i + 1])))
                n = n * 10 + static_cast<size_t>(rep[++i] - '0');
            group(n);
        } else if (e == 'g' && i + 2 < rep.size() && rep[i + 2] == '<') {
            const size_t close = rep.find('>', i + 3);
            const std::string n = close == std::string::npos ? "" : rep.substr(i + 3, close - i - 3);
            if (n.empty() || !std::all_of(n.begin(), n.end(),
                                          [](char d) { return isdigit(static_cast<unsigned char>(d)); }))
                throw Error("regex_replace: only numbered groups are supported in \\g<...>");
            group(static_cast<size_t>(std::stoul(n)));
            i = close;
        } else {
            out += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
            if (e != 'n' && e != 't' && e != 'r' && e != '\\') out.insert(out.size() - 1, 1, '\\');
            ++i;
        }
    }
    return out;
}

// Python's json.dumps as Ansible's filters call it: to_json with ", " and ": " between items,
// to_nice_json with `indent` spaces per level and keys sorted. (Non-ASCII text stays UTF-8
// where Python would write \uXXXX: the same JSON value.)
void dump_json(const Value& v, int indent, int depth, std::string& out) {
    const std::string nl = indent > 0 ? "\n" + std::string(size_t(indent) * size_t(depth + 1), ' ') : "";
    const std::string close = indent > 0 ? "\n" + std::string(size_t(indent) * size_t(depth), ' ') : "";
    const std::string sep = indent > 0 ? "," : ", ";
    if (v.is_list()) {
        if (v.items().empty()) return void(out += "[]");
        out += "[";
        for (size_t i = 0; i < v.items().size(); ++i) {
            out += (i ? sep : "") + nl;
            dump_json(v.items()[i], indent, depth + 1, out);
        }
        out += close + "]";
    } else if (v.is_map()) {
        if (v.entries().empty()) return void(out += "{}");
        std::vector<const std::pair<std::string, Value>*> es;
        for (const auto& e : v.entries()) es.push_back(&e);
        if (indent > 0) std::sort(es.begin(), es.end(), [](auto* a, auto* b) { return a->first < b->first; });
        out += "{";
        for (size_t i = 0; i < es.size(); ++i) {
            out += (i ? sep : "") + nl + json::quote(es[i]->first) + ": ";
            dump_json(es[i]->second, indent, depth + 1, out);
        }
        out += close + "}";
    } else {
        out += v.to_json();
    }
}

}  // namespace

std::optional<Value> text_filter(std::string_view name, const Value& in, const std::vector<Value>& args) {
    if (name == "to_json" || name == "to_nice_json") {
        const int indent = name == "to_json" ? 0
                           : !args.empty() && args[0].kind() == Value::Kind::Int
                               ? int(std::clamp<int64_t>(args[0].as_int(), 0, 16))
                               : 4;
        std::string out;
        dump_json(in, indent, 0, out);
        return Value::string(out);
    }
    // dict2items(key_name='key', value_name='value') and back.
    if (name == "dict2items" || name == "items2dict") {
        const std::string kn = !args.empty() ? args[0].to_text() : "key";
        const std::string vn = args.size() > 1 ? args[1].to_text() : "value";
        if (name == "dict2items") {
            if (!in.is_map()) throw Error("dict2items needs a mapping");
            Value out = Value::list();
            for (const auto& [k, v] : in.entries()) {
                Value e = Value::map();
                e.set(kn, Value::string(k));
                e.set(vn, v);
                out.push(e);
            }
            return out;
        }
        if (!in.is_list()) throw Error("items2dict needs a list of mappings");
        Value out = Value::map();
        for (const auto& e : in.items()) {
            const Value* k = e.is_map() ? e.get(kn) : nullptr;
            const Value* v = e.is_map() ? e.get(vn) : nullptr;
            if (!k || !v) throw Error("items2dict: each item needs " + kn + " and " + vn);
            out.set(k->to_text(), *v);
        }
        return out;
    }
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
    if (name == "regex_replace") {
        // Python's re.sub: every match replaced; \\1 and \\g<1> name a group (one that did not
        // take part gives ""); an empty match next to the previous match is replaced too.
        const bool icase = args.size() > 2 && args[2].truthy();
        const util::Regex re((icase ? "(?i)" : "") + (args.empty() ? "" : args[0].to_text()));
        const std::string rep = args.size() > 1 ? args[1].to_text() : "";
        std::vector<std::pair<size_t, size_t>> g;
        std::string out;
        size_t pos = 0, copied = 0;
        while (pos <= s.size() && re.search_at(s, pos, g)) {
            out += s.substr(copied, g[0].first - copied);
            out += expand_replacement(rep, s, g);
            copied = g[0].second;
            pos = g[0].second > g[0].first ? g[0].second : g[0].second + 1;
            if (g[0].second == g[0].first && g[0].first < s.size()) out += s[g[0].first], copied = pos;
        }
        return Value::string(out + (copied < s.size() ? s.substr(copied) : ""));
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

namespace {

constexpr std::string_view kStringMethods[] = {
    "split", "startswith", "endswith",   "strip",   "lstrip", "rstrip", "lower",  "upper", "replace",
    "find",  "rfind",      "splitlines", "isdigit", "count",  "keys",   "values", "items", "get"};

bool is_space(char c) {
    return isspace(static_cast<unsigned char>(c)) != 0;
}

// Python's str.split(): no separator splits on runs of whitespace and drops empty parts.
Value split(const std::string& s, const Value* sep, int64_t max) {
    Value out = Value::list();
    int64_t n = 0;
    if (!sep || sep->is_null()) {
        size_t i = 0;
        while (true) {
            while (i < s.size() && is_space(s[i])) ++i;
            if (i >= s.size()) break;
            size_t j = i;
            if (max >= 0 && n++ >= max) {  // the rest as it is, as Python
                out.push(Value::string(s.substr(i)));
                break;
            }
            while (j < s.size() && !is_space(s[j])) ++j;
            out.push(Value::string(s.substr(i, j - i)));
            i = j;
        }
        return out;
    }
    const std::string d = sep->to_text();
    if (d.empty()) throw Error("split(): empty separator");
    size_t i = 0, j;
    while ((max < 0 || n++ < max) && (j = s.find(d, i)) != std::string::npos) {
        out.push(Value::string(s.substr(i, j - i)));
        i = j + d.size();
    }
    out.push(Value::string(s.substr(i)));
    return out;
}

// startswith/endswith take one string or a list (Python: a tuple) of them.
bool affix(const std::string& s, const Value& what, bool start) {
    if (what.is_list()) {
        for (const auto& w : what.items())
            if (affix(s, w, start)) return true;
        return false;
    }
    const std::string w = what.to_text();
    if (w.size() > s.size()) return false;
    return start ? s.compare(0, w.size(), w) == 0 : s.compare(s.size() - w.size(), w.size(), w) == 0;
}

}  // namespace

bool is_string_method(std::string_view name) {
    for (auto m : kStringMethods)
        if (m == name) return true;
    return false;
}

Value string_method(std::string_view name, const Value& in, const std::vector<Value>& args) {
    // A Python dict's keys(), values(), items() (as [key, value] pairs) and get(key, default).
    if (in.is_map() && (name == "keys" || name == "values" || name == "items" || name == "get")) {
        if (name == "get") {
            if (args.empty()) throw Error("get() needs 1 argument(s)");
            const Value* f = in.get(args[0].to_text());
            return f ? *f : args.size() > 1 ? args[1] : Value();
        }
        Value out = Value::list();
        for (const auto& [k, v] : in.entries())
            out.push(name == "keys"     ? Value::string(k)
                     : name == "values" ? v
                                        : Value::list({Value::string(k), v}));
        return out;
    }
    if (name == "keys" || name == "values" || name == "items" || name == "get")
        throw Error("method " + std::string(name) + "() needs a mapping");
    if (!in.is_scalar())
        throw Error("method " + std::string(name) + "() needs a string, not a list or mapping");
    const std::string s = in.to_text();
    auto need = [&](size_t n) {
        if (args.size() < n)
            throw Error(std::string(name) + "() needs " + std::to_string(n) + " argument(s)");
    };
    auto num = [&](size_t i, int64_t dflt) {
        return i < args.size() && args[i].kind() == Value::Kind::Int ? args[i].as_int() : dflt;
    };
    if (name == "split") return split(s, args.empty() ? nullptr : &args[0], num(1, -1));
    if (name == "splitlines") {
        Value out = Value::list();
        size_t i = 0;
        while (i < s.size()) {
            size_t j = s.find_first_of("\r\n", i);
            if (j == std::string::npos) j = s.size();
            out.push(Value::string(s.substr(i, j - i)));
            i = j + (s.compare(j, 2, "\r\n") == 0 ? 2 : 1);
        }
        return out;
    }
    if (name == "startswith" || name == "endswith") {
        need(1);
        return Value::boolean(affix(s, args[0], name == "startswith"));
    }
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        const std::string chars = args.empty() || args[0].is_null() ? " \t\r\n\v\f" : args[0].to_text();
        size_t a = name == "rstrip" ? 0 : s.find_first_not_of(chars);
        if (a == std::string::npos) return Value::string("");
        size_t b = name == "lstrip" ? s.size() : s.find_last_not_of(chars) + 1;
        return Value::string(s.substr(a, b - a));
    }
    if (name == "lower" || name == "upper") return *text_filter(name, in, {});
    if (name == "isdigit")
        return Value::boolean(!s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
            return isdigit(static_cast<unsigned char>(c));
        }));
    need(1);
    const std::string a0 = args[0].to_text();
    if (name == "find" || name == "rfind") {
        const size_t p = name == "find" ? s.find(a0) : s.rfind(a0);
        return Value::integer(p == std::string::npos ? -1 : static_cast<int64_t>(p));
    }
    if (name == "count") {
        if (a0.empty()) return Value::integer(static_cast<int64_t>(s.size() + 1));
        int64_t n = 0;
        for (size_t p = s.find(a0); p != std::string::npos; p = s.find(a0, p + a0.size())) ++n;
        return Value::integer(n);
    }
    // replace(old, new[, count])
    need(2);
    const std::string to = args[1].to_text();
    int64_t left = num(2, -1);
    std::string out;
    size_t i = 0;
    if (a0.empty()) throw Error("replace(): empty text to replace is not supported");
    for (size_t p; left != 0 && (p = s.find(a0, i)) != std::string::npos; --left) {
        out += s.substr(i, p - i) + to;
        i = p + a0.size();
    }
    return Value::string(out + s.substr(i));
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
    // Python's re.match (anchored at the start), re.search; `regex` is search unless
    // match_type is given (positional here). A second argument is ignorecase.
    if (test == "match" || test == "search" || test == "regex") {
        const bool anchored =
            test == "match" || (test == "regex" && args.size() > 2 && args[2].to_text() == "match");
        const bool icase = args.size() > 1 && args[1].truthy();
        const util::Regex re(std::string(icase ? "(?i)" : "") + (anchored ? "\\A(?:" : "(?:") +
                             args.at(0).to_text() + ")");
        return re.search(v.to_text(), nullptr);
    }
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
