// Playbooks: Ansible-shaped plays and tasks, loaded and checked at load time. An unknown
// module, keyword or module argument is an error at file:line:column, never a silent skip.
#pragma once

#include <filesystem>
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
    Value vars = Value::map();
    Mark mark;                 // the task's position
    std::filesystem::path dir; // the playbook's directory (for copy/template src)

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
    Mark mark;
};

struct Playbook {
    std::filesystem::path path;
    std::vector<Play> plays;
};

// Loads and checks a playbook; throws ConfigError with every diagnostic.
Playbook load(const std::filesystem::path& path);
Playbook load_text(const std::string& text, const std::filesystem::path& path);

// Task keywords (not modules), for messages and tests.
const std::vector<std::string>& task_keywords();

}  // namespace decamp::playbook
