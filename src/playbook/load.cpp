// Playbook loading: structure, keywords, module names and module arguments are all checked
// here, so a typo fails before any host is touched.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <tuple>

#include "modules/args.hpp"
#include "modules/module.hpp"
#include "playbook/playbook.hpp"
#include "playbook/task_file.hpp"
#include "playbook/template_check.hpp"
#include "playbook/template.hpp"
#include "util/schema.hpp"
#include "util/yaml.hpp"

namespace decamp::playbook {

namespace {

using schema::Checker;

const std::vector<std::string> kPlayKeys = {
    "name", "hosts", "vars", "tasks", "handlers", "pre_tasks", "post_tasks", "become",
    "become_user", "gather_facts", "serial", "max_fail_percentage", "any_errors_fatal"};

const std::vector<std::string> kTaskKeys = {
    "name", "when", "notify", "loop", "with_items", "register", "changed_when", "failed_when",
    "ignore_errors", "become", "become_user", "vars", "listen", "no_log", "args"};

// Modules the engine itself implements (they never reach a host).
const std::vector<std::string> kBuiltins = {"debug", "set_fact"};

bool is_builtin(const std::string& m) {
    return std::find(kBuiltins.begin(), kBuiltins.end(), m) != kBuiltins.end();
}

std::string canonical_module(const std::string& key) {
    const std::string prefix = "ansible.builtin.";
    if (key.rfind(prefix, 0) == 0) return key.substr(prefix.size());
    const std::string prefix2 = "community.postgresql.";
    if (key.rfind(prefix2, 0) == 0) return key.substr(prefix2.size());
    return key;
}

// Ansible's old "k=v k2='v 2'" argument form.
bool parse_kv(const std::string& text, Value& out) {
    std::vector<std::string> words;
    std::string cur;
    char q = 0;
    bool any = false;
    for (char c : text) {
        if (q) {
            if (c == q) q = 0;
            else cur += c;
        } else if (c == '\'' || c == '"') {
            q = c;
            any = true;
        } else if (c == ' ' || c == '\t') {
            if (!cur.empty() || any) words.push_back(cur);
            cur.clear();
            any = false;
        } else {
            cur += c;
        }
    }
    if (q) return false;
    if (!cur.empty() || any) words.push_back(cur);
    for (const auto& w : words) {
        auto eq = w.find('=');
        if (eq == std::string::npos || eq == 0) return false;
        out.set(w.substr(0, eq), Value::string(w.substr(eq + 1)));
    }
    return true;
}

bool contains_template(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::String: return tmpl::has_template(v.as_string());
        case Value::Kind::List:
            for (const auto& i : v.items())
                if (contains_template(i)) return true;
            return false;
        case Value::Kind::Map:
            for (const auto& [k, i] : v.entries())
                if (contains_template(i)) return true;
            return false;
        default: return false;
    }
}

class Loader {
public:
    Loader(const std::filesystem::path& path, std::vector<Diagnostic>& diags)
        : path_(path), dir_(std::filesystem::absolute(path).parent_path()), diags_(diags), c_(diags) {}

