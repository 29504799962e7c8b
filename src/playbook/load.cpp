// Playbook loading: plays, import_playbook, vars_files, and the public entry points. Tasks,
// blocks, includes and roles are in load_task.cpp, include.cpp and roles.cpp (loader.hpp).
// Structure, keywords, module names and module arguments are all checked here, so a typo
// fails before any host is touched.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <tuple>

#include "playbook/loader.hpp"
#include "playbook/template.hpp"
#include "playbook/template_check.hpp"
#include "util/vars_dir.hpp"
#include "util/yaml.hpp"

namespace decamp::playbook {

namespace detail {

namespace {

const std::vector<std::string> kPlayKeys = {"name",
                                            "hosts",
                                            "vars",
                                            "tasks",
                                            "handlers",
                                            "pre_tasks",
                                            "post_tasks",
                                            "become",
                                            "become_user",
                                            "gather_facts",
                                            "serial",
                                            "max_fail_percentage",
                                            "any_errors_fatal",
                                            "roles",
                                            "vars_files",
                                            "tags",
                                            "remote_user",
                                            "connection"};

bool is_import_playbook(const std::string& k) {
    return k == "import_playbook" || k == "ansible.builtin.import_playbook" || k == "include";
}

}  // namespace

Loader::Loader(const fs::path& path, std::vector<Diagnostic>& diags)
    : path_(path), dir_(fs::absolute(path).parent_path()), diags_(diags), c_(diags) {}

void Loader::load(const Value& root, Playbook& book) {
    book_ = &book;
    stack_.push_back(fs::absolute(path_).lexically_normal());
    load_plays(root, path_, "", 0);
}

void Loader::load_plays(const Value& root, const fs::path& file, const std::string& path, int depth) {
    if (root.is_null()) {
        c_.error(Mark{file.string(), 1, 1}, path, "the playbook is empty; expected a list of plays");
        return;
    }
    if (!root.is_list()) {
        c_.error(root, path,
                 std::string("expected a list of plays, found ") + schema::kind_name(root.kind()));
        return;
    }
    size_t i = 0;
    for (const auto& p : root.items())
        load_play(p, file, schema::Checker::join(path, std::to_string(i++)), depth);
}

void Loader::import_playbook(const Value& p, const fs::path& file, const std::string& path, int depth) {
    std::string key;
    for (const auto& [k, v] : p.entries())
        if (is_import_playbook(k)) key = k;
    if (!c_.map(p, path, {key, "name", "vars", "when", "tags"})) return;
    const Value& name = *p.get(key);
    const std::string kpath = path + "/" + key;
    if (!name.is_string() || name.as_string().empty()) {
        c_.error(name, kpath, "expected the path of a playbook file");
        return;
    }
    if (tmpl::has_template(name.as_string())) {
        c_.error(name, kpath,
                 "import_playbook needs a static file name (it is read before any variable exists)");
        return;
    }
    if (p.get("vars") || p.get("when") || p.get("tags")) {
        c_.error(p.key_mark(p.get("vars")   ? "vars"
                            : p.get("when") ? "when"
                                            : "tags"),
                 path,
                 "vars, when and tags on import_playbook are not supported; put them on the imported plays");
        return;
    }
    fs::path target = fs::path(name.as_string());
    if (target.is_relative()) target = fs::absolute(file).parent_path() / target;
    target = target.lexically_normal();
    if (!enter(target, name.mark(), kpath, depth + 1)) return;
    if (const Value* root = read_yaml(target, name.mark(), kpath))
        load_plays(*root, target, kpath, depth + 1);
    leave();
}

void Loader::load_play(const Value& p, const fs::path& file, const std::string& path, int depth) {
    if (p.is_map())
        for (const auto& [k, v] : p.entries())
            if (is_import_playbook(k) && !p.get("hosts")) return import_playbook(p, file, path, depth);
    if (!c_.map(p, path, kPlayKeys)) return;
    Play play;
    play.mark = p.mark();
    role_missing_ = false;
    roles_done_.clear();  // a role runs once per play, again in the next one
    const fs::path pdir = fs::absolute(file).parent_path();
    if (auto n = c_.str(p, "name", path)) play.name = *n;
    if (auto h = c_.str_list(p, "hosts", path, true)) {
        for (const auto& x : *h) play.hosts += (play.hosts.empty() ? "" : ",") + x;
        if (play.hosts.empty())
            c_.error(p, path + "/hosts",
                     "expected a host pattern (a role, all, a provider, a host name or a glob)");
    }
    if (const Value* v = p.get("vars")) {
        if (v->is_map())
            play.vars = *v;
        else if (!v->is_null())
            c_.error(*v, path + "/vars", "expected a map of variable name to value");
    }
    Ctx ctx;
    ctx.file_dir = pdir;
    ctx.depth = depth;
    // group_vars/ and host_vars/ beside the playbook: per host, layered by plan::HostVars; the
    // names they define are known to the checks, group_vars/all's to every task's.
    auto dirs = vars_dirs_.find(pdir);
    if (dirs == vars_dirs_.end())
        dirs = vars_dirs_
                   .emplace(pdir, std::make_pair(vars_dir::read_all(pdir / "group_vars", diags_),
                                                 vars_dir::read_all(pdir / "host_vars", diags_)))
                   .first;
    play.group_vars = dirs->second.first;
    play.host_vars = dirs->second.second;
    for (const Value* d : {&play.group_vars, &play.host_vars})
        for (const auto& [name, vars] : d->entries())
            for (const auto& [k, v] : vars.entries()) book_->defines.push_back(k);
    if (const Value* all = play.group_vars.get("all")) ctx.group_vars = *all;
    if (auto t = c_.str_list(p, "tags", path)) play.tags = *t;
    ctx.tags = play.tags;
    if (auto u = c_.str(p, "remote_user", path)) play.remote_user = *u;
    if (auto cn = c_.str(p, "connection", path)) {
        play.connection = *cn;
        if (*cn != "local" && *cn != "ssh" && *cn != "smart")
            c_.error(*p.get("connection"), path + "/connection", "expected local or ssh");
    }
    // vars_files first: a static file's vars join the play's (over them, as Ansible orders
    // them); one whose name is a template becomes an include_vars task at the play's start.
    std::vector<Task> vars_tasks;
    if (const Value* vf = p.get("vars_files")) {
        Value fake = Value::map();
        fake.set("vars_files", *vf);
        if (!vf->is_list())
            c_.error(*vf, path + "/vars_files", "expected a list of files");
        else {
            size_t i = 0;
            for (const auto& item : vf->items()) {
                const std::string ip = path + "/vars_files/" + std::to_string(i++);
                std::vector<std::string> names;
                if (item.is_string())
                    names.push_back(item.as_string());
                else if (item.is_list())
                    for (const auto& n : item.items()) names.push_back(n.to_text());
                else {
                    c_.error(item, ip, "expected a file name or a list of candidate file names");
                    continue;
                }
                bool all_static = std::none_of(names.begin(), names.end(), tmpl::has_template);
                if (all_static) {
                    bool found = false;
                    for (const auto& n : names) {
                        fs::path f = fs::path(n).is_relative() ? pdir / n : fs::path(n);
                        if (!fs::is_regular_file(f)) continue;
                        found = true;
                        if (const Value* v = read_yaml(f.lexically_normal(), item.mark(), ip)) {
                            if (v->is_map())
                                play.vars = merged(play.vars, *v);
                            else if (!v->is_null())
                                c_.error(*v, ip, "expected a map of variable name to value");
                        }
                        break;
                    }
                    if (!found)
                        c_.error(item, ip,
                                 "vars file not found (looked beside the playbook, " + pdir.string() + ")");
                } else {
                    Value t = Value::map();
                    Value l = item.is_list() ? item : Value::list({item});
                    Value ff = Value::map();
                    ff.set("files", l);
                    t.set("include_vars", ff);
                    t.at(item.mark());
                    include_vars(t, "include_vars", ip, play, ctx, vars_tasks);
                }
            }
        }
    }
    check_play_templates(play, path, *book_, c_);
    play.become = c_.boolean(p, "become", path);
    if (auto u = c_.str(p, "become_user", path)) play.become_user = *u;
    if (auto g = c_.boolean(p, "gather_facts", path)) play.gather_facts = *g;
    if (const Value* s = p.get("serial")) {
        if (s->kind() == Value::Kind::Int && s->as_int() > 0)
            play.serial = std::to_string(s->as_int());
        else if (s->is_string() && !s->as_string().empty() && s->as_string().back() == '%' &&
                 s->as_string().find_first_not_of("0123456789") == s->as_string().size() - 1 &&
                 s->as_string().size() > 1)
            play.serial = s->as_string();
        else
            c_.error(*s, path + "/serial",
                     "expected a positive number of hosts or a percentage such as \"30%\"");
    }
    if (auto m = c_.integer(p, "max_fail_percentage", path, false, 0, 100))
        play.max_fail_percentage = int(*m);
    if (auto a = c_.boolean(p, "any_errors_fatal", path)) play.any_errors_fatal = *a;
    play.tasks = std::move(vars_tasks);
    // Ansible's order: pre_tasks, roles, tasks, post_tasks; handlers of roles join the play's.
    load_section(p, "pre_tasks", path, play, ctx, play.tasks, false);
    load_roles(p, path, play, ctx);
    load_section(p, "tasks", path, play, ctx, play.tasks, false);
    load_section(p, "post_tasks", path, play, ctx, play.tasks, false);
    load_section(p, "handlers", path, play, ctx, play.handlers, true);
    // A role that was not found may define the handlers its play notifies: not a second error.
    if (!role_missing_) check_notify(play, path);
    role_missing_ = false;
    book_->plays.push_back(std::move(play));
}

void Loader::load_section(const Value& p, const char* key, const std::string& path, Play& play,
                          const Ctx& ctx, std::vector<Task>& out, bool handlers) {
    const Value* list = p.get(key);
    if (!list || list->is_null()) return;
    load_list(*list, path + "/" + key, play, ctx, out, handlers);
}

// A notify that names no handler is a typo that Ansible only reports at run time.
void Loader::check_notify(const Play& play, const std::string& path) {
    std::vector<std::string> names;
    for (const auto& h : play.handlers) {
        names.push_back(h.name);
        names.insert(names.end(), h.listen.begin(), h.listen.end());
    }
    for (size_t ti = 0; ti < play.tasks.size(); ++ti)
        for (const auto& n : play.tasks[ti].notify) {
            const Task& t = play.tasks[ti];
            if (std::find(names.begin(), names.end(), n) != names.end()) continue;
            // A name with a template is rendered at run time; its handler cannot be known now.
            if (tmpl::has_template(n)) continue;
            std::string msg = "notify names handler \"" + n + "\", which this play does not define";
            std::string hint = schema::did_you_mean(n, names);
            if (!hint.empty()) msg += "; did you mean \"" + hint + "\"?";
            c_.error(t.mark, path + "/tasks/" + std::to_string(ti) + "/notify", msg);
        }
}

}  // namespace detail

const std::vector<std::string>& task_keywords();

std::string Task::display_name() const {
    if (!name.empty()) return role.empty() ? name : role + " : " + name;
    std::string first;
    if (args.is_map() && !args.entries().empty()) first = args.entries()[0].second.to_text();
    if (first.size() > 60) first = first.substr(0, 57) + "...";
    return module + (first.empty() ? "" : ": " + first);
}

std::optional<Playbook> load_text(const std::string& text, const std::filesystem::path& path,
                                  std::vector<Diagnostic>& out) {
    std::vector<Diagnostic> diags;
    Value root = yaml::parse(text, path.string(), diags);
    Playbook book;
    book.path = path;
    bool parsed = diags.empty() || !root.is_null();
    if (parsed) detail::Loader(path, diags).load(root, book);
    std::stable_sort(diags.begin(), diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::tie(a.mark.file, a.mark.line, a.mark.column) <
               std::tie(b.mark.file, b.mark.line, b.mark.column);
    });
    out.insert(out.end(), diags.begin(), diags.end());
    if (!parsed) return std::nullopt;
    return book;
}

std::optional<Playbook> load(const std::filesystem::path& path, std::vector<Diagnostic>& diags) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        diags.push_back(Diagnostic{Mark{path.string(), 0, 0}, "", "cannot read playbook file"});
        return std::nullopt;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return load_text(ss.str(), path, diags);
}

Playbook load_text(const std::string& text, const std::filesystem::path& path) {
    std::vector<Diagnostic> diags;
    auto book = load_text(text, path, diags);
    if (!diags.empty()) throw ConfigError(std::move(diags));
    return std::move(*book);
}

Playbook load(const std::filesystem::path& path) {
    std::vector<Diagnostic> diags;
    auto book = load(path, diags);
    if (!diags.empty()) throw ConfigError(std::move(diags));
    return std::move(*book);
}

}  // namespace decamp::playbook
