// Roles: a play's `roles:`, include_role / import_role, and meta/main.yml dependencies, in
// the standard layout (tasks/, handlers/, defaults/, vars/, templates/, files/, meta/).
// A role is found by path (anything with a '/') or by name in Ansible's search path:
// roles/ beside the playbook, ANSIBLE_ROLES_PATH, roles_path of an ansible.cfg beside the
// playbook or in the working directory, ~/.ansible/roles, /usr/share/ansible/roles,
// /etc/ansible/roles, and the playbook's own directory.
#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "playbook/loader.hpp"
#include "playbook/template.hpp"
#include "util/vars_dir.hpp"

namespace decamp::playbook::detail {

namespace {

// Keywords of a role entry; every other key is a role parameter (a variable of its tasks).
const std::vector<std::string> kRoleKeywords = {"role", "name",   "when",        "tags",
                                                "vars", "become", "become_user", "ignore_errors"};

std::vector<std::string> split_paths(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(':', start);
        if (end == std::string::npos) end = s.size();
        std::string p = s.substr(start, end - start);
        p.erase(0, p.find_first_not_of(" \t"));
        p.erase(p.find_last_not_of(" \t\r") + 1);
        if (!p.empty()) out.push_back(p);
        start = end + 1;
    }
    return out;
}

// roles_path from an ansible.cfg's [defaults] section.
std::vector<std::string> cfg_roles_path(const fs::path& cfg) {
    std::ifstream in(cfg);
    std::string line;
    bool defaults = false;
    while (std::getline(in, line)) {
        line.erase(0, line.find_first_not_of(" \t"));
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        if (line[0] == '[') {
            defaults = line.rfind("[defaults]", 0) == 0;
            continue;
        }
        if (!defaults || line.rfind("roles_path", 0) != 0) continue;
        size_t eq = line.find('=');
        if (eq == std::string::npos) continue;
        std::vector<std::string> out;
        for (auto& p : split_paths(line.substr(eq + 1))) {
            fs::path pp = p[0] == '~' && std::getenv("HOME") ? fs::path(std::getenv("HOME")) / p.substr(2)
                                                             : fs::path(p);
            out.push_back((pp.is_relative() ? cfg.parent_path() / pp : pp).string());
        }
        return out;
    }
    return {};
}

}  // namespace

Value Loader::role_vars_file(const fs::path& dir, const std::string& sub, const std::string& name,
                             const Value& where, const std::string& path) {
    Value out = Value::map();
    // main.yml (or main, main.yaml, main.json), or every file of a directory main/ in order.
    for (const auto& f : vars_dir::files_of(dir / sub, name))
        if (const Value* v = read_yaml(f, where.mark(), path)) {
            if (v->is_map())
                out = merged(out, *v);
            else if (!v->is_null())
                c_.error(*v, f.string(), "expected a map of variable name to value");
        }
    return out;
}

std::optional<fs::path> Loader::find_role(const std::string& name, const Ctx& ctx, const Value& where,
                                          const std::string& path) {
    std::vector<fs::path> candidates;
    if (name.find('/') != std::string::npos) {
        fs::path p(name);
        candidates.push_back(p.is_absolute() ? p : dir_ / p);
        if (p.is_relative() && ctx.file_dir != dir_) candidates.push_back(ctx.file_dir / p);
    } else {
        // A dependency's own neighbours first (roles installed side by side).
        if (!ctx.role_dir.empty()) candidates.push_back(ctx.role_dir.parent_path() / name);
        candidates.push_back(dir_ / "roles" / name);
        if (const char* env = std::getenv("ANSIBLE_ROLES_PATH"))
            for (const auto& p : split_paths(env)) candidates.push_back(fs::path(p) / name);
        std::error_code ec;
        for (const fs::path& cfg : {dir_ / "ansible.cfg", fs::current_path(ec) / "ansible.cfg"})
            for (const auto& p : cfg_roles_path(cfg)) candidates.push_back(fs::path(p) / name);
        if (const char* home = std::getenv("HOME"))
            candidates.push_back(fs::path(home) / ".ansible/roles" / name);
        candidates.push_back(fs::path("/usr/share/ansible/roles") / name);
        candidates.push_back(fs::path("/etc/ansible/roles") / name);
        candidates.push_back(dir_ / name);
    }
    for (const auto& c : candidates) {
        std::error_code ec;
        if (fs::is_directory(c, ec)) return fs::absolute(c).lexically_normal();
    }
    std::string msg = "role \"" + name + "\" not found (looked in ";
    for (size_t i = 0; i < candidates.size() && i < 4; ++i) msg += (i ? ", " : "") + candidates[i].string();
    msg += candidates.size() > 4 ? ", …)" : ")";
    if (name.find('.') != std::string::npos && name.find('/') == std::string::npos)
        msg += "; a collection's role must be installed in the roles path by its short name";
    c_.error(where, path, msg);
    role_missing_ = true;
    return std::nullopt;
}

