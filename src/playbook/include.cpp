// Task lists: blocks (block / rescue / always), import_tasks / include_tasks / include, and
// include_vars, all flattened at load. A file named by a template (setup-{{ os }}.yml) is
// expanded to every file it could name, each under the condition that it does, so that
// offline it is a conditional step and on a host exactly the one it names runs.
#include <fnmatch.h>

#include <algorithm>
#include <map>

#include "playbook/loader.hpp"
#include "playbook/template.hpp"
#include "playbook/template_check.hpp"
#include "util/yaml.hpp"

namespace decamp::playbook::detail {

namespace {

constexpr size_t kMaxCandidates = 64;

bool is_key(const std::string& k, std::initializer_list<const char*> names) {
    const std::string c = canonical_module(k);
    return std::any_of(names.begin(), names.end(), [&](const char* n) { return c == n; });
}

std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char ch : s) {
        if (ch == '\'' || ch == '\\') out += '\\';
        out += ch;
    }
    return out + "'";
}

std::vector<std::string> keys_of(const Value& v) {
    std::vector<std::string> out;
    if (v.is_map())
        for (const auto& [k, x] : v.entries()) out.push_back(k);
    return out;
}

}  // namespace

void Loader::load_list(const Value& list, const std::string& path, Play& play, const Ctx& ctx,
                       std::vector<Task>& out, bool handlers) {
    if (list.is_null()) return;
    if (!list.is_list()) {
        c_.error(list, path,
                 std::string("expected a list of tasks, found ") + schema::kind_name(list.kind()));
        return;
    }
    size_t i = 0;
    for (const auto& t : list.items())
        load_entry(t, path + "/" + std::to_string(i++), play, ctx, out, handlers);
}

void Loader::load_entry(const Value& t, const std::string& path, Play& play, const Ctx& ctx,
                        std::vector<Task>& out, bool handlers) {
    if (!t.is_map()) {
        c_.error(t, path,
                 std::string("expected a task (a map with name and one module), found ") +
                     schema::kind_name(t.kind()));
        return;
    }
    if (t.get("block")) return load_block(t, path, play, ctx, out, handlers);
    for (const auto& [k, v] : t.entries()) {
        if (is_key(k, {"import_tasks", "include_tasks", "include"}))
            return include_tasks(t, k, path, play, ctx, out, handlers);
        if (is_key(k, {"include_role", "import_role"})) return include_role(t, k, path, play, ctx, out);
        if (is_key(k, {"include_vars"})) return include_vars(t, k, path, play, ctx, out);
    }
    load_task(t, path, play, ctx, out, handlers);
}

bool Loader::wrap(const Value& t, const std::string& path, const Play& play, const Ctx& outer, Ctx& inner) {
    inner = outer;
    size_t before = diags_.size();
    std::vector<std::string> names = keys_of(play.vars);
    for (const Value* v : {&outer.vars, &outer.defaults, &outer.group_vars})
        for (auto& k : keys_of(*v)) names.push_back(std::move(k));
    if (const Value* v = t.get("vars")) {
        if (!v->is_map())
            c_.error(*v, path + "/vars", "expected a map of variable name to value");
        else {
            check_vars_at(*v, path + "/vars", t.mark(), *book_, c_);
            inner.vars = merged(outer.vars, *v);
            for (auto& k : keys_of(*v)) names.push_back(std::move(k));
        }
    }
    std::string own = conditions(t, "when", path);
    if (!own.empty()) {
        const Value* w = t.get("when");
        check_condition_at(own, w && w->mark().line > 0 ? w->mark() : t.key_mark("when"), path + "/when",
                           names, *book_, c_);
    }
    inner.when = and_conditions(outer.when, own);
    if (auto tg = c_.str_list(t, "tags", path)) add_tags(inner.tags, *tg);
    if (auto b = c_.boolean(t, "become", path)) inner.become = b;
    if (auto u = c_.str(t, "become_user", path)) inner.become_user = *u;
    if (auto ie = c_.boolean(t, "ignore_errors", path)) inner.ignore_errors = *ie;
    (void)c_.str(t, "name", path);
    return diags_.size() == before;
}

void Loader::load_block(const Value& t, const std::string& path, Play& play, const Ctx& ctx,
                        std::vector<Task>& out, bool handlers) {
    if (!c_.map(t, path,
                {"block", "rescue", "always", "name", "when", "vars", "tags", "become", "become_user",
                 "ignore_errors", "no_log"}))
        return;
    Ctx inner;
    wrap(t, path, play, ctx, inner);
    load_list(*t.get("block"), path + "/block", play, inner, out, handlers);
    if (const Value* r = t.get("rescue")) {
        // Run only when a task of the block failed (Task::rescue); offline, a conditional step.
        Ctx rc = inner;
        rc.rescue = true;
        load_list(*r, path + "/rescue", play, rc, out, handlers);
    }
    if (const Value* a = t.get("always")) load_list(*a, path + "/always", play, inner, out, handlers);
}

