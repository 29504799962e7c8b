#include "util/schema.hpp"

#include <algorithm>

namespace decamp::schema {

size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
    // Like ninja's SpellcheckNode: accept up to a third of the word's length in edits.
    size_t best = std::max<size_t>(1, std::min<size_t>(3, word.size() / 3 + 1)) + 1;
    std::string pick;
    for (const auto& c : candidates) {
        size_t d = edit_distance(word, c);
        if (d < best) {
            best = d;
            pick = c;
        }
    }
    return pick;
}

const char* kind_name(Value::Kind k) {
    switch (k) {
        case Value::Kind::Null: return "nothing";
        case Value::Kind::Bool: return "a boolean";
        case Value::Kind::Int: return "a number";
        case Value::Kind::String: return "a string";
        case Value::Kind::List: return "a list";
        case Value::Kind::Map: return "a map";
        case Value::Kind::Secret: return "a secret";
    }
    return "?";
}

// A required key that is only misspelt has already been reported as an unknown key with
// "did you mean"; a second "missing" error for it would be noise.
static bool misspelt(const Value& parent, const std::string& key) {
    for (const auto& [k, v] : parent.entries())
        if (k != key && !did_you_mean(k, {key}).empty()) return true;
    return false;
}

void Checker::error(const Mark& m, const std::string& path, const std::string& message) {
    diags_.push_back(Diagnostic{m, path, message});
}

bool Checker::map(const Value& v, const std::string& path, const std::vector<std::string>& allowed) {
    if (!v.is_map()) {
        error(v, path, std::string("expected a map, found ") + kind_name(v.kind()));
        return false;
    }
    for (const auto& [key, child] : v.entries()) {
        if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
        std::string msg = "unknown key \"" + key + "\"";
        std::string hint = did_you_mean(key, allowed);
        if (!hint.empty())
            msg += "; did you mean \"" + hint + "\"?";
        else {
            msg += "; expected one of: ";
            for (size_t i = 0; i < allowed.size(); ++i) msg += (i ? ", " : "") + allowed[i];
        }
        error(v.key_mark(key), join(path, key), msg);
    }
    return true;
}

std::optional<std::string> Checker::str(const Value& parent, const std::string& key,
                                        const std::string& path, bool required) {
    const Value* v = parent.get(key);
    if (!v || v->is_null()) {
        if (required && !misspelt(parent, key)) error(parent, join(path, key), "required key is missing; expected a string");
        return std::nullopt;
    }
    if (v->kind() == Value::Kind::String || v->kind() == Value::Kind::Int ||
        v->kind() == Value::Kind::Secret)
        return v->kind() == Value::Kind::Int ? std::to_string(v->as_int()) : v->as_string();
    error(*v, join(path, key), std::string("expected a string, found ") + kind_name(v->kind()));
    return std::nullopt;
}

std::optional<int64_t> Checker::integer(const Value& parent, const std::string& key,
                                        const std::string& path, bool required, int64_t min,
                                        int64_t max) {
    const Value* v = parent.get(key);
    if (!v || v->is_null()) {
        if (required && !misspelt(parent, key)) error(parent, join(path, key), "required key is missing; expected a number");
        return std::nullopt;
    }
    if (v->kind() != Value::Kind::Int) {
        error(*v, join(path, key), std::string("expected a number, found ") + kind_name(v->kind()));
        return std::nullopt;
    }
    if (v->as_int() < min || v->as_int() > max) {
        error(*v, join(path, key),
              "expected a number from " + std::to_string(min) + " to " + std::to_string(max));
        return std::nullopt;
    }
    return v->as_int();
}

std::optional<bool> Checker::boolean(const Value& parent, const std::string& key,
                                     const std::string& path) {
    const Value* v = parent.get(key);
    if (!v || v->is_null()) return std::nullopt;
    if (v->kind() != Value::Kind::Bool) {
        error(*v, join(path, key), std::string("expected true or false, found ") + kind_name(v->kind()));
        return std::nullopt;
    }
    return v->as_bool();
}

std::optional<std::vector<std::string>> Checker::str_list(const Value& parent,
                                                          const std::string& key,
                                                          const std::string& path, bool required) {
    const Value* v = parent.get(key);
    if (!v || v->is_null()) {
        if (required && !misspelt(parent, key)) error(parent, join(path, key), "required key is missing; expected a list");
        return std::nullopt;
    }
    std::vector<std::string> out;
    if (v->is_string()) {
        out.push_back(v->as_string());
        return out;
    }
    if (!v->is_list()) {
        error(*v, join(path, key), std::string("expected a list of strings, found ") + kind_name(v->kind()));
        return std::nullopt;
    }
    size_t i = 0;
    for (const auto& item : v->items()) {
        if (item.kind() == Value::Kind::String)
            out.push_back(item.as_string());
        else if (item.kind() == Value::Kind::Int)
            out.push_back(std::to_string(item.as_int()));
        else
            error(item, join(path, key) + "/" + std::to_string(i),
                  std::string("expected a string, found ") + kind_name(item.kind()));
        ++i;
    }
    return out;
}

namespace {

// The offending text, quoted, with control characters shown as \xNN (a newline in a unit name
// must be visible, not break the message).
std::string shown(const std::string& text) {
    static const char* hex = "0123456789abcdef";
    std::string out = "\"";
    for (unsigned char c : text.substr(0, 200)) {
        if (c < 0x20 || c == 0x7f) out += std::string("\\x") + hex[c >> 4] + hex[c & 15];
        else out += static_cast<char>(c);
    }
    return out + (text.size() > 200 ? "...\"" : "\"");
}

}  // namespace

std::optional<std::string> Checker::shaped(const Value& parent, const std::string& key,
                                           const std::string& path, Shape shape, bool required) {
    auto s = str(parent, key, path, required);
    if (!s) return s;
    if (std::string why = shape(*s); !why.empty()) {
        error(*parent.get(key), join(path, key), shown(*s) + ": " + why);
        return std::nullopt;
    }
    return s;
}

std::optional<std::vector<std::string>> Checker::shaped_list(const Value& parent, const std::string& key,
                                                             const std::string& path, Shape shape,
                                                             bool required) {
    auto list = str_list(parent, key, path, required);
    if (!list) return list;
    const Value& v = *parent.get(key);
    std::vector<std::string> out;
    for (size_t i = 0; i < list->size(); ++i) {
        const std::string& item = (*list)[i];
        if (std::string why = shape(item); !why.empty()) {
            const Value& at = v.is_list() && i < v.items().size() ? v.items()[i] : v;
            error(at, join(path, key) + (v.is_list() ? "/" + std::to_string(i) : ""), shown(item) + ": " + why);
            continue;
        }
        out.push_back(item);
    }
    return out;
}

}  // namespace decamp::schema
