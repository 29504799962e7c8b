// Ansible's group_vars/ and host_vars/ directories (beside an inventory or a playbook) and
// role vars/defaults: a name's variables live in the file `name`, `name.yml`, `name.yaml` or
// `name.json`, or in every such file under the directory `name/`, merged in path order.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/error.hpp"
#include "util/value.hpp"

namespace decamp::vars_dir {

// The files holding `name`'s variables in `dir`, in the order they merge ({} when none).
std::vector<std::filesystem::path> files_of(const std::filesystem::path& dir, const std::string& name);

// Every name `dir` holds variables for, mapped to its variables (each file a map, the later
// file's keys over the earlier's). Unreadable files and files that are not maps go to
// `diags`; a missing `dir` is an empty map.
Value read_all(const std::filesystem::path& dir, std::vector<Diagnostic>& diags);

}  // namespace decamp::vars_dir
