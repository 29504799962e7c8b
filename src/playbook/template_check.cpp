#include "playbook/template_check.hpp"

#include <algorithm>
#include <vector>

#include "playbook/task_file.hpp"
#include "playbook/template.hpp"

namespace decamp::playbook {

namespace {

// line:column of `offset` in `text` (1-based, as YAML marks).
Mark mark_in(const std::string& file, const std::string& text, size_t offset) {
    Mark m{file, 1, 1};
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++m.line;
            m.column = 1;
        } else {
            ++m.column;
        }
    }
    return m;
}

class TaskChecker {
public:
    TaskChecker(Playbook& book, schema::Checker& c, const Mark& fallback)
        : book_(book), c_(c), fallback_(fallback) {}

    // Names defined where this text is evaluated (play and task vars, item, result).
    std::vector<std::string> locals;

    // What one check found, for text at `mark`. `maybe`: the text may never be evaluated,
    // so a name in it that nothing defines may be fine (it is not kept as a use).
    void take(const tmpl::Check& r, const Mark& mark, const std::string& path, bool maybe,
              const std::string* file_text = nullptr) {
        auto where = [&](size_t offset) {
            return file_text ? mark_in(mark.file, *file_text, offset) : mark.line > 0 ? mark : fallback_;
        };
        if (r.error) c_.error(where(r.error->offset()), path, r.error->what());
        book_.defines.insert(book_.defines.end(), r.guarded.begin(), r.guarded.end());
        if (maybe || r.error) return;  // a text that does not parse: its error says it all
        for (const auto& n : r.names) {
            if (n.conditional || std::find(locals.begin(), locals.end(), n.name) != locals.end()) continue;
            book_.uses.push_back(VarUse{n.name, where(n.offset), path});
        }
    }

    // Every string in `v`, as render_value renders it.
    void value(const Value& v, const std::string& path, bool maybe) {
        switch (v.kind()) {
            case Value::Kind::String:
                take(tmpl::check_string(v.as_string()), v.mark(), path, maybe);
                break;
            case Value::Kind::List: {
                size_t i = 0;
                for (const auto& item : v.items()) value(item, path + "/" + std::to_string(i++), maybe);
                break;
            }
            case Value::Kind::Map:
                for (const auto& [k, item] : v.entries()) value(item, path + "/" + k, maybe);
                break;
            default:
                break;
        }
    }

private:
    Playbook& book_;
    schema::Checker& c_;
    Mark fallback_;
};

void add_keys(std::vector<std::string>& out, const Value& map) {
    if (map.is_map())
        for (const auto& [k, v] : map.entries()) out.push_back(k);
}

}  // namespace

void check_play_templates(const Play& play, const std::string& path, Playbook& book, schema::Checker& c) {
    TaskChecker tc(book, c, play.mark);
    // A vars value is rendered only where a task uses it: its names are never kept as uses.
    tc.value(play.vars, path + "/vars", true);
}

void check_task_templates(const Value& raw, const Task& task, const Play& play, const std::string& path,
                          const std::string& module_key, Playbook& book, schema::Checker& c,
                          const Value& outer_vars) {
    TaskChecker tc(book, c, task.mark);
    add_keys(tc.locals, play.vars);
    add_keys(tc.locals, task.vars);
    if (task.defaults) add_keys(tc.locals, *task.defaults);
    add_keys(tc.locals, outer_vars);
    if (task.loop || task.unsupported.rfind("with_", 0) == 0 || task.unsupported == "loop_control")
        tc.locals.push_back("item");
    auto mark_of = [&](const char* key) {
        const Value* v = raw.get(key);
        return v && v->mark().line > 0 ? v->mark() : raw.key_mark(key);
    };

    // In the planner's order: loop, name and when are evaluated for every host; the rest
    // only when `when` holds, so with a `when` their names may be fine unused.
    const bool guarded = !task.when.empty();
    if (task.loop) tc.value(*task.loop, path + "/loop", false);
    if (!task.name.empty()) tc.take(tmpl::check_text(task.name), mark_of("name"), path + "/name", false);
    if (!task.when.empty()) tc.take(tmpl::check_condition(task.when), mark_of("when"), path + "/when", false);
    tc.value(task.vars, path + "/vars", true);
    tc.value(task.args, path + "/" + module_key, guarded);
    {
        // changed_when / failed_when also see the result (under its registered name).
        auto saved = tc.locals;
        tc.locals.push_back("result");
        if (!task.changed_when.empty())
            tc.take(tmpl::check_condition(task.changed_when), mark_of("changed_when"), path + "/changed_when",
                    guarded);
        if (!task.failed_when.empty())
            tc.take(tmpl::check_condition(task.failed_when), mark_of("failed_when"), path + "/failed_when",
                    guarded);
        tc.locals = saved;
    }

    // The file a template task renders, when its name is static and it can be read (the
    // loader reports it otherwise).
    if (task.module == "template")
        if (const Value* src = task.args.get("src");
            src && src->is_string() && !tmpl::has_template(src->as_string())) {
            const auto p = resolve_task_file(task, src->as_string());
            if (task_file_problem(p).empty()) {
                try {
                    const std::string text = read_task_file(p);
                    tc.take(tmpl::check_text(text), Mark{p.lexically_normal().string(), 1, 1},
                            path + "/" + module_key + "/src", guarded, &text);
                } catch (const std::exception&) {
                    // Gone or unreadable since: the planner reports it when it reads it.
                }
            }
        }
}

void check_condition_at(const std::string& expr, const Mark& mark, const std::string& path,
                        const std::vector<std::string>& names, Playbook& book, schema::Checker& c) {
    TaskChecker tc(book, c, mark);
    tc.locals = names;
    tc.take(tmpl::check_condition(expr), mark, path, false);
}

void check_vars_at(const Value& vars, const std::string& path, const Mark& fallback, Playbook& book,
                   schema::Checker& c) {
    TaskChecker tc(book, c, fallback);
    tc.value(vars, path, true);
}

}  // namespace decamp::playbook