void Loader::load_roles(const Value& p, const std::string& path, Play& play, const Ctx& ctx) {
    const Value* roles = p.get("roles");
    if (!roles || roles->is_null()) return;
    const std::string rpath = path + "/roles";
    if (!roles->is_list()) {
        c_.error(*roles, rpath, "expected a list of roles (names, paths or maps with role:)");
        return;
    }
    size_t i = 0;
    for (const auto& entry : roles->items()) {
        const std::string epath = rpath + "/" + std::to_string(i++);
        std::string name;
        if (entry.is_string())
            name = entry.as_string();
        else if (entry.is_map()) {
            if (auto r = c_.str(entry, entry.get("role") ? "role" : "name", epath, true)) name = *r;
        } else {
            c_.error(entry, epath, "expected a role name or a map with role:");
            continue;
        }
        if (name.empty()) continue;
        if (tmpl::has_template(name)) {
            c_.error(entry, epath, "a role's name must be static (it is read before any variable exists)");
            continue;
        }
        auto dir = find_role(name, ctx, entry, epath);
        if (!dir) continue;
        load_role(*dir, name, entry, epath, play, ctx, play.tasks);
    }
}

void Loader::load_role(const fs::path& dir, const std::string& name, const Value& entry,
                       const std::string& path, Play& play, const Ctx& ctx, std::vector<Task>& out,
                       const std::string& tasks_from) {
    Ctx rc;
    Value params = Value::map();
    if (entry.is_map()) {
        // Keywords of the entry; the rest are the role's parameters.
        Value kw = Value::map();
        for (const auto& [k, v] : entry.entries()) {
            if (std::find(kRoleKeywords.begin(), kRoleKeywords.end(), k) != kRoleKeywords.end())
                kw.set(k, v);
            else
                params.set(k, v);
        }
        kw.at(entry.mark());
        if (!wrap(kw, path, play, ctx, rc)) return;
    } else {
        rc = ctx;
    }
    // Once per play with the same parameters (Ansible's default, allow_duplicates: false).
    const std::string key =
        dir.string() + "\n" + tasks_from + "\n" + params.to_json() + "\n" + rc.vars.to_json();
    if (!enter(dir, entry.mark(), path, ctx.depth + 1)) return;  // a cycle is an error, not a repeat
    if (std::find(roles_done_.begin(), roles_done_.end(), key) != roles_done_.end()) {
        leave();
        return;
    }
    roles_done_.push_back(key);
    rc.depth = ctx.depth + 1;
    rc.role_dir = dir;
    rc.role = dir.filename().string();
    rc.file_dir = dir / "tasks";
    rc.rescue = ctx.rescue;

    const Value defaults = role_vars_file(dir, "defaults", "main", entry, path);
    const Value vars = role_vars_file(dir, "vars", "main", entry, path);
    for (const Value* v : {&defaults, &vars})
        for (const auto& [k, x] : v->entries()) book_->defines.push_back(k);

    // Dependencies first, with the parent's keywords (tags, when) but not its variables.
    Value meta = role_vars_file(dir, "meta", "main", entry, path);
    if (const Value* deps = meta.get("dependencies"); deps && deps->is_list()) {
        size_t i = 0;
        for (const auto& d : deps->items()) {
            const std::string dpath = path + "/dependencies/" + std::to_string(i++);
            std::string dname = d.is_string()                 ? d.as_string()
                                : d.is_map() && d.get("role") ? d.get("role")->to_text()
                                : d.is_map() && d.get("name") ? d.get("name")->to_text()
                                                              : "";
            if (dname.empty()) {
                c_.error(d, dpath, "expected a role name or a map with role:");
                continue;
            }
            if (auto ddir = find_role(dname, rc, d, dpath)) load_role(*ddir, dname, d, dpath, play, rc, out);
        }
    }
    rc.defaults = merged(rc.defaults, defaults);
    rc.task_defaults = std::make_shared<const Value>(rc.defaults);
    rc.vars = merged(merged(rc.vars, vars), params);
    for (const auto& [k, x] : params.entries()) book_->defines.push_back(k);

    bool found = false;
    for (const char* ext : {".yml", ".yaml", ""}) {
        const fs::path f = dir / "tasks" / (tasks_from + ext);
        if (std::error_code ec; !fs::is_regular_file(f, ec)) continue;
        found = true;
        if (const Value* root = read_yaml(f, entry.mark(), path))
            load_list(*root, f.filename().string(), play, rc, out, false);
        break;
    }
    if (!found && tasks_from != "main")
        c_.error(
            entry, path,
            "role " + name + " has no tasks file " + tasks_from + " (in " + (dir / "tasks").string() + ")");
    // Handlers join the play's, once per role.
    const std::string hkey = "handlers\n" + dir.string();
    if (std::find(roles_done_.begin(), roles_done_.end(), hkey) == roles_done_.end()) {
        roles_done_.push_back(hkey);
        for (const char* ext : {".yml", ".yaml"}) {
            const fs::path f = dir / "handlers" / (std::string("main") + ext);
            if (std::error_code ec; !fs::is_regular_file(f, ec)) continue;
            Ctx hc = rc;
            hc.when.clear();
            hc.tags.clear();
            if (const Value* root = read_yaml(f, entry.mark(), path))
                load_list(*root, f.filename().string(), play, hc, play.handlers, true);
            break;
        }
    }
    leave();
}

