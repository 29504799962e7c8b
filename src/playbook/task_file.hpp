// The local files a copy/template task names with `src:`: where they are looked up, and how
// they are read. Used at load time (a static src is checked there, with file:line:column)
// and by the planner (which reads it), so both agree on what is acceptable.
#pragma once

#include <filesystem>
#include <string>

#include "playbook/playbook.hpp"

namespace decamp::playbook {

// Ansible's lookup: a relative src is looked for in files/ (copy) or templates/ (template)
// beside the playbook, then in the playbook's directory itself.
std::filesystem::path resolve_task_file(const std::filesystem::path& playbook_dir,
                                        const std::string& module, const std::string& src);

// The same for one task, in Ansible's order: its role's files/ or templates/, the role's
// root and tasks/; then beside the task file that includes it (and its parent's files/ or
// templates/); then the playbook's. The first that exists, else the first candidate.
std::filesystem::path resolve_task_file(const Task& task, const std::string& src);

// "" when `p` is a regular file that can be opened for reading, else why not ("is a
// directory", "is a FIFO", "does not exist", ...). Never blocks, never opens a device.
std::string task_file_problem(const std::filesystem::path& p);

// The whole content of `p`; throws std::runtime_error with task_file_problem's reason.
std::string read_task_file(const std::filesystem::path& p);

}  // namespace decamp::playbook
