// --tags / --skip-tags: which tasks of the loaded playbooks run, by the tags each task holds
// (its own and those of its play, role, blocks and includes: playbook::Task::tags), with
// Ansible's special tags: `always` runs unless skipped by name, `never` only when asked for
// by one of its tags (or `never`), `tagged` / `untagged` / `all` select by having tags.
#pragma once

#include <string>
#include <vector>

#include "playbook/playbook.hpp"

namespace decamp::plan {

struct TagFilter {
    std::vector<std::string> only;  // --tags (empty: all)
    std::vector<std::string> skip;  // --skip-tags
    bool empty() const { return only.empty() && skip.empty(); }
};

// From the flags' comma-separated lists (blanks around names ignored).
TagFilter parse_tag_filter(const std::string& tags, const std::string& skip_tags);

// Whether a task with `tags` runs under `f`.
bool selected(const std::vector<std::string>& tags, const TagFilter& f);

// Drops the tasks `f` does not select from every play (handlers stay: they run when notified).
void filter_tags(playbook::Playbook& book, const TagFilter& f);

}  // namespace decamp::plan
