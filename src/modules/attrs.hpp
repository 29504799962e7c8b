// Mode/owner/group checks and fixes shared by file, copy, template and lineinfile.
#pragma once

#include <string>
#include <vector>

namespace decamp::modules {

struct FileAttrs {
    std::string mode;   // "0644" or ""
    std::string owner;  // name or numeric id, or ""
    std::string group;

    bool empty() const { return mode.empty() && owner.empty() && group.empty(); }
    // Probe lines: `exit 1` when an attribute of the file at sh variable $var differs.
    // follow: stat the link target (-L) rather than the link.
    std::vector<std::string> probe_lines(const std::string& var, bool follow = true) const;
    // Change commands applied to "$var"; recurse uses -R.
    std::vector<std::string> fix_lines(const std::string& var, bool recurse = false,
                                       bool no_deref = false) const;
    // "mode 0644, owner www-data"
    std::string describe() const;
};

class Args;
// mode/owner/group from a module's arguments (validated).
FileAttrs read_attrs(const Args& a);

// Validates owner/group words (user names or numeric ids) and throws ArgError.
void check_owner(const std::string& key, const std::string& value);

}  // namespace decamp::modules