const Value* Loader::read_yaml(const fs::path& file, const Mark& where, const std::string& path) {
    for (const auto& [p, v] : cache_)
        if (p == file) return &v;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
        c_.error(where, path,
                 "cannot read " + file.string() + ": " +
                     (fs::exists(file, ec) ? "not a regular file" : "does not exist"));
        return nullptr;
    }
    size_t before = diags_.size();
    Value v = yaml::load_file(file, file.string(), diags_);
    if (diags_.size() != before && v.is_null()) return nullptr;
    cache_.emplace_back(file, std::move(v));
    return &cache_.back().second;
}

bool Loader::enter(const fs::path& file, const Mark& where, const std::string& path, int depth) {
    if (depth > kMaxIncludeDepth) {
        c_.error(where, path,
                 "includes, imports and role dependencies nested more than " +
                     std::to_string(kMaxIncludeDepth) + " deep");
        return false;
    }
    auto it = std::find(stack_.begin(), stack_.end(), file);
    if (it != stack_.end()) {
        std::string chain;
        for (; it != stack_.end(); ++it) chain += it->filename().string() + " → ";
        c_.error(where, path, "include cycle: " + chain + file.filename().string());
        return false;
    }
    stack_.push_back(file);
    return true;
}

std::vector<std::pair<fs::path, std::string>> Loader::expand_name(const std::string& name,
                                                                  const std::vector<fs::path>& dirs) {
    // Literal text and {{ expressions }}, in order.
    std::vector<std::pair<bool, std::string>> parts;
    size_t i = 0;
    while (i < name.size()) {
        size_t open = name.find("{{", i);
        if (open == std::string::npos) {
            parts.emplace_back(false, name.substr(i));
            break;
        }
        if (open > i) parts.emplace_back(false, name.substr(i, open - i));
        size_t close = name.find("}}", open + 2);
        if (close == std::string::npos) return {};
        parts.emplace_back(true, name.substr(open + 2, close - open - 2));
        i = close + 2;
    }
    if (name.find("{%") != std::string::npos || name.find("{#") != std::string::npos) return {};
    // The directory part must be literal; the rest is a glob where each expression is '*'.
    std::string prefix;
    size_t first_expr = 0;
    while (first_expr < parts.size() && !parts[first_expr].first) prefix += parts[first_expr++].second;
    std::string sub = prefix.rfind('/') == std::string::npos ? "" : prefix.substr(0, prefix.rfind('/') + 1);
    std::string glob;
    std::string expr;
    for (size_t k = 0; k < parts.size(); ++k) {
        const auto& [is_expr, text] = parts[k];
        expr += (expr.empty() ? "" : " ~ ") + (is_expr ? "(" + text + ")" : quoted(text));
        if (is_expr)
            glob += '*';
        else
            for (char ch : text) {
                if (ch == '*' || ch == '?' || ch == '[' || ch == '\\') glob += '\\';
                glob += ch;
            }
    }
    if (glob.size() <= sub.size() || glob.find('/', sub.size()) != std::string::npos) return {};
    const std::string base_glob = glob.substr(sub.size());
    if (base_glob.find_first_not_of('*') == std::string::npos) return {};  // names nothing in particular
    std::map<std::string, fs::path> found;  // relative name → file (first directory wins)
    for (const auto& d : dirs) {
        std::error_code ec;
        fs::directory_iterator it(d / sub, ec);
        if (ec) continue;
        for (const auto& e : it) {
            const std::string fname = e.path().filename().string();
            if (!e.is_regular_file(ec) || fnmatch(base_glob.c_str(), fname.c_str(), FNM_PATHNAME) != 0)
                continue;
            found.emplace(sub + fname, e.path().lexically_normal());
            // A pattern that names a whole directory of unrelated files is not a choice of
            // task or vars files: stop before reading them all.
            if (found.size() > kMaxCandidates) return {};
        }
    }
    std::vector<std::pair<fs::path, std::string>> out;
    out.reserve(found.size());
    for (const auto& [rel, file] : found) out.emplace_back(file, "(" + expr + ") == " + quoted(rel));
    return out;
}

