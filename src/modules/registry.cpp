// The module table: name, accepted and required arguments, plan function. find() accepts
// Ansible's fully qualified names (ansible.builtin.copy, community.postgresql.postgresql_db).
#include <algorithm>
#include <map>

#include "modules/args.hpp"
#include "modules/builtin.hpp"

namespace decamp::modules {

namespace {

using PlanFn = Action (*)(const std::string&, const Value&);

class TableModule : public Module {
public:
    TableModule(std::string name, std::vector<std::string> allowed,
                std::vector<std::string> required, bool free_form, PlanFn fn, Traits traits = {})
        : name_(std::move(name)), allowed_(std::move(allowed)), required_(std::move(required)),
          free_form_(free_form), fn_(fn), traits_(traits) {}
    Traits traits() const override { return traits_; }
    std::string name() const override { return name_; }
    std::vector<std::string> allowed_args() const override { return allowed_; }
    std::vector<std::string> required_args() const override { return required_; }
    bool free_form() const override { return free_form_; }
    Action plan(const Value& args) const override {
        // The loader checks keys too; checking here keeps plan() safe on its own.
        Args a(args);
        a.check_keys(allowed_);
        for (const auto& r : required_)
            if (!a.has(r)) throw ArgError(r, "is required");
        return fn_(name_, args);
    }

private:
    std::string name_;
    std::vector<std::string> allowed_, required_;
    bool free_form_;
    PlanFn fn_;
    Traits traits_;
};

Traits slow() {
    Traits t;
    t.slow = true;
    return t;
}
Traits reads(Traits::Src src) {
    Traits t;
    t.src = src;
    return t;
}

const std::vector<std::string> kPackageArgs = {
    "name",  "pkg",        "state",           "update_cache",   "cache_valid_time", "install_recommends",
    "purge", "autoremove", "default_release", "allow_downgrade"};
// `package` hands its arguments to the host's package manager: these belong to yum/dnf and
// load, then fail where the task runs on a Debian host (as Ansible's apt would refuse them).
const std::vector<std::string> kPackageAnyArgs = [] {
    std::vector<std::string> v = kPackageArgs;
    for (const auto& k : package_foreign_args()) v.push_back(k);
    return v;
}();
const std::vector<std::string> kFileArgs = {
    "path", "dest", "name", "state", "mode", "owner", "group", "src", "recurse", "force",
    "follow", "modification_time", "access_time"};
const std::vector<std::string> kCopyArgs = {
    "dest", "content", "src", "mode", "owner", "group", "force", "backup"};
const std::vector<std::string> kServiceArgs = {"name", "state", "enabled"};
const std::vector<std::string> kSystemdArgs = {"name", "state", "enabled", "daemon_reload",
                                               "masked"};
const std::vector<std::string> kUserArgs = {
    "name", "state", "uid", "group", "groups", "append", "shell", "home", "create_home",
    "createhome", "system", "password", "update_password", "comment", "remove"};
const std::vector<std::string> kGroupArgs = {"name", "state", "gid", "system"};
const std::vector<std::string> kCommandArgs = {"cmd", "argv", "creates", "removes", "chdir"};
const std::vector<std::string> kShellArgs = {"cmd", "creates", "removes", "chdir",
                                             "executable"};
const std::vector<std::string> kLineinfileArgs = {
    "path",       "dest",          "destfile", "name",        "line",         "value",   "regexp",
    "regex",      "search_string", "state",    "insertafter", "insertbefore", "create",  "backrefs",
    "firstmatch", "mode",          "owner",    "group",       "backup",       "validate"};
const std::vector<std::string> kWaitForArgs = {"host", "port", "path", "state", "timeout",
                                               "delay", "sleep", "connect_timeout", "msg"};
const std::vector<std::string> kHttpCheckArgs = {"url", "status", "host_header", "timeout",
                                                 "retries", "delay", "validate_certs"};
const std::vector<std::string> kPgDbArgs = {"name", "db", "owner", "encoding", "template",
                                            "lc_collate", "lc_ctype", "state", "login_user",
                                            "port"};
const std::vector<std::string> kPgUserArgs = {"name", "user", "password", "role_attr_flags",
                                              "state", "encrypted", "login_user", "port"};

const std::vector<TableModule>& table() {
    static const std::vector<TableModule> t = [] {
        std::vector<TableModule> v;
        v.emplace_back("apt", kPackageArgs, std::vector<std::string>{}, false, plan_package, slow());
        v.emplace_back("package", kPackageAnyArgs, std::vector<std::string>{}, false, plan_package, slow());
        v.emplace_back("file", kFileArgs, std::vector<std::string>{}, false, plan_file);
        v.emplace_back("copy", kCopyArgs, std::vector<std::string>{"dest"}, false, plan_copy,
                       reads(Traits::Src::File));
        v.emplace_back("template", kCopyArgs, std::vector<std::string>{"dest"}, false,
                       plan_copy, reads(Traits::Src::Template));
        v.emplace_back("service", kServiceArgs, std::vector<std::string>{"name"}, false,
                       plan_service);
        v.emplace_back("systemd", kSystemdArgs, std::vector<std::string>{}, false,
                       plan_service);
        v.emplace_back("systemd_service", kSystemdArgs, std::vector<std::string>{}, false,
                       plan_service);
        v.emplace_back("user", kUserArgs, std::vector<std::string>{"name"}, false, plan_user);
        v.emplace_back("group", kGroupArgs, std::vector<std::string>{"name"}, false,
                       plan_group);
        v.emplace_back("command", kCommandArgs, std::vector<std::string>{}, true,
                       plan_command);
        v.emplace_back("shell", kShellArgs, std::vector<std::string>{}, true, plan_command);
        v.emplace_back("lineinfile", kLineinfileArgs, std::vector<std::string>{}, false,
                       plan_lineinfile);
        v.emplace_back("wait_for", kWaitForArgs, std::vector<std::string>{}, false,
                       plan_wait_for, slow());
        v.emplace_back("http_check", kHttpCheckArgs, std::vector<std::string>{"url"}, false,
                       plan_http_check);
        v.emplace_back("postgresql_db", kPgDbArgs, std::vector<std::string>{}, false,
                       plan_postgresql_db);
        v.emplace_back("postgresql_user", kPgUserArgs, std::vector<std::string>{}, false,
                       plan_postgresql_user);
        return v;
    }();
    return t;
}

// Collection prefixes whose modules we implement under their short name.
const char* const kPrefixes[] = {"ansible.builtin.", "ansible.legacy.",
                                 "community.postgresql."};

}  // namespace

const Module* find(const std::string& name) {
    std::string short_name = name;
    for (const char* p : kPrefixes) {
        std::string prefix = p;
        if (name.rfind(prefix, 0) == 0) {
            short_name = name.substr(prefix.size());
            // Only the right collection: ansible.builtin.postgresql_db is not a thing.
            bool pg = short_name.rfind("postgresql_", 0) == 0;
            if (pg != (prefix == "community.postgresql.")) return nullptr;
            break;
        }
    }
    for (const auto& m : table())
        if (m.name() == short_name) return &m;
    return nullptr;
}

Traits traits(const std::string& name) {
    // The two modules decamp runs itself have no table row (no Action): their traits here.
    Traits t;
    if (name == "debug" || name == "set_fact") {
        t.local = true;
        t.defines_vars = name == "set_fact";
        return t;
    }
    if (const Module* m = find(name)) return m->traits();
    return t;
}

std::vector<std::string> names() {
    std::vector<std::string> out;
    for (const auto& m : table()) out.push_back(m.name());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace decamp::modules
