#include "engine/script.hpp"

#include <algorithm>
#include <random>

#include "util/shell.hpp"

namespace decamp::engine {

namespace {

std::string as_subshell(const std::string& change) {
    return change.rfind("(\n", 0) == 0 ? change : "( " + change + "\n)";
}

std::string probe_capture(const modules::Action& a) {
    return "__pe=$( exec 2>&1 >/dev/null </dev/null\n" + a.probe + "\n); __r=$?\n";
}

}  // namespace

std::string apply_script(const modules::Action& a) {
    if (a.probe.empty()) return a.change;
    // The probe runs in a subshell with its output discarded (stderr kept for a failing
    // probe); the change keeps its own stdout/stderr for register:. A change that happens
    // to exit 96-98 is reported as a plain failure so it cannot pass for a verdict.
    std::string s;
    s += probe_capture(a);
    s += "case $__r in 0) exit 97;; 1) ;; *) printf '%s\\n' \"$__pe\" >&2; exit 98;; esac\n";
    if (a.change.empty()) {
        s += "echo 'decamp: the probe asks for a change but the module has none' >&2; exit 98\n";
        return s;
    }
    // The change keeps its own stdout/stderr; it runs in a subshell (modules mostly give one).
    s += as_subshell(a.change) + "\n__c=$?\n";
    s += "case $__c in 96|97|98) exit 1;; esac; exit $__c\n";
    return s;
}

std::string check_script(const modules::Action& a) {
    if (a.probe.empty()) return "exit 96\n";  // always changes: nothing to read
    std::string s;
    s += probe_capture(a);
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
    // Always /bin/sh (as Ansible's shell module), whatever the login shell: the same shell
    // the module scripts are tested with, and a lighter one than bash for the probes' forks.
    const std::string inner = "S=$(cat); exec </dev/null; eval \"$S\"";
    std::string target = become_user.empty() ? "root" : become_user;
    if (become && target != login_user) return shell::become(inner, target);
    return "exec /bin/sh -c " + shell::quote(inner);
}

std::string apply_inline(const modules::Action& a) {
    if (a.probe.empty()) return as_subshell(a.change) + "\n__s=$?\n";
    std::string s = probe_capture(a);
    s += "case $__r in\n0) __s=97;;\n1) ";
    if (a.change.empty())
        s += "echo 'decamp: the probe asks for a change but the module has none' >&2; __s=98;;\n";
    else
        s += as_subshell(a.change) + "\n__s=$?; case $__s in 96|97|98) __s=1;; esac;;\n";
    s += "*) printf '%s\\n' \"$__pe\" >&2; __s=98;;\nesac\n";
    return s;
}

std::string check_inline(const modules::Action& a) {
    if (a.probe.empty()) return "__s=96\n";
    std::string s = probe_capture(a);
    s += "case $__r in\n0) __s=97;;\n1) ";
    if (!a.current_cmd.empty()) s += as_subshell(a.current_cmd) + " 2>/dev/null\n";
    s += "__s=96;;\n*) printf '%s\\n' \"$__pe\" >&2; __s=98;;\nesac\n";
    return s;
}

namespace {

// Names the cache can hold: the lookups cut lines at newline/tab and sha256sum escapes
// backslashes; two spaces could fake a sha256sum line boundary.
bool cacheable(const std::string& p) {
    return !p.empty() && p[0] == '/' && p.find_first_of("\n\t\\") == std::string::npos &&
           p.find("  ") == std::string::npos;
}

std::vector<std::string> unique_cacheable(const std::vector<std::string>& in) {
    std::vector<std::string> out;
    for (const auto& p : in)
        if (cacheable(p) && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    return out;
}

// Shell functions answering `stat -L -c FMT -- PATH` (FMT: %a %U %G %u %g, space separated)
// and `sha256sum -- PATH` from the batch's up-front reads while __dc_ok=1; anything else,
// or a path not read up front, goes to the real command.
const char* kCacheFunctions = R"SH(__dc_stat() {
  if [ "$__dc_ok" = 1 ] && [ $# -eq 5 ] && [ "$1" = -L ] && [ "$2" = -c ] && [ "$4" = -- ]; then
    __dcr=${__dcS#*"
$5	"}
    if [ "$__dcr" != "$__dcS" ]; then
      __dcr=${__dcr%%"
"*}
      __dcf=$3 __dcp=$5 __dco= __dcu=
      set -f
      set -- $__dcr
      for __dct in $__dcf; do
        case $__dct in %a) __dcv=$1;; %U) __dcv=$2;; %G) __dcv=$3;; %u) __dcv=$4;; %g) __dcv=$5;; *) __dcu=1;; esac
        __dco="${__dco:+$__dco }$__dcv"
      done
      set +f
      if [ -z "$__dcu" ] && [ $# -eq 5 ]; then printf '%s\n' "$__dco"; return 0; fi
      command stat -L -c "$__dcf" -- "$__dcp"; return
    fi
  fi
  command stat "$@"
}
__dc_sha() {
  if [ "$__dc_ok" = 1 ] && [ $# -eq 2 ] && [ "$1" = -- ]; then
    __dcr=${__dcH%%"  $2
"*}
    if [ "$__dcr" != "$__dcH" ]; then printf '%s  %s\n' "${__dcr##*"
"}" "$2"; return 0; fi
  fi
  command sha256sum "$@"
}
)SH";

}  // namespace