void Loader::include_tasks(const Value& t, const std::string& key, const std::string& path, Play& play,
                           const Ctx& ctx, std::vector<Task>& out, bool handlers) {
    const std::string kpath = path + "/" + key;
    if (!c_.map(t, path,
                {key, "name", "when", "vars", "tags", "become", "become_user", "ignore_errors", "args"}))
        return;
    const Value& arg = *t.get(key);
    std::string name;
    if (arg.is_string())
        name = arg.as_string();
    else if (arg.is_map()) {
        if (c_.map(arg, kpath, {"file", "apply"}))
            if (auto f = c_.str(arg, "file", kpath, true)) name = *f;
        if (arg.get("apply"))
            c_.error(arg.key_mark("apply"), kpath + "/apply", "apply is not supported by decamp yet");
    } else if (const Value* a = t.get("args");
               a && a->is_map() && a->get("file") && a->get("file")->is_string()) {
        name = a->get("file")->as_string();
    }
    name = name.substr(0, name.find_last_not_of(" \t") + 1);
    if (name.empty()) {
        c_.error(arg, kpath, "expected the name of a task file");
        return;
    }
    Ctx inner;
    if (!wrap(t, path, play, ctx, inner)) return;
    ++inner.depth;
    std::vector<fs::path> dirs;
    if (!ctx.role_dir.empty()) dirs.push_back(ctx.role_dir / "tasks");
    dirs.push_back(ctx.file_dir);
    dirs.push_back(dir_);
    std::vector<std::pair<fs::path, std::string>> files;
    if (fs::path(name).is_absolute()) dirs = {fs::path("/")};
    if (tmpl::has_template(name)) {
        // Only where such a file is meant to be: the role's tasks/, else beside this file.
        files = expand_name(name, {fs::path(name).is_absolute() ? fs::path("/")
                                   : ctx.role_dir.empty()       ? ctx.file_dir
                                                                : ctx.role_dir / "tasks"});
        // A playbook that happens to match the pattern is not a task file.
        std::erase_if(files, [&](const auto& f) {
            const Value* root = read_yaml(f.first, arg.mark(), kpath);
            return !root || !root->is_list() ||
                   std::any_of(root->items().begin(), root->items().end(),
                               [](const Value& x) { return x.is_map() && x.get("hosts"); });
        });
        if (files.empty()) {
            c_.error(arg, kpath,
                     "no task file matches \"" + name +
                         "\" (a name built from variables is looked up "
                         "among the files it could name, in the role's tasks/ or beside this file)");
            return;
        }
    } else {
        fs::path found;
        for (const auto& d : dirs)
            if (std::error_code ec; fs::is_regular_file(d / name, ec)) {
                found = (d / name).lexically_normal();
                break;
            }
        if (found.empty()) {
            c_.error(arg, kpath,
                     "task file " + name + " not found (looked in " +
                         (ctx.role_dir.empty() ? "" : (ctx.role_dir / "tasks").string() + ", ") +
                         ctx.file_dir.string() + (ctx.file_dir == dir_ ? "" : ", " + dir_.string()) + ")");
            return;
        }
        files.emplace_back(found, "");
    }
    for (const auto& [file, cond] : files) {
        if (!enter(file, arg.mark(), kpath, inner.depth)) continue;
        if (const Value* root = read_yaml(file, arg.mark(), kpath)) {
            Ctx fc = inner;
            fc.file_dir = file.parent_path();
            fc.when = and_conditions(inner.when, cond);
            if (!root->is_null() && !root->is_list())
                c_.error(*root, file.filename().string(),
                         std::string("expected a list of tasks, found ") + schema::kind_name(root->kind()));
            else
                load_list(*root, file.filename().string(), play, fc, out, handlers);
        }
        leave();
    }
}

std::optional<std::vector<std::string>> Loader::vars_names(const Value& t, const std::string& key,
                                                           const std::string& path, Value& into) {
    const std::string kpath = path + "/" + key;
    const Value& arg = *t.get(key);
    std::vector<std::string> names;
    std::string one;
    if (arg.is_string())
        one = arg.as_string();
    else if (arg.is_map()) {
        if (!c_.map(arg, kpath, {"file", "files", "name"})) return std::nullopt;
        if (const Value* n = arg.get("name")) into = *n;
        if (const Value* fl = arg.get("files"); fl && fl->is_list())
            for (const auto& f : fl->items()) names.push_back(f.to_text());
        else if (auto f = c_.str(arg, "file", kpath, true))
            one = *f;
        else
            return std::nullopt;
    } else {
        c_.error(arg, kpath, "expected a file name or a map with file");
        return std::nullopt;
    }
    auto trim = [](std::string s) {
        s.erase(0, s.find_first_not_of(" \t"));
        s.erase(s.find_last_not_of(" \t") + 1);
        return s;
    };
    one = trim(one);
    // The first-found idioms: include_vars: "{{ item }}" with with_first_found: [names], and
    // "{{ lookup('first_found', params) }}" with params: {files: [names]} in the task's vars.
    std::string compact;
    for (char ch : one)
        if (ch != ' ') compact += ch;
    if (compact == "{{item}}" && t.get("with_first_found")) {
        const Value& ff = *t.get("with_first_found");
        const Value* files = ff.is_map() ? ff.get("files") : &ff;
        if (files && files->is_list())
            for (const auto& f : files->items()) names.push_back(f.to_text());
        else if (files && files->is_string())
            names.push_back(files->as_string());
    } else if (compact.rfind("{{lookup('first_found',", 0) == 0 && compact.size() > 26) {
        std::string var = compact.substr(24, compact.find(')') - 24);
        const Value* vars = t.get("vars");
        const Value* p = vars && vars->is_map() ? vars->get(var) : nullptr;
        const Value* files = p && p->is_map() ? p->get("files") : p;
        if (files && files->is_list())
            for (const auto& f : files->items()) names.push_back(f.to_text());
    } else if (!one.empty()) {
        names.push_back(one);
    }
    if (names.empty()) {
        c_.error(arg, kpath, "expected a vars file name (or a first_found list of them)");
        return std::nullopt;
    }
    return names;
}

