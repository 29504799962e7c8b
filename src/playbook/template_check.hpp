// Load-time check of the template text in plays and tasks (the loader calls it): every field
// the planner renders or evaluates (arguments, name, when, loop, changed_when, failed_when,
// vars values, the file a `template:` task names) is run through the evaluator's check mode
// (tmpl::check_*), so a syntax error, an unknown filter or test is a diagnostic with
// file:line:column now, not a failed task on a host. Root names that are always evaluated
// and that nothing in the play defines are kept as Playbook::uses for the run-wide check.
#pragma once

#include <string>
#include <vector>

#include "playbook/playbook.hpp"
#include "util/schema.hpp"

namespace decamp::playbook {

// A play's vars values (rendered only where a task uses them).
void check_play_templates(const Play& play, const std::string& path, Playbook& book, schema::Checker& c);

// One loaded task of `play` (`module_key` as written, for key paths); `outer_vars`: what its
// enclosing blocks, includes and role define for it.
void check_task_templates(const Value& raw, const Task& task, const Play& play, const std::string& path,
                          const std::string& module_key, Playbook& book, schema::Checker& c,
                          const Value& outer_vars = Value::map());

// A condition written on a block, include or role (`names`: what is defined where it is).
void check_condition_at(const std::string& expr, const Mark& mark, const std::string& path,
                        const std::vector<std::string>& names, Playbook& book, schema::Checker& c);

// The values of vars written on a block, include or role (rendered only where used).
void check_vars_at(const Value& vars, const std::string& path, const Mark& fallback, Playbook& book,
                   schema::Checker& c);

}  // namespace decamp::playbook