std::string batch_script(const std::vector<BatchPart>& parts, const std::string& nonce,
                         const std::vector<std::string>& stat_paths, const std::vector<std::string>& hash_paths,
                         bool check) {
    std::string s = "__b=" + nonce + "\n";
    const auto sp = unique_cacheable(stat_paths), hp = unique_cacheable(hash_paths);
    const bool cache = sp.size() + hp.size() >= 2;
    if (cache) {
        s += kCacheFunctions;
        s += "__dc_ok=1 __dcs=__dc_stat __dch=__dc_sha\n";
        std::string sl, hl;
        for (const auto& p : sp) sl += " " + shell::quote(p);
        for (const auto& p : hp) hl += " " + shell::quote(p);
        s += "__dcS=\"\n$(stat -L -c '%n\t%a %U %G %u %g' --" + sl + " 2>/dev/null)\n\"\n";
        s += "__dcH=\"\n$(sha256sum --" + hl + " 2>/dev/null)\n\"\n";
    }
    for (size_t i = 0; i < parts.size(); ++i) {
        const std::string idx = std::to_string(i);
        s += parts[i].script;
        // Only a converged step leaves the host as it was read.
        if (cache && !check) s += parts[i].probed ? "[ \"$__s\" = 97 ] || __dc_ok=0\n" : "__dc_ok=0\n";
        s += "printf '\\n%s:%s:%s\\n' \"$__b\" " + idx + " \"$__s\"; printf '\\n%s:%s:%s\\n' \"$__b\" " + idx +
             " \"$__s\" >&2\n";
        if (!parts[i].go_on.empty() && i + 1 < parts.size()) {
            s += "case $__s in ";
            for (size_t k = 0; k < parts[i].go_on.size(); ++k)
                s += (k ? "|" : "") + std::to_string(parts[i].go_on[k]);
            s += ") ;; *) exit 0;; esac\n";
        }
    }
    return s;
}

std::string make_nonce() {
    std::random_device rd;
    static const char* hex = "0123456789abcdef";
    std::string n;
    for (int i = 0; i < 8; ++i) {
        unsigned v = rd();
        for (int k = 0; k < 4; ++k) n += hex[(v >> (k * 4)) & 15];
    }
    return "decamp" + n;
}

BatchSplitter::BatchSplitter(const std::string& nonce) : marker_("\n" + nonce + ":") {}