    void load(const Value& root, Playbook& book) {
        if (root.is_null()) {
            c_.error(Mark{path_.string(), 1, 1}, "", "the playbook is empty; expected a list of plays");
            return;
        }
        if (!root.is_list()) {
            c_.error(root, "", std::string("expected a list of plays, found ") + schema::kind_name(root.kind()));
            return;
        }
        book_ = &book;
        size_t i = 0;
        for (const auto& p : root.items()) load_play(p, std::to_string(i++), book);
    }

private:
    void load_play(const Value& p, const std::string& path, Playbook& book) {
        if (p.is_map() && p.get("import_playbook")) {
            c_.error(p.key_mark("import_playbook"), path + "/import_playbook",
                     "import_playbook is not supported; list the playbooks under the role instead");
            return;
        }
        if (!c_.map(p, path, kPlayKeys)) return;
        Play play;
        play.mark = p.mark();
        if (auto n = c_.str(p, "name", path)) play.name = *n;
        if (auto h = c_.str_list(p, "hosts", path, true)) {
            for (const auto& x : *h) play.hosts += (play.hosts.empty() ? "" : ",") + x;
            if (play.hosts.empty()) c_.error(p, path + "/hosts", "expected a host pattern (a role, all, a provider, a host name or a glob)");
        }
        if (const Value* v = p.get("vars")) {
            if (v->is_map()) play.vars = *v;
            else if (!v->is_null()) c_.error(*v, path + "/vars", "expected a map of variable name to value");
        }
        check_play_templates(play, path, book, c_);
        play.become = c_.boolean(p, "become", path);
        if (auto u = c_.str(p, "become_user", path)) play.become_user = *u;
        if (auto g = c_.boolean(p, "gather_facts", path)) play.gather_facts = *g;
        if (const Value* s = p.get("serial")) {
            if (s->kind() == Value::Kind::Int && s->as_int() > 0) play.serial = std::to_string(s->as_int());
            else if (s->is_string() && !s->as_string().empty() && s->as_string().back() == '%' &&
                     s->as_string().find_first_not_of("0123456789") == s->as_string().size() - 1 && s->as_string().size() > 1)
                play.serial = s->as_string();
            else c_.error(*s, path + "/serial", "expected a positive number of hosts or a percentage such as \"30%\"");
        }
        if (auto m = c_.integer(p, "max_fail_percentage", path, false, 0, 100)) play.max_fail_percentage = int(*m);
        if (auto a = c_.boolean(p, "any_errors_fatal", path)) play.any_errors_fatal = *a;
        for (const char* key : {"pre_tasks", "tasks", "post_tasks"}) load_tasks(p, key, path, play, play.tasks, false);
        load_tasks(p, "handlers", path, play, play.handlers, true);
        // A notify that names no handler is a typo that Ansible only reports at run time.
        for (size_t ti = 0; ti < play.tasks.size(); ++ti)
            for (const auto& n : play.tasks[ti].notify) {
                const Task& t = play.tasks[ti];
                bool found = false;
                std::vector<std::string> names;
                for (const auto& h : play.handlers) {
                    names.push_back(h.name);
                    found = found || h.name == n ||
                            std::find(h.listen.begin(), h.listen.end(), n) != h.listen.end();
                }
                if (!found) {
                    std::string msg = "notify names handler \"" + n + "\", which this play does not define";
                    std::string hint = schema::did_you_mean(n, names);
                    if (!hint.empty()) msg += "; did you mean \"" + hint + "\"?";
                    c_.error(t.mark, path + "/tasks/" + std::to_string(ti) + "/notify", msg);
                }
            }
        book.plays.push_back(std::move(play));
    }

    void load_tasks(const Value& p, const char* key, const std::string& path, const Play& play,
                    std::vector<Task>& out, bool handlers) {
        const Value* list = p.get(key);
        if (!list || list->is_null()) return;
        std::string lpath = path + "/" + key;
        if (!list->is_list()) {
            c_.error(*list, lpath, std::string("expected a list of tasks, found ") + schema::kind_name(list->kind()));
            return;
        }
        size_t i = 0;
        for (const auto& t : list->items()) load_task(t, lpath + "/" + std::to_string(i++), play, out, handlers);
    }

