// The playbook loader's insides, shared by its files: load.cpp (plays, vars_files,
// import_playbook), load_task.cpp (one module task and its arguments), include.cpp (task
// lists: blocks, import_tasks / include_tasks, include_vars) and roles.cpp (roles:,
// include_role / import_role, meta dependencies). Everything is flattened at load: a play
// ends up as one ordered list of tasks, each carrying what its enclosing blocks, includes
// and role gave it (condition, vars, defaults, tags, become, where its files are).
#pragma once

#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "modules/module.hpp"
#include "playbook/playbook.hpp"
#include "util/schema.hpp"

namespace decamp::playbook::detail {

namespace fs = std::filesystem;

// What a task inherits from what encloses it.
struct Ctx {
    std::string when;                            // and-ed conditions of the enclosing blocks/includes/roles
    Value vars = Value::map();                   // enclosing vars (role vars and params, block, include)
    Value defaults = Value::map();               // the role's defaults (and its dependencies')
    Value group_vars = Value::map();             // group_vars/all beside the playbook (for the checks)
    std::shared_ptr<const Value> task_defaults;  // defaults, as the tasks hold them
    std::vector<std::string> tags;
    std::optional<bool> become;
    std::string become_user;
    bool ignore_errors = false;
    bool rescue = false;
    fs::path file_dir;  // directory of the file being read
    fs::path role_dir;  // the role's root ("" outside roles)
    std::string role;
    int depth = 0;  // includes, imports and role dependencies deep
};

// "a and b" of two conditions, either possibly empty.
std::string and_conditions(const std::string& a, const std::string& b);
// Ansible's old "k=v k2='v 2'" argument form; false when it is not that. Each value carries
// `mark` (the string's position), so errors in it still say file:line:column.
bool parse_kv(const std::string& text, Value& out, const Mark& mark = Mark{});
// `b` over `a` (a map), key by key.
Value merged(const Value& a, const Value& b);
// `extra` appended to `tags` where missing.
void add_tags(std::vector<std::string>& tags, const std::vector<std::string>& extra);
// The module name without its collection (ansible.builtin.copy → copy).
std::string canonical_module(const std::string& key);

class Loader {
public:
    Loader(const fs::path& path, std::vector<Diagnostic>& diags);
    void load(const Value& root, Playbook& book);

private:
    // load.cpp
    void load_plays(const Value& root, const fs::path& file, const std::string& path, int depth);
    void load_play(const Value& p, const fs::path& file, const std::string& path, int depth);
    void import_playbook(const Value& p, const fs::path& file, const std::string& path, int depth);
    void load_vars_files(const Value& p, const fs::path& dir, const std::string& path, Play& play);
    void load_section(const Value& p, const char* key, const std::string& path, Play& play, const Ctx& ctx,
                      std::vector<Task>& out, bool handlers);
    void check_notify(const Play& play, const std::string& path);

    // load_task.cpp
    void load_task(const Value& t, const std::string& path, Play& play, const Ctx& ctx,
                   std::vector<Task>& out, bool handler);
    void note_defines(const Value& t);
    void load_loop(const Value& t, const std::string& path, Task& task);
    std::string conditions(const Value& t, const char* key, const std::string& path);
    void check_args(const std::string& name, const modules::Module* mod, const Value& args,
                    const std::string& path, const Task& task);
    void check_src(const std::string& name, const Value& args, const std::string& path, const Task& task);

    // include.cpp
    void load_list(const Value& list, const std::string& path, Play& play, const Ctx& ctx,
                   std::vector<Task>& out, bool handlers);
    void load_entry(const Value& t, const std::string& path, Play& play, const Ctx& ctx,
                    std::vector<Task>& out, bool handlers);
    void load_block(const Value& t, const std::string& path, Play& play, const Ctx& ctx,
                    std::vector<Task>& out, bool handlers);
    void include_tasks(const Value& t, const std::string& key, const std::string& path, Play& play,
                       const Ctx& ctx, std::vector<Task>& out, bool handlers);
    void include_vars(const Value& t, const std::string& key, const std::string& path, Play& play,
                      const Ctx& ctx, std::vector<Task>& out);
    // The file names an include_vars task may read, in first-found order ({} on an error).
    std::optional<std::vector<std::string>> vars_names(const Value& t, const std::string& key,
                                                       const std::string& path, Value& into);
    // The keywords an include, block or role entry gives what it encloses; false on an error.
    bool wrap(const Value& t, const std::string& path, const Play& play, const Ctx& outer, Ctx& inner);
    // Task files read once per load; null when unreadable (reported at `where`).
    const Value* read_yaml(const fs::path& file, const Mark& where, const std::string& path);
    // Candidates for a file named by a template: every file in `dirs` that the name could
    // render to, with the condition under which it does.
    std::vector<std::pair<fs::path, std::string>> expand_name(const std::string& name,
                                                              const std::vector<fs::path>& dirs);
    bool enter(const fs::path& file, const Mark& where, const std::string& path, int depth);
    void leave() { stack_.pop_back(); }

    // roles.cpp
    void load_roles(const Value& p, const std::string& path, Play& play, const Ctx& ctx);
    void include_role(const Value& t, const std::string& key, const std::string& path, Play& play,
                      const Ctx& ctx, std::vector<Task>& out);
    std::optional<fs::path> find_role(const std::string& name, const Ctx& ctx, const Value& where,
                                      const std::string& path);
    // One role (its dependencies first); tasks go to `out`, handlers to the play.
    void load_role(const fs::path& dir, const std::string& name, const Value& entry, const std::string& path,
                   Play& play, const Ctx& ctx, std::vector<Task>& out,
                   const std::string& tasks_from = "main");
    Value role_vars_file(const fs::path& dir, const std::string& sub, const std::string& name,
                         const Value& where, const std::string& path);

    fs::path path_;
    fs::path dir_;
    std::vector<Diagnostic>& diags_;
    schema::Checker c_;
    Playbook* book_ = nullptr;
    std::vector<fs::path> stack_;                   // files being read, outermost first (cycles)
    std::deque<std::pair<fs::path, Value>> cache_;  // deque: pointers into it stay valid
    std::map<fs::path, std::pair<Value, Value>> vars_dirs_;  // dir → its group_vars/, host_vars/
    std::vector<std::string> roles_done_;           // role dir + params, for "runs once per play"
    bool role_missing_ = false;  // this play names a role not found: its handlers are unknown
};

}  // namespace decamp::playbook::detail
