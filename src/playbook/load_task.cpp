// One module task: its keywords, its module (known, with its arguments checked now) and what
// it inherits from its enclosing blocks, includes and role (loader.hpp's Ctx).
#include <algorithm>

#include "modules/args.hpp"
#include "playbook/ansible_modules.hpp"
#include "playbook/loader.hpp"
#include "playbook/task_file.hpp"
#include "playbook/template.hpp"
#include "playbook/template_check.hpp"

namespace decamp::playbook {

namespace {

const std::vector<std::string> kTaskKeys = {
    "name",        "when",          "notify",     "loop",        "with_items", "register", "changed_when",
    "failed_when", "ignore_errors", "become",     "become_user", "vars",       "listen",   "no_log",
    "args",        "tags",          "check_mode", "with_dict",   "with_list"};

// Keywords Ansible has that decamp does not run yet: an error naming them, never a skip.
const std::vector<std::string> kUnsupported = {"delegate_to",     "until",
                                               "retries",         "delay",
                                               "async",           "poll",
                                               "environment",     "run_once",
                                               "loop_control",    "with_together",
                                               "with_fileglob",   "with_first_found",
                                               "with_nested",     "with_subelements",
                                               "with_sequence",   "with_indexed_items",
                                               "local_action",    "diff",
                                               "throttle",        "connection",
                                               "remote_user",     "any_errors_fatal",
                                               "debugger",        "collections",
                                               "module_defaults", "delegate_facts",
                                               "become_method",   "become_flags"};

// Modules the engine itself implements (they never reach a host).
const std::vector<std::string> kBuiltins = {"debug", "set_fact"};

bool is_builtin(const std::string& m) {
    return std::find(kBuiltins.begin(), kBuiltins.end(), m) != kBuiltins.end();
}

std::string compact(const std::string& s) {
    std::string out;
    for (char c : s)
        if (c != ' ') out += c;
    return out;
}

bool contains_template(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::String:
            return tmpl::has_template(v.as_string());
        case Value::Kind::List:
            return std::any_of(v.items().begin(), v.items().end(), contains_template);
        case Value::Kind::Map:
            return std::any_of(v.entries().begin(), v.entries().end(),
                               [](const auto& e) { return contains_template(e.second); });
        default:
            return false;
    }
}

// Ansible reads options of command/shell written inside the free-form text ("creates=/x
// cmd ..."): they are moved to `args`, the rest stays the command. Words are split as a shell
// would (quotes) and never inside {{ }}.
std::string take_inline_options(const std::string& text, Value& args, const Mark& mark) {
    static const char* const kOptions[] = {"creates", "removes", "chdir", "executable", "warn", "stdin"};
    std::string rest;
    size_t i = 0;
    while (i < text.size()) {
        size_t start = i;
        char q = 0;
        int braces = 0;
        for (; i < text.size(); ++i) {
            char c = text[i];
            if (q) {
                if (c == q) q = 0;
            } else if (text.compare(i, 2, "{{") == 0) {
                ++braces;
                ++i;
            } else if (braces && text.compare(i, 2, "}}") == 0) {
                --braces;
                ++i;
            } else if (!braces && (c == '\'' || c == '"')) {
                q = c;
            } else if (!braces && (c == ' ' || c == '\t' || c == '\n')) {
                break;
            }
        }
        std::string word = text.substr(start, i - start);
        bool option = false;
        for (const char* k : kOptions) {
            const std::string prefix = std::string(k) + "=";
            if (word.rfind(prefix, 0) != 0) continue;
            std::string v = word.substr(prefix.size());
            if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front())
                v = v.substr(1, v.size() - 2);
            args.set(k, Value::string(v).at(mark));
            option = true;
        }
        if (!option) rest += text.substr(start, i - start);
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) {
            if (!option) rest += text[i];
            ++i;
        }
    }
    rest.erase(rest.find_last_not_of(" \t\n") + 1);
    return rest;
}

}  // namespace

const std::vector<std::string>& task_keywords() {
    return kTaskKeys;
}