    void load_task(const Value& t, const std::string& path, const Play& play, std::vector<Task>& out,
                   bool handler) {
        if (!t.is_map()) {
            c_.error(t, path, std::string("expected a task (a map with name and one module), found ") + schema::kind_name(t.kind()));
            return;
        }
        note_defines(t);
        Task task;
        task.mark = t.mark();
        task.dir = dir_;
        std::vector<std::string> module_keys;
        for (const auto& [k, v] : t.entries()) {
            if (std::find(kTaskKeys.begin(), kTaskKeys.end(), k) != kTaskKeys.end()) continue;
            if (k == "block" || k == "include_tasks" || k == "import_tasks" || k == "include_role" ||
                k == "import_role" || k == "tags" || k == "delegate_to" || k == "until" ||
                k == "retries" || k == "async" || k == "environment") {
                c_.error(t.key_mark(k), path + "/" + k, "keyword \"" + k + "\" is not supported by decamp");
                module_keys.push_back("");
                continue;
            }
            module_keys.push_back(k);
        }
        std::erase(module_keys, std::string());
        if (module_keys.empty()) {
            if (t.entries().empty() || std::all_of(t.entries().begin(), t.entries().end(), [](const auto& e) {
                    return std::find(kTaskKeys.begin(), kTaskKeys.end(), e.first) != kTaskKeys.end();
                }))
                c_.error(t, path, "task has no module; expected exactly one module key such as apt, copy, service");
            return;
        }
        if (module_keys.size() > 1) {
            std::string msg = "task has several module keys (";
            for (size_t i = 0; i < module_keys.size(); ++i) msg += (i ? ", " : "") + module_keys[i];
            msg += "); expected exactly one module, the rest being task keywords";
            std::vector<std::string> kw = kTaskKeys;
            for (const auto& mk : module_keys) {
                std::string hint = schema::did_you_mean(mk, kw);
                if (!hint.empty()) {
                    c_.error(t.key_mark(mk), path + "/" + mk, "unknown task keyword \"" + mk + "\"; did you mean \"" + hint + "\"?");
                    return;
                }
            }
            c_.error(t.key_mark(module_keys[1]), path, msg);
            return;
        }
        const std::string key = module_keys[0];
        task.module = canonical_module(key);
        const modules::Module* mod = is_builtin(task.module) ? nullptr : modules::find(task.module);
        if (!mod && !is_builtin(task.module)) {
            std::vector<std::string> candidates = modules::names();
            candidates.insert(candidates.end(), kBuiltins.begin(), kBuiltins.end());
            std::vector<std::string> all = candidates;
            all.insert(all.end(), kTaskKeys.begin(), kTaskKeys.end());
            std::string msg = "unsupported module \"" + key + "\"";
            std::string hint = schema::did_you_mean(task.module, all);
            if (!hint.empty()) msg += "; did you mean \"" + hint + "\"?";
            else {
                msg += "; supported modules: ";
                for (size_t i = 0; i < candidates.size(); ++i) msg += (i ? ", " : "") + candidates[i];
            }
            c_.error(t.key_mark(key), path + "/" + key, msg);
            return;
        }
        std::string mpath = path + "/" + key;
        const Value& raw = *t.get(key);
        Value args = Value::map();
        if (raw.is_map()) {
            args = raw;
        } else if (raw.is_string() || raw.kind() == Value::Kind::Int) {
            std::string text = raw.to_text();
            if (mod && mod->free_form()) {
                args.set("cmd", Value::string(text).at(raw.mark()));
            } else if (task.module == "debug") {
                args.set("msg", Value::string(text).at(raw.mark()));
            } else if (!parse_kv(text, args)) {
                c_.error(raw, mpath, "expected a map of arguments (or key=value pairs)");
                return;
            }
        } else if (!raw.is_null()) {
            c_.error(raw, mpath, std::string("expected a map of arguments, found ") + schema::kind_name(raw.kind()));
            return;
        }
        args.at(raw.mark());
        if (const Value* extra = t.get("args")) {
            if (!extra->is_map()) c_.error(*extra, path + "/args", "expected a map of arguments");
            else for (const auto& [k, v] : extra->entries()) args.set(k, v);
        }
        check_args(task.module, mod, args, mpath);
        task.args = args;

        if (auto n = c_.str(t, "name", path)) task.name = *n;
        if (handler && task.name.empty()) c_.error(t, path + "/name", "a handler needs a name (notify refers to it)");
        task.when = conditions(t, "when", path);
        task.changed_when = conditions(t, "changed_when", path);
        task.failed_when = conditions(t, "failed_when", path);
        if (auto n = c_.str_list(t, "notify", path)) task.notify = *n;
        if (auto l = c_.str_list(t, "listen", path)) {
            task.listen = *l;
            if (!handler) c_.error(t.key_mark("listen"), path + "/listen", "listen is only meaningful on handlers");
        }
        if (const Value* l = t.get("loop") ? t.get("loop") : t.get("with_items")) {
            if (l->is_list() || (l->is_string() && tmpl::has_template(l->as_string()))) task.loop = *l;
            else c_.error(*l, path + "/loop", "expected a list or a \"{{ variable }}\" that gives a list");
        }
        if (auto r = c_.str(t, "register", path)) {
            task.register_as = *r;
            if (r->empty() || !(isalpha(static_cast<unsigned char>((*r)[0])) || (*r)[0] == '_') ||
                r->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != std::string::npos)
                c_.error(*t.get("register"), path + "/register", "expected a variable name (letters, digits, _)");
        }
        task.become = c_.boolean(t, "become", path);
        if (auto u = c_.str(t, "become_user", path)) task.become_user = *u;
        if (auto ie = c_.boolean(t, "ignore_errors", path)) task.ignore_errors = *ie;
        if (auto nl = c_.boolean(t, "no_log", path)) task.no_log = *nl;
        if (const Value* v = t.get("vars")) {
            if (v->is_map()) task.vars = *v;
            else c_.error(*v, path + "/vars", "expected a map of variable name to value");
        }
        check_task_templates(t, task, play, path, key, *book_, c_);
        out.push_back(std::move(task));
    }

