#include "engine/script.hpp"

#include "util/shell.hpp"

namespace decamp::engine {

std::string apply_script(const modules::Action& a) {
    if (a.probe.empty()) return a.change;
    // The probe runs in a subshell with its output discarded (stderr kept for a failing
    // probe); the change keeps its own stdout/stderr for register:. A change that happens
    // to exit 96-98 is reported as a plain failure so it cannot pass for a verdict.
    std::string s;
    s += "__pe=$( ( " + a.probe + "\n) 2>&1 >/dev/null </dev/null ); __r=$?\n";
    s += "case $__r in 0) exit 97;; 1) ;; *) printf '%s\\n' \"$__pe\" >&2; exit 98;; esac\n";
    if (a.change.empty()) {
        s += "echo 'decamp: the probe asks for a change but the module has none' >&2; exit 98\n";
        return s;
    }
    s += "( " + a.change + "\n); __c=$?\n";
    s += "case $__c in 96|97|98) exit 1;; esac; exit $__c\n";
    return s;
}

std::string check_script(const modules::Action& a) {
    if (a.probe.empty()) return "exit 96\n";  // always changes: nothing to read
    std::string s;
    s += "__pe=$( ( " + a.probe + "\n) 2>&1 >/dev/null </dev/null ); __r=$?\n";
    s += "case $__r in 0) exit 97;; 1) ;; *) printf '%s\\n' \"$__pe\" >&2; exit 98;; esac\n";
    if (!a.current_cmd.empty()) s += "( " + a.current_cmd + "\n) 2>/dev/null\n";
    s += "exit 96\n";
    return s;
}

std::string with_become(const std::string& script, bool become, const std::string& become_user,
                        const std::string& login_user) {
    std::string target = become_user.empty() ? "root" : become_user;
    if (!become || target == login_user) return script;
    return shell::become(script, target);
}

std::string stdin_launcher(bool become, const std::string& become_user, const std::string& login_user) {
    return with_become("S=$(cat); exec </dev/null; eval \"$S\"", become, become_user, login_user);
}

Outcome apply_outcome(const modules::Action& a, int exit_status) {
    if (exit_status == kScriptConverged && !a.probe.empty()) return Outcome::Ok;
    if (exit_status == 0) return a.check_only ? Outcome::Ok : Outcome::Changed;
    return Outcome::Failed;
}

Outcome check_outcome(const modules::Action& a, int exit_status) {
    if (exit_status == kScriptConverged && !a.probe.empty()) return Outcome::Ok;
    if (exit_status == kScriptWouldChange) return a.check_only ? Outcome::Ok : Outcome::WouldChange;
    return Outcome::Failed;
}

std::string facts_command() {
    // One read-only round trip; every line is key=value.
    return ". /etc/os-release 2>/dev/null; "
           "printf '%s\\n' \"os_id=$ID\" \"os_version=$VERSION_ID\" \"os_codename=$VERSION_CODENAME\" "
           "\"os_family=$ID_LIKE\" \"hostname=$(hostname 2>/dev/null || cat /etc/hostname)\" "
           "\"arch=$(uname -m)\" \"kernel=$(uname -r)\" \"cpus=$(nproc 2>/dev/null)\" "
           "\"mem_kb=$(awk '/^MemTotal/{print $2}' /proc/meminfo 2>/dev/null)\" "
           "\"user=$(id -un)\" \"uid=$(id -u)\" "
           "\"systemd=$(test -d /run/systemd/system && echo yes || echo no)\" "
           "\"apt=$(command -v apt-get >/dev/null && echo yes || echo no)\"";
}

Value parse_facts(const std::string& out) {
    Value f = Value::map();
    size_t start = 0;
    while (start < out.size()) {
        size_t nl = out.find('\n', start);
        if (nl == std::string::npos) nl = out.size();
        std::string line = out.substr(start, nl - start);
        start = nl + 1;
        auto eq = line.find('=');
        if (eq == std::string::npos || eq == 0) continue;
        std::string k = line.substr(0, eq), v = line.substr(eq + 1);
        bool numeric = !v.empty() && v.size() < 18 && v.find_first_not_of("0123456789") == std::string::npos;
        f.set(k, numeric ? Value::integer(std::stoll(v)) : Value::string(v));
    }
    if (const Value* id = f.get("os_id")) {
        std::string family = id->to_text();
        if (const Value* like = f.get("os_family"); like && !like->to_text().empty()) family = like->to_text();
        f.set("os_family", Value::string(family));
    }
    return f;
}

}  // namespace decamp::engine