namespace detail {

std::string canonical_module(const std::string& key) {
    for (const char* prefix : {"ansible.builtin.", "ansible.legacy.", "community.postgresql.",
                               "community.general.", "ansible.posix."})
        if (key.rfind(prefix, 0) == 0) return key.substr(std::string(prefix).size());
    return key;
}

std::string and_conditions(const std::string& a, const std::string& b) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    return "(" + a + ") and (" + b + ")";
}

Value merged(const Value& a, const Value& b) {
    Value out = a.is_map() ? a : Value::map();
    if (b.is_map())
        for (const auto& [k, v] : b.entries()) out.set(k, v);
    return out;
}

void add_tags(std::vector<std::string>& tags, const std::vector<std::string>& extra) {
    for (const auto& t : extra)
        if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
}

bool parse_kv(const std::string& text, Value& out, const Mark& mark) {
    std::vector<std::string> words;
    std::string cur;
    char q = 0;
    bool any = false;
    int braces = 0;  // inside {{ }}: a space does not end the word
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (!q && text.compare(i, 2, "{{") == 0) ++braces;
        if (!q && braces && text.compare(i, 2, "}}") == 0) {
            --braces;
            cur += "}}";
            ++i;
            continue;
        }
        if (q) {
            if (c == q)
                q = 0;
            else
                cur += c;
        } else if (!braces && (c == '\'' || c == '"')) {
            q = c;
            any = true;
        } else if (!braces && (c == ' ' || c == '\t')) {
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
        out.set(w.substr(0, eq), Value::string(w.substr(eq + 1)).at(mark));
    }
    return true;
}

// loop, with_items and with_list take the list as written (with_items does not flatten
// nested lists here, as Ansible would); with_dict loops over the map's dict2items
// (item.key, item.value).
void Loader::load_loop(const Value& t, const std::string& path, Task& task) {
    std::string key;
    for (const char* k : {"loop", "with_items", "with_list", "with_dict"}) {
        if (!t.get(k)) continue;
        if (!key.empty()) {
            c_.error(t.key_mark(k), path + "/" + k, "give one of " + key + " and " + k + ", not both");
            return;
        }
        key = k;
    }
    if (key.empty()) return;
    const Value& l = *t.get(key);
    const std::string kpath = path + "/" + key;
    const bool templated = l.is_string() && tmpl::has_template(l.as_string());
    if (key != "with_dict") {
        if (l.is_list() || templated)
            task.loop = l;
        else
            c_.error(l, kpath, "expected a list or a \"{{ variable }}\" that gives a list");
        return;
    }
    if (l.is_map()) {
        Value items = Value::list();
        for (const auto& [k, v] : l.entries()) {
            Value e = Value::map();
            e.set("key", Value::string(k).at(l.mark()));
            e.set("value", v);
            items.push(e);
        }
        task.loop = items.at(l.mark());
        return;
    }
    // "{{ expr }}" alone: loop over "{{ (expr) | dict2items }}".
    std::string text = templated ? l.as_string() : "";
    const size_t a = text.find_first_not_of(" \t\n"), b = text.find_last_not_of(" \t\n");
    if (a != std::string::npos) text = text.substr(a, b - a + 1);
    if (text.size() < 5 || text.compare(0, 2, "{{") != 0 || text.compare(text.size() - 2, 2, "}}") != 0 ||
        text.find("{{", 2) != std::string::npos) {
        c_.error(l, kpath, "expected a map or a \"{{ variable }}\" that gives a map");
        return;
    }
    task.loop = Value::string("{{ (" + text.substr(2, text.size() - 4) + ") | dict2items }}").at(l.mark());
}