    // The names a task may define for later ones, even when the task itself is broken: the
    // run-wide check of undefined variables must not blame its users for its error.
    void note_defines(const Value& t) {
        for (const auto& [k, v] : t.entries()) {
            if (k == "register" && v.is_string()) book_->defines.push_back(v.as_string());
            if (canonical_module(k) != "set_fact") continue;
            Value args = Value::map();
            if (v.is_map()) args = v;
            else if (v.is_string()) (void)parse_kv(v.as_string(), args);
            for (const auto& [name, value] : args.entries()) book_->defines.push_back(name);
        }
    }

    std::string conditions(const Value& t, const char* key, const std::string& path) {
        const Value* v = t.get(key);
        if (!v || v->is_null()) return "";
        std::vector<std::string> parts;
        if (v->is_list()) {
            for (const auto& i : v->items()) parts.push_back(i.to_text());
        } else if (v->is_scalar()) {
            parts.push_back(v->to_text());
        } else {
            c_.error(*v, path + "/" + key, "expected a condition or a list of conditions");
            return "";
        }
        // The expression is checked with the task's other templates (template_check.cpp).
        std::string out;
        for (const auto& p : parts) out += (out.empty() ? "" : " and ") + ("(" + p + ")");
        return parts.size() == 1 ? parts[0] : out;
    }

    void check_args(const std::string& name, const modules::Module* mod, const Value& args,
                    const std::string& path) {
        try {
            modules::require_no_nul(args);
        } catch (const modules::ArgError& e) {
            const Value* v = args.is_map() ? args.get(e.key()) : nullptr;
            c_.error(v ? v->mark() : args.mark(), e.key().empty() ? path : path + "/" + e.key(), e.what());
            return;
        }
        if (name == "copy" || name == "template") check_src(name, args, path);
        std::vector<std::string> allowed;
        std::vector<std::string> required;
        if (name == "debug") allowed = {"msg", "var"};
        else if (name == "set_fact") {
            if (!args.is_map() || args.entries().empty()) c_.error(args, path, "set_fact needs at least one name: value");
            return;
        } else {
            allowed = mod->allowed_args();
            required = mod->required_args();
        }
        size_t before = diags_count();
        if (!c_.map(args, path, allowed)) return;
        if (diags_count() != before) return;  // unknown keys already said it all
        bool has_all = true;
        for (const auto& r : required) {
            if (!args.get(r)) {
                // An alias may stand for it (e.g. dest for path); the module's own check says so.
                has_all = false;
            }
        }
        // With static arguments, the module can check values now (state: presnt, mode: abc).
        // copy/template with src: the planner reads the file first, so values are checked then.
        bool reads_src = (name == "copy" || name == "template") && args.get("src");
        if (mod && !reads_src && !contains_template(args)) {
            try {
                (void)mod->plan(args);
            } catch (const modules::ArgError& e) {
                const std::string& k = e.key();
                Mark m = !k.empty() && args.get(k) ? args.get(k)->mark() : args.mark();
                c_.error(m, k.empty() ? path : path + "/" + k, e.what());
            } catch (const std::exception&) {
                // Only argument errors are load-time errors; anything else surfaces at run.
            }
        } else if (!has_all && mod) {
            for (const auto& r : required)
                if (!args.get(r)) c_.error(args, path + "/" + r, "required argument \"" + r + "\" is missing");
        }
    }

    // A static src must be a regular readable file now, not at plan time (or, worse, a
    // truncated destination): a directory, FIFO, device or missing file is reported here.
    void check_src(const std::string& name, const Value& args, const std::string& path) {
        const Value* src = args.get("src");
        if (!src || !src->is_string() || tmpl::has_template(src->as_string())) return;
        const auto p = resolve_task_file(dir_, name, src->as_string());
        const std::string why = task_file_problem(p);
        if (!why.empty()) c_.error(*src, path + "/src", "cannot read " + src->as_string() + " (" + p.string() + "): " + why);
    }

    size_t diags_count() const { return diags_.size(); }

    std::filesystem::path path_;
    std::filesystem::path dir_;
    std::vector<Diagnostic>& diags_;
    Checker c_;
    Playbook* book_ = nullptr;
};

}  // namespace

const std::vector<std::string>& task_keywords() { return kTaskKeys; }

std::string Task::display_name() const {
    if (!name.empty()) return name;
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
    if (parsed) Loader(path, diags).load(root, book);
    std::stable_sort(diags.begin(), diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::tie(a.mark.line, a.mark.column) < std::tie(b.mark.line, b.mark.column);
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
