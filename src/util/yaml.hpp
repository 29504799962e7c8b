// YAML files to Value, with file:line:column on every node. The only place that includes
// yaml-cpp. Plain scalars are typed as Ansible users expect (YAML 1.1 booleans yes/no/on/off,
// decimal integers, ~/null); quoted scalars always stay strings.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/error.hpp"
#include "util/value.hpp"

namespace decamp::yaml {

// Parses `text` (named `file` in marks). Syntax errors and duplicate keys go to `diags`;
// on a syntax error the returned Value is null.
Value parse(const std::string& text, const std::string& file, std::vector<Diagnostic>& diags);

// Reads and parses a file; an unreadable file is a diagnostic too.
Value load_file(const std::filesystem::path& path, const std::string& display_name,
                std::vector<Diagnostic>& diags);

}  // namespace decamp::yaml