void Loader::load_task(const Value& t, const std::string& path, Play& play, const Ctx& ctx,
                       std::vector<Task>& out, bool handler) {
    note_defines(t);
    Task task;
    task.mark = t.mark();
    task.dir = dir_;
    task.role_dir = ctx.role_dir;
    task.file_dir = ctx.file_dir;
    task.role = ctx.role;
    task.defaults = ctx.task_defaults;
    task.rescue = ctx.rescue;
    std::vector<std::string> module_keys;
    for (const auto& [k, v] : t.entries()) {
        if (std::find(kTaskKeys.begin(), kTaskKeys.end(), k) != kTaskKeys.end()) continue;
        if (std::find(kUnsupported.begin(), kUnsupported.end(), k) != kUnsupported.end()) {
            if (task.unsupported.empty()) task.unsupported = k;
            // A loop form decamp does not run still names its variable for the checks.
            if (k == "loop_control" && v.is_map() && v.get("loop_var") && v.get("loop_var")->is_string())
                book_->defines.push_back(v.get("loop_var")->as_string());
            continue;
        }
        module_keys.push_back(k);
    }
    if (module_keys.empty()) {
        if (std::all_of(t.entries().begin(), t.entries().end(), [](const auto& e) {
                return std::find(kTaskKeys.begin(), kTaskKeys.end(), e.first) != kTaskKeys.end();
            }))
            c_.error(t, path,
                     "task has no module; expected exactly one module key such as apt, copy, service");
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
                c_.error(t.key_mark(mk), path + "/" + mk,
                         "unknown task keyword \"" + mk + "\"; did you mean \"" + hint + "\"?");
                return;
            }
        }
        c_.error(t.key_mark(module_keys[1]), path, msg);
        return;
    }
    const std::string key = module_keys[0];
    task.module = canonical_module(key);
    const modules::Module* mod = is_builtin(task.module) ? nullptr : modules::find(task.module);
    // An Ansible module decamp does not implement loads; the planner fails it where it runs.
    bool foreign = false;
    if (!mod && !is_builtin(task.module) && is_ansible_module(short_module_name(task.module))) {
        task.module = short_module_name(task.module);
        foreign = true;
    }
    if (!mod && !is_builtin(task.module) && !foreign) {
        std::vector<std::string> candidates = modules::names();
        candidates.insert(candidates.end(), kBuiltins.begin(), kBuiltins.end());
        std::vector<std::string> all = candidates;
        all.insert(all.end(), kTaskKeys.begin(), kTaskKeys.end());
        std::string msg = "unsupported module \"" + key + "\"";
        std::string hint = schema::did_you_mean(task.module, all);
        if (!hint.empty())
            msg += "; did you mean \"" + hint + "\"?";
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
        if (foreign) {
            if (!parse_kv(text, args, raw.mark()))
                args.set("_raw_params", Value::string(text).at(raw.mark()));
        } else if (mod && mod->free_form()) {
            args.set("cmd", Value::string(take_inline_options(text, args, raw.mark())).at(raw.mark()));
        } else if (task.module == "debug") {
            args.set("msg", Value::string(text).at(raw.mark()));
        } else if (!parse_kv(text, args, raw.mark())) {
            c_.error(raw, mpath, "expected a map of arguments (or key=value pairs)");
            return;
        }
    } else if (!raw.is_null()) {
        c_.error(raw, mpath,
                 std::string("expected a map of arguments, found ") + schema::kind_name(raw.kind()));
        return;
    }
    args.at(raw.mark());
    if (const Value* extra = t.get("args")) {
        if (!extra->is_map())
            c_.error(*extra, path + "/args", "expected a map of arguments");
        else
            for (const auto& [k, v] : extra->entries()) args.set(k, v);
    }
    if (!foreign) check_args(task.module, mod, args, mpath, task);
    task.args = args;

    if (auto n = c_.str(t, "name", path)) task.name = *n;
    if (handler && task.name.empty())
        c_.error(t, path + "/name", "a handler needs a name (notify refers to it)");
    task.when = conditions(t, "when", path);
    task.changed_when = conditions(t, "changed_when", path);
    task.failed_when = conditions(t, "failed_when", path);
    if (auto n = c_.str_list(t, "notify", path)) task.notify = *n;
    if (auto l = c_.str_list(t, "listen", path)) {
        task.listen = *l;
        if (!handler)
            c_.error(t.key_mark("listen"), path + "/listen", "listen is only meaningful on handlers");
    }
    load_loop(t, path, task);
    if (auto r = c_.str(t, "register", path)) {
        task.register_as = *r;
        if (r->empty() || !(isalpha(static_cast<unsigned char>((*r)[0])) || (*r)[0] == '_') ||
            r->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
                std::string::npos)
            c_.error(*t.get("register"), path + "/register", "expected a variable name (letters, digits, _)");
    }
    task.become = c_.boolean(t, "become", path);
    if (!task.become) task.become = ctx.become;
    if (auto u = c_.str(t, "become_user", path))
        task.become_user = *u;
    else
        task.become_user = ctx.become_user;
    task.ignore_errors = ctx.ignore_errors;
    // "{{ ansible_check_mode }}" is false in a real run, and decamp's check mode runs no task.
    const Value* ie_raw = t.get("ignore_errors");
    if (ie_raw && ie_raw->is_string() && compact(ie_raw->as_string()) == "{{ansible_check_mode}}")
        task.ignore_errors = false;
    else if (auto ie = c_.boolean(t, "ignore_errors", path))
        task.ignore_errors = *ie;
    // check_mode: false (run even in check mode) is safe to honour by not running it in check
    // mode; check_mode: true (never change) cannot be honoured yet, so it is an error.
    if (auto cm = c_.boolean(t, "check_mode", path); cm && *cm)
        c_.error(*t.get("check_mode"), path + "/check_mode", "check_mode: true is not supported by decamp");
    if (auto nl = c_.boolean(t, "no_log", path)) task.no_log = *nl;
    if (const Value* v = t.get("vars")) {
        if (v->is_map())
            task.vars = *v;
        else
            c_.error(*v, path + "/vars", "expected a map of variable name to value");
    }
    task.tags = ctx.tags;
    if (auto tg = c_.str_list(t, "tags", path)) add_tags(task.tags, *tg);
    // Checked as written (own condition and vars); the enclosing ones were checked where they
    // are written, then joined.
    check_task_templates(t, task, play, path, key, *book_, c_, ctx.vars);
    task.when = and_conditions(ctx.when, task.when);
    task.vars = merged(ctx.vars, task.vars);
    if (out.size() + 1 > kMaxTasks) {
        c_.error(t, path,
                 "more than " + std::to_string(kMaxTasks) + " tasks in one play (includes that multiply?)");
        return;
    }
    out.push_back(std::move(task));
}

