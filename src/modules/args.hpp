// Typed access to a module's arguments, with the error messages every module shares.
// Arguments arrive rendered (a Map of Values); YAML spellings are accepted for booleans
// (true/yes/on/1 as Bool, Int or string) and integers (Int or a numeric string).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "modules/module.hpp"
#include "util/value.hpp"

namespace decamp::modules {

class Args {
public:
    explicit Args(const Value& args) : args_(args) {}

    bool has(const std::string& key) const;
    // First key of `keys` that is present (aliases: {"path", "dest", "name"}), or "".
    std::string which(std::initializer_list<const char*> keys) const;

    // A scalar as text; Bool as true/false, Int in decimal. Lists and maps are errors.
    std::optional<std::string> str(const std::string& key) const;
    std::string str(const std::string& key, const std::string& fallback) const;
    std::string required_str(const std::string& key) const;
    bool flag(const std::string& key, bool fallback) const;
    std::optional<bool> opt_flag(const std::string& key) const;
    std::optional<int64_t> integer(const std::string& key, int64_t min, int64_t max) const;
    // A list of scalars, or one string split at commas (Ansible's `groups: a,b`).
    std::optional<std::vector<std::string>> list(const std::string& key) const;
    // One of `choices`, or fallback when absent.
    std::string choice(const std::string& key, std::initializer_list<const char*> choices,
                       const std::string& fallback) const;
    // File mode as octal text with a leading 0 ("0644"). A string must be octal digits; an
    // Int is read as the digits it shows (644 -> "0644"): YAML's unquoted 0644 may arrive as
    // 644 or, from an octal-aware parser, as 420 -> "0420". Quote modes in playbooks.
    std::optional<std::string> mode(const std::string& key) const;

    // Throws ArgError for any key not in `allowed` (keys starting with '_' are the planner's).
    void check_keys(const std::vector<std::string>& allowed) const;

private:
    const Value& args_;
};

// Shared validation helpers; each throws ArgError(key, ...) naming what was expected.
void require_absolute_path(const std::string& key, const std::string& path);
void require_no_newline(const std::string& key, const std::string& value);
// No string anywhere in a task's arguments (keys included, at any depth) holds a NUL byte:
// a C string or the host's shell would silently cut it there. Throws ArgError(top-level key).
void require_no_nul(const Value& args);
// User, group and unit names and the like: [A-Za-z0-9_] first, then [A-Za-z0-9_.@:+-].
void require_simple_name(const std::string& key, const std::string& value, const char* what);
// 0755 -> "755" as `stat -c %a` prints it.
std::string stat_mode(const std::string& octal_mode);

// A probe/change body run in a subshell so its `exit` never ends the engine's script.
std::string subshell(const std::vector<std::string>& lines);

}  // namespace decamp::modules