void BatchSplitter::feed(std::string_view chunk, bool is_stderr) {
    // Only the bytes that could still be the start of a marker line stay in `window`;
    // everything before goes into the step's Capture (bounded, see capture.hpp).
    Stream& st = streams_[is_stderr ? 1 : 0];
    st.window.append(chunk);
    for (;;) {
        size_t p = st.window.find(marker_);
        if (p == std::string::npos) {
            size_t keep = std::min(st.window.size(), marker_.size() - 1);
            st.cur.append(std::string_view(st.window).substr(0, st.window.size() - keep));
            st.window.erase(0, st.window.size() - keep);
            return;
        }
        size_t nl = st.window.find('\n', p + marker_.size());
        if (nl == std::string::npos) {
            // The marker line is not complete yet (it is short: the nonce is unguessable).
            st.cur.append(std::string_view(st.window).substr(0, p));
            st.window.erase(0, p);
            if (st.window.size() > marker_.size() + 64) {
                st.cur.append(st.window);  // not a marker line after all: plain output
                st.window.clear();
            }
            return;
        }
        // "<index>:<status>"
        std::string tag = st.window.substr(p + marker_.size(), nl - p - marker_.size());
        int status = -1;
        if (auto colon = tag.find(':'); colon != std::string::npos) {
            try {
                status = std::stoi(tag.substr(colon + 1));
            } catch (...) {
            }
        }
        st.cur.append(std::string_view(st.window).substr(0, p));
        st.done.emplace_back(status, std::move(st.cur));
        st.cur = Capture();
        st.window.erase(0, nl + 1);
    }
}

bool BatchSplitter::ready() const {
    return streams_[0].done.size() > streams_[0].taken && streams_[1].done.size() > streams_[1].taken;
}

BatchSplitter::Part BatchSplitter::take() {
    Part p;
    p.status = streams_[0].done[streams_[0].taken].first;
    p.out = std::move(streams_[0].done[streams_[0].taken++].second);
    p.err = std::move(streams_[1].done[streams_[1].taken++].second);
    return p;
}

size_t BatchSplitter::retained() const {
    size_t n = 0;
    for (const auto& st : streams_) {
        n += st.window.capacity() + st.cur.retained();
        for (size_t i = st.taken; i < st.done.size(); ++i) n += st.done[i].second.retained();
    }
    return n;
}

Capture BatchSplitter::rest(int stream) const {
    Capture c = streams_[stream].cur;
    c.append(streams_[stream].window);
    return c;
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

namespace {

// The facts: each name with the shell that prints its value (after /etc/os-release is read).
const std::pair<const char*, const char*> kFacts[] = {
    {"os_id", "$ID"},
    {"os_version", "$VERSION_ID"},
    {"os_codename", "$VERSION_CODENAME"},
    {"os_family", "$ID_LIKE"},
    {"hostname", "$(hostname 2>/dev/null || cat /etc/hostname)"},
    {"arch", "$(uname -m)"},
    {"kernel", "$(uname -r)"},
    {"cpus", "$(nproc 2>/dev/null)"},
    {"mem_kb", "$(awk '/^MemTotal/{print $2}' /proc/meminfo 2>/dev/null)"},
    {"user", "$(id -un)"},
    {"uid", "$(id -u)"},
    {"systemd", "$(test -d /run/systemd/system && echo yes || echo no)"},
    {"apt", "$(command -v apt-get >/dev/null && echo yes || echo no)"},
};

}  // namespace

std::string facts_command() {
    // One read-only round trip; every line is key=value.
    std::string cmd = ". /etc/os-release 2>/dev/null; printf '%s\\n'";
    for (const auto& [name, shell] : kFacts) cmd += std::string(" \"") + name + "=" + shell + "\"";
    return cmd;
}

std::vector<std::string> fact_names() {
    std::vector<std::string> out;
    for (const auto& f : kFacts) out.emplace_back(f.first);
    return out;
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
    // A host's facts (its hostname included) are data, never templates.
    return f.add_taint(Value::kUnsafe);
}

}  // namespace decamp::engine