// The names a task may define for later ones, even when the task itself is broken: the
// run-wide check of undefined variables must not blame its users for its error.
void Loader::note_defines(const Value& t) {
    for (const auto& [k, v] : t.entries()) {
        if (k == "register" && v.is_string()) book_->defines.push_back(v.as_string());
        if (canonical_module(k) != "set_fact") continue;
        Value args = Value::map();
        if (v.is_map())
            args = v;
        else if (v.is_string())
            (void)parse_kv(v.as_string(), args);
        for (const auto& [name, value] : args.entries()) book_->defines.push_back(name);
    }
}

std::string Loader::conditions(const Value& t, const char* key, const std::string& path) {
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

void Loader::check_args(const std::string& name, const modules::Module* mod, const Value& args,
                        const std::string& path, const Task& task) {
    try {
        modules::require_no_nul(args);
    } catch (const modules::ArgError& e) {
        const Value* v = args.is_map() ? args.get(e.key()) : nullptr;
        c_.error(v ? v->mark() : args.mark(), e.key().empty() ? path : path + "/" + e.key(), e.what());
        return;
    }
    if (name == "copy" || name == "template") check_src(name, args, path, task);
    std::vector<std::string> allowed;
    std::vector<std::string> required;
    if (name == "debug")
        allowed = {"msg", "var"};
    else if (name == "set_fact") {
        if (!args.is_map() || args.entries().empty())
            c_.error(args, path, "set_fact needs at least one name: value");
        return;
    } else {
        allowed = mod->allowed_args();
        required = mod->required_args();
    }
    size_t before = diags_.size();
    if (!c_.map(args, path, allowed)) return;
    if (diags_.size() != before) return;  // unknown keys already said it all
    // An alias may stand for a required argument (e.g. dest for path); the module says so.
    bool has_all = std::all_of(required.begin(), required.end(), [&](const auto& r) { return args.get(r); });
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
void Loader::check_src(const std::string& name, const Value& args, const std::string& path,
                       const Task& task) {
    const Value* src = args.get("src");
    if (!src || !src->is_string() || tmpl::has_template(src->as_string())) return;
    (void)name;
    const auto p = resolve_task_file(task, src->as_string());
    const std::string why = task_file_problem(p);
    if (!why.empty())
        c_.error(*src, path + "/src", "cannot read " + src->as_string() + " (" + p.string() + "): " + why);
}

}  // namespace detail

}  // namespace decamp::playbook