// include_vars becomes set_fact tasks, one per file it may read, each under the condition
// that it is the file read (the first found, when several are candidates).
void Loader::include_vars(const Value& t, const std::string& key, const std::string& path, Play& play,
                          const Ctx& ctx, std::vector<Task>& out) {
    if (!c_.map(t, path,
                {key, "name", "when", "vars", "tags", "become", "become_user", "ignore_errors",
                 "with_first_found", "no_log"}))
        return;
    Value under;
    auto names = vars_names(t, key, path, under);
    if (!names) return;
    Ctx inner;
    if (!wrap(t, path, play, ctx, inner)) return;
    std::vector<fs::path> dirs;
    if (!ctx.role_dir.empty()) {
        dirs.push_back(ctx.role_dir / "vars");
        dirs.push_back(ctx.role_dir);
    }
    dirs.push_back(ctx.file_dir / "vars");
    dirs.push_back(ctx.file_dir);
    dirs.push_back(dir_ / "vars");
    dirs.push_back(dir_);
    const std::string kpath = path + "/" + key;
    std::string none_before;  // "no earlier candidate was found"
    bool any = false;
    for (const auto& n : *names) {
        std::vector<std::pair<fs::path, std::string>> files;
        if (tmpl::has_template(n)) {
            // Only where vars files are meant to be, and only files that hold vars.
            files = expand_name(n, ctx.role_dir.empty()
                                       ? std::vector<fs::path>{ctx.file_dir / "vars", ctx.file_dir}
                                       : std::vector<fs::path>{ctx.role_dir / "vars"});
            std::erase_if(files, [&](const auto& f) {
                const Value* v = read_yaml(f.first, t.get(key)->mark(), kpath);
                return !v || !v->is_map();
            });
        } else {
            for (const auto& d : fs::path(n).is_absolute() ? std::vector<fs::path>{"/"} : dirs)
                if (std::error_code ec; fs::is_regular_file(d / n, ec)) {
                    files.emplace_back((d / n).lexically_normal(), "");
                    break;
                }
        }
        std::string any_of;
        for (const auto& [file, cond] : files) {
            const Value* v = read_yaml(file, t.get(key)->mark(), kpath);
            if (!v) continue;
            if (!v->is_map() && !v->is_null()) {
                c_.error(*v, file.string(), "expected a map of variable name to value");
                continue;
            }
            any = true;
            Value args = *v;
            if (under.is_string()) {
                args = Value::map();
                args.set(under.as_string(), v->is_null() ? Value::map() : *v);
            }
            if (args.is_null() || args.entries().empty()) continue;
            Task task;
            task.module = "set_fact";
            task.name = "include_vars " + file.filename().string();
            task.args = args;
            task.mark = t.mark();
            task.dir = dir_;
            task.role_dir = ctx.role_dir;
            task.file_dir = ctx.file_dir;
            task.role = ctx.role;
            task.defaults = inner.task_defaults;
            task.vars = inner.vars;
            task.tags = inner.tags;
            task.rescue = inner.rescue;
            task.when = and_conditions(inner.when, and_conditions(none_before, cond));
            for (const auto& [k, x] : args.entries()) book_->defines.push_back(k);
            out.push_back(std::move(task));
            any_of += (any_of.empty() ? "" : " or ") + (cond.empty() ? "true" : "(" + cond + ")");
        }
        if (files.size() == 1 && files[0].second.empty()) break;  // a static file found: the rest never apply
        if (!any_of.empty()) none_before = and_conditions(none_before, "not (" + any_of + ")");
    }
    if (!any)
        c_.error(*t.get(key), kpath,
                 "no vars file found for " + names->front() +
                     (names->size() > 1 ? " (nor the other candidates)" : "") +
                     " (looked in the role's vars/, beside this file and the playbook)");
}

}  // namespace decamp::playbook::detail
