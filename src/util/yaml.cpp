#include "util/yaml.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace decamp::yaml {

namespace {

Mark mark_of(const YAML::Mark& m, const std::string& file) {
    if (m.is_null()) return Mark{file, 0, 0};
    return Mark{file, m.line + 1, m.column + 1};
}

bool parse_int(const std::string& s, int64_t& out) {
    if (s.empty() || s.size() > 18) return false;
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (i == s.size()) return false;
    for (size_t j = i; j < s.size(); ++j)
        if (s[j] < '0' || s[j] > '9') return false;
    out = std::stoll(s);
    return true;
}

Value scalar(const YAML::Node& node) {
    const std::string& s = node.Scalar();
    // "!" marks a quoted scalar in yaml-cpp; those stay text whatever they look like.
    if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return Value::string(s);
    if (s == "~" || s == "null" || s == "Null" || s == "NULL" || s.empty()) return Value::null();
    static const char* truthy[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const char* falsy[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    for (const char* t : truthy)
        if (s == t) return Value::boolean(true);
    for (const char* f : falsy)
        if (s == f) return Value::boolean(false);
    int64_t i = 0;
    if (parse_int(s, i)) return Value::integer(i);
    return Value::string(s);
}

// yaml-cpp keeps an alias as a reference to its anchor, so parsing is cheap; expansion
// happens here, one Value per node reached. A document cannot hold more nodes than it has
// bytes without aliases, so the budget is max(kMinNodeBudget, bytes): ordinary anchors and
// merge keys fit, and a "billion laughs" bomb stops after a few milliseconds.
constexpr size_t kMinNodeBudget = 100000;
constexpr int kMaxDepth = 64;

struct Budget {
    size_t left;
    bool exhausted = false;
};

Value convert(const YAML::Node& node, const std::string& file, const std::string& path,
              std::vector<Diagnostic>& diags, int depth, Budget& budget) {
    Mark m = mark_of(node.Mark(), file);
    if (budget.exhausted) return Value().at(m);
    if (budget.left == 0) {
        budget.exhausted = true;
        diags.push_back({m, path, "the document expands to too many values (aliases expanding each other?); "
                                  "at most max(100000, its size in bytes) are accepted"});
        return Value().at(m);
    }
    --budget.left;
    if (depth > kMaxDepth) {
        diags.push_back({m, path, "nesting deeper than 64 levels"});
        return Value().at(m);
    }
    switch (node.Type()) {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null: return Value().at(m);
        case YAML::NodeType::Scalar: return scalar(node).at(m);
        case YAML::NodeType::Sequence: {
            Value list = Value::list();
            size_t i = 0;
            for (const auto& item : node) {
                if (budget.exhausted) break;
                list.push(convert(item, file, path + "/" + std::to_string(i++), diags, depth + 1, budget));
            }
            return list.at(m);
        }
        case YAML::NodeType::Map: {
            Value map = Value::map();
            for (const auto& kv : node) {
                if (budget.exhausted) break;
                Mark km = mark_of(kv.first.Mark(), file);
                if (!kv.first.IsScalar()) {
                    diags.push_back({km, path, "map keys must be plain strings"});
                    continue;
                }
                std::string key = kv.first.Scalar();
                std::string child = path.empty() ? key : path + "/" + key;
                if (map.get(key)) {
                    diags.push_back({km, child, "duplicate key \"" + key + "\" (first defined at " +
                                                    map.key_mark(key).str() + ")"});
                    continue;
                }
                map.set(key, convert(kv.second, file, child, diags, depth + 1, budget));
                map.set_key_mark(key, km);
            }
            return map.at(m);
        }
    }
    return Value().at(m);
}

}  // namespace

Value parse(const std::string& text, const std::string& file, std::vector<Diagnostic>& diags) {
    try {
        YAML::Node root = YAML::Load(text);
        Budget budget{std::max(kMinNodeBudget, text.size())};
        return convert(root, file, "", diags, 0, budget);
    } catch (const YAML::Exception& e) {
        diags.push_back({mark_of(e.mark, file), "", "invalid YAML: " + e.msg});
    } catch (const std::exception& e) {
        diags.push_back({Mark{file, 0, 0}, "", std::string("invalid YAML: ") + e.what()});
    }
    return Value();
}

Value load_file(const std::filesystem::path& path, const std::string& display_name,
                std::vector<Diagnostic>& diags) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        diags.push_back({Mark{display_name, 0, 0}, "", "cannot read file"});
        return Value();
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return parse(ss.str(), display_name, diags);
}

}  // namespace decamp::yaml
