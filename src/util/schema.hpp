// Small helpers for validating YAML-shaped Values while collecting every problem at once:
// unknown keys (with "did you mean"), wrong types, missing keys. Each error names
// file:line:column, the key path and what was expected.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/error.hpp"
#include "util/value.hpp"

namespace decamp::schema {

// Closest candidate within a small edit distance, or "" when nothing is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);
size_t edit_distance(const std::string& a, const std::string& b);

const char* kind_name(Value::Kind k);

class Checker {
public:
    explicit Checker(std::vector<Diagnostic>& diags) : diags_(diags) {}

    void error(const Mark& m, const std::string& path, const std::string& message);
    void error(const Value& v, const std::string& path, const std::string& message) {
        error(v.mark(), path, message);
    }

    // v must be a map; reports every key not in `allowed`. False when v is not a map.
    bool map(const Value& v, const std::string& path, const std::vector<std::string>& allowed);
    // Child helpers: report a wrong type, return nullopt when absent or wrong.
    std::optional<std::string> str(const Value& parent, const std::string& key,
                                   const std::string& path, bool required = false);
    std::optional<int64_t> integer(const Value& parent, const std::string& key,
                                   const std::string& path, bool required = false,
                                   int64_t min = INT64_MIN, int64_t max = INT64_MAX);
    std::optional<bool> boolean(const Value& parent, const std::string& key,
                                const std::string& path);
    // A string or a list of strings (a single string becomes one item).
    std::optional<std::vector<std::string>> str_list(const Value& parent, const std::string& key,
                                                     const std::string& path,
                                                     bool required = false);
    // What a string must look like (a names::check_* function): "" when fine, else what
    // was expected. shaped() is str() plus that check; a misshapen value is reported with
    // its position and returned as nullopt, so it never reaches a command.
    using Shape = std::string (*)(const std::string&);
    std::optional<std::string> shaped(const Value& parent, const std::string& key,
                                      const std::string& path, Shape shape,
                                      bool required = false);
    // str_list() whose every item must have `shape` (reported at the item's position).
    std::optional<std::vector<std::string>> shaped_list(const Value& parent, const std::string& key,
                                                        const std::string& path, Shape shape,
                                                        bool required = false);
    static std::string join(const std::string& path, const std::string& key) {
        return path.empty() ? key : path + "/" + key;
    }

private:
    std::vector<Diagnostic>& diags_;
};

}  // namespace decamp::schema
