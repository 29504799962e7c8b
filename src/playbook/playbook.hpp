// Playbooks: Ansible-shaped plays and tasks, loaded and checked at load time. An unknown
// module, keyword or module argument is an error at file:line:column, never a silent skip.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/error.hpp"
#include "util/value.hpp"

namespace decamp::playbook {

struct Task {
    std::string name;
    std::string module;        // canonical module name (apt, copy, …, debug, set_fact)
    Value args = Value::map(); // unrendered; templates inside
    std::string when;          // expression ("" = always); several when: items are and-ed
    std::string changed_when;
    std::string failed_when;
    std::vector<std::string> notify;
    std::vector<std::string> listen;  // handlers only
    std::optional<Value> loop;
    std::string register_as;
    std::optional<bool> become;
    std::string become_user;
    bool ignore_errors = false;
    bool no_log = false;
    Value vars = Value::map();  // the task's vars over its blocks', includes' and role's vars
    // Its role's defaults: below every other layer, as Ansible orders them. Shared by the tasks
    // of a role, never copied per task.
    std::shared_ptr<const Value> defaults;
    std::vector<std::string> tags;  // its own and every enclosing play's, role's, block's, include's
    bool rescue = false;            // in a block's rescue: runs only when a task of the block failed
    std::string role;               // the role it comes from ("" outside roles)
    // An Ansible task keyword decamp does not run yet (until, delegate_to, environment, …):
    // like a module decamp lacks, an error only on a host where the task would run.
    std::string unsupported;
    Mark mark;                 // the task's position
    std::filesystem::path dir; // the playbook's directory (for copy/template src)
    std::filesystem::path role_dir;  // the role's directory (its files/ and templates/ come first)
    std::filesystem::path file_dir;  // the directory of the task file it was written in

    std::string display_name() const;  // name, or "module: first arg"
};

struct Play {
    std::string name;
    std::string hosts;         // pattern (lists are joined with ',')
    Value vars = Value::map();
    std::vector<Task> tasks;   // pre_tasks + tasks + post_tasks
    std::vector<Task> handlers;
    std::optional<bool> become;
    std::string become_user;
    bool gather_facts = false; // decamp gathers its small fact set cheaply anyway
    std::string serial;        // "", "2", "30%"
    int max_fail_percentage = -1;
    bool any_errors_fatal = false;
    std::vector<std::string> tags;  // the play's tags (each task holds them too)
    // group_vars/ and host_vars/ beside the play's file: name → its variables (per host:
    // plan::HostVars layers them).
    Value group_vars = Value::map();
    Value host_vars = Value::map();
    std::string remote_user;        // as written (the inventory's ssh user wins today)
    std::string connection;         // "" or as written (local, ssh)
    Mark mark;
};

// A root variable some task text always evaluates (not only under a condition) that nothing
// in its own play defines: play or task vars, the loop's item. Whether anything else in the
// run defines it (the inventory, a register:, decamp itself) is for plan::undefined_variables.
struct VarUse {
    std::string name;
    Mark mark;          // the string that holds it (a template file: the {{ in it)
    std::string path;   // key path, as in diagnostics
};

struct Playbook {
    std::filesystem::path path;
    std::vector<Play> plays;
    std::vector<VarUse> uses;
    // Names this playbook may define for later tasks (register:, set_fact keys) or treats as
    // optional (tested with `is defined` / `is undefined`, given a default()).
    std::vector<std::string> defines;
};

// Loads and checks a playbook; throws ConfigError with every diagnostic.
Playbook load(const std::filesystem::path& path);
Playbook load_text(const std::string& text, const std::filesystem::path& path);
// The same, appending every diagnostic to `diags` and returning what loaded (the tasks with
// errors included as far as they could be read); nullopt when the file could not be read or
// parsed at all, so nothing is known of what it defines.
std::optional<Playbook> load(const std::filesystem::path& path, std::vector<Diagnostic>& diags);
std::optional<Playbook> load_text(const std::string& text, const std::filesystem::path& path,
                                  std::vector<Diagnostic>& diags);

// Limits on what one playbook may pull in: nested includes, imports and role dependencies,
// and the tasks they yield in all. Past them the load fails with an error (no input may
// exhaust memory through includes that multiply).
inline constexpr int kMaxIncludeDepth = 32;
inline constexpr size_t kMaxTasks = 20000;

// Task keywords (not modules), for messages and tests.
const std::vector<std::string>& task_keywords();

}  // namespace decamp::playbook