void Loader::include_role(const Value& t, const std::string& key, const std::string& path, Play& play,
                          const Ctx& ctx, std::vector<Task>& out) {
    const std::string kpath = path + "/" + key;
    if (!c_.map(t, path, {key, "name", "when", "vars", "tags", "become", "become_user", "ignore_errors"}))
        return;
    const Value& arg = *t.get(key);
    if (!c_.map(arg, kpath,
                {"name", "tasks_from", "vars_from", "defaults_from", "handlers_from", "public",
                 "allow_duplicates", "rolespec_validate"}))
        return;
    auto name = c_.str(arg, "name", kpath, true);
    if (!name) return;
    if (tmpl::has_template(*name)) {
        c_.error(*arg.get("name"), kpath + "/name", "a role's name must be static here");
        return;
    }
    std::string tasks_from = "main";
    if (auto tf = c_.str(arg, "tasks_from", kpath)) {
        tasks_from = *tf;
        for (const char* ext : {".yml", ".yaml"})
            if (tasks_from.size() > 4 && tasks_from.ends_with(ext))
                tasks_from.resize(tasks_from.size() - std::string(ext).size());
    }
    for (const char* k : {"vars_from", "defaults_from", "handlers_from"})
        if (arg.get(k))
            c_.error(arg.key_mark(k), kpath + "/" + k, std::string(k) + " is not supported by decamp yet");
    Ctx inner;
    if (!wrap(t, path, play, ctx, inner)) return;
    auto dir = find_role(*name, inner, arg, kpath);
    if (!dir) return;
    // An include runs each time it is reached: a key of its own keeps it apart.
    roles_done_.erase(
        std::remove_if(roles_done_.begin(), roles_done_.end(),
                       [&](const std::string& k) { return k.rfind(dir->string() + "\n", 0) == 0; }),
        roles_done_.end());
    Value entry = Value::map();
    entry.at(arg.mark());
    load_role(*dir, *name, entry, kpath, play, inner, out, tasks_from);
}

}  // namespace decamp::playbook::detail
