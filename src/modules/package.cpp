// apt / package: Debian packages present, absent or latest. The probe asks dpkg-query (and
// apt-cache policy for latest) and never touches the network; the change recomputes which
// packages are missing, so only those are installed, and runs `apt-get update` first only
// when update_cache is set and something must be installed.
#include "modules/args.hpp"
#include "modules/builtin.hpp"
#include "util/shell.hpp"

namespace decamp::modules {

namespace {

struct Pkg {
    std::string name;     // nginx or libc6:amd64
    std::string version;  // from nginx=1.22.1-9, else ""
};

bool valid_debian_name(const std::string& n) {
    // Debian Policy 5.6.1: [a-z0-9][a-z0-9+.-]+ ; an optional :arch suffix.
    std::string base = n, arch;
    if (auto c = n.find(':'); c != std::string::npos) {
        base = n.substr(0, c);
        arch = n.substr(c + 1);
        if (arch.empty()) return false;
        for (char ch : arch)
            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) return false;
    }
    if (base.size() < 2) return false;
    auto lower_digit = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'); };
    if (!lower_digit(base[0])) return false;
    for (char ch : base)
        if (!(lower_digit(ch) || ch == '+' || ch == '.' || ch == '-')) return false;
    return true;
}

bool valid_version(const std::string& v) {
    if (v.empty() || !(v[0] >= '0' && v[0] <= '9')) return false;
    for (char ch : v)
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '+' || ch == '~' || ch == ':' || ch == '-'))
            return false;
    return true;
}

std::vector<Pkg> parse_names(const Args& a, const std::string& key) {
    auto names = a.list(key);
    if (!names || names->empty()) throw ArgError(key, "expected a package name or a list of them");
    std::vector<Pkg> out;
    for (const auto& n : *names) {
        Pkg p;
        p.name = n;
        if (auto eq = n.find('='); eq != std::string::npos) {
            p.name = n.substr(0, eq);
            p.version = n.substr(eq + 1);
            if (!valid_version(p.version))
                throw ArgError(key, "expected a Debian version after '=', got '" + n + "'");
        }
        if (!valid_debian_name(p.name))
            throw ArgError(key, "expected a Debian package name ([a-z0-9][a-z0-9+.-]+), got '" +
                                    n + "'");
        out.push_back(p);
    }
    return out;
}

std::string quoted_words(const std::vector<std::string>& words) { return shell::join(words); }

// `case` test: true when dpkg reports the package as unpacked and configured.
const char* kInstalledTest =
    "case \"$(dpkg-query -W -f='${Status} ${Version}' -- \"$p\" 2>/dev/null)\" in";

// apt with update_cache and no package: refresh the lists. With cache_valid_time, only when
// they are older than that (so a converged host reports no change); without it, every run.
Action plan_cache_update(const std::string& module, Args& a) {
    auto valid_time = a.integer("cache_valid_time", 0, int64_t(1) << 40);
    (void)a.choice("state", {"present", "installed", "absent", "removed", "latest"}, "present");
    (void)a.opt_flag("install_recommends");
    (void)a.str("default_release", "");
    if (a.flag("autoremove", false) || a.flag("purge", false))
        throw ArgError("autoremove", "autoremove and purge need package names here");
    const std::string guard = "command -v apt-get >/dev/null 2>&1 || { echo '" + module +
                              ": apt-get not found (apt needs a Debian host)' >&2; exit 2; }";
    const std::string fresh =
        valid_time ? "[ -n \"$(find /var/lib/apt/periodic/update-success-stamp /var/cache/apt/pkgcache.bin "
                     "-maxdepth 0 -newermt \"@$(( $(date +%s) - " +
                         std::to_string(*valid_time) + " ))\" 2>/dev/null)\" ] && exit 0"
                   : "";
    Action act;
    std::vector<std::string> probe{guard};
    if (!fresh.empty()) probe.push_back(fresh);
    probe.insert(probe.end(), {"echo '+ apt cache update'", "exit 1"});
    act.probe = subshell(probe);
    act.change = subshell({"apt-get update -q -o DPkg::Lock::Timeout=300"});
    act.change_text = "+ apt cache update\n";
    act.summary = "apt cache updated" +
                  std::string(valid_time ? " when older than " + std::to_string(*valid_time) + " s" : "");
    act.ok_reason = "the apt cache is younger than " + std::to_string(valid_time.value_or(0)) + " s";
    return act;
}

}  // namespace

const std::vector<std::string>& package_foreign_args() {
    static const std::vector<std::string> v = {
        "enablerepo",     "disablerepo",      "disable_gpg_check", "exclude",       "conf_file",
        "disable_plugin", "enable_plugin",    "installroot",       "releasever",    "security",
        "bugfix",         "skip_broken",      "allowerasing",      "nobest",        "update_only",
        "lock_timeout",   "disable_excludes", "install_weak_deps", "download_only", "download_dir",
        "sslverify",      "cacheonly"};
    return v;
}

Action plan_package(const std::string& module, const Value& args) {
    Args a(args);
    // Not an ArgError: such a task loads and fails only on a host where it runs.
    for (const auto& k : package_foreign_args())
        if (a.has(k))
            throw Error(module + ": " + k + " is an argument of yum/dnf; on this host " + module +
                        " uses apt, which has no such argument");
    const std::string key = a.has("name") ? "name" : "pkg";
    if (!a.has(key) && a.flag("update_cache", false)) return plan_cache_update(module, a);
    if (!a.has(key)) throw ArgError("name", "is required (a package name or a list of them)");
    if (a.has("name") && a.has("pkg")) throw ArgError("pkg", "give either name or pkg, not both");
    auto pkgs = parse_names(a, key);
    std::string state = a.choice("state", {"present", "installed", "absent", "removed", "latest"},
                                 "present");
    if (state == "installed") state = "present";
    if (state == "removed") state = "absent";
    const bool update_cache = a.flag("update_cache", false);
    auto valid_time = a.integer("cache_valid_time", 0, int64_t(1) << 40);
    auto recommends = a.opt_flag("install_recommends");
    // apt's default_release: install from that release (apt-get -t), e.g. bookworm-backports.
    const std::string release = a.str("default_release", "");
    if (release.find_first_of(" \t\n'\"\\$`;|&<>") != std::string::npos)
        throw ArgError("default_release", "expected a release name such as bookworm-backports");
    const bool purge = a.flag("purge", false);
    const bool autoremove = a.flag("autoremove", false);
    // apt's allow_downgrade: a version pin may install an older version than the one there.
    const bool downgrade = a.flag("allow_downgrade", false);
    if (state == "latest")
        for (const auto& p : pkgs)
            if (!p.version.empty())
                throw ArgError(key, "a version pin (" + p.name + "=" + p.version +
                                        ") cannot be combined with state=latest");

    // One word per package for the sh loops: "name" or "name=version"; split with ${w%%=*}.
    std::vector<std::string> words, display;
    for (const auto& p : pkgs) {
        words.push_back(p.version.empty() ? p.name : p.name + "=" + p.version);
        display.push_back(words.back());
    }
    const std::string list = quoted_words(words);

    Action act;
    std::string names_text;
    for (const auto& d : display) names_text += (names_text.empty() ? "" : " ") + d;
    const std::string guard =
        "command -v dpkg-query >/dev/null 2>&1 || { echo '" + module +
        ": dpkg-query not found (apt needs a Debian host)' >&2; exit 2; }";

    // Shared sh: need_install sets "$@" to the words that still need apt-get install.
    std::string per_pkg_missing;
    if (state == "present") {
        per_pkg_missing =
            "for w in " + list + "; do p=${w%%=*}; v=${w#\"$p\"}; v=${v#=}\n"
            "  " + kInstalledTest + "\n"
            "    *' ok installed '*) if [ -n \"$v\" ]; then s=$(dpkg-query -W -f='${Version}' -- \"$p\"); "
            "[ \"$s\" = \"$v\" ] || set -- \"$@\" \"$w\"; fi ;;\n"
            "    *) set -- \"$@\" \"$w\" ;;\n"
            "  esac\n"
            "done";
    } else if (state == "latest") {
        per_pkg_missing =
            "for w in " + list + "; do p=$w\n"
            "  " + kInstalledTest + "\n"
            "    *' ok installed '*) LC_ALL=C apt-cache policy -- \"$p\" 2>/dev/null | "
            "awk '/^  Installed:/{i=$2} /^  Candidate:/{c=$2} END{exit !(i==c)}' || "
            "set -- \"$@\" \"$w\" ;;\n"
            "    *) set -- \"$@\" \"$w\" ;;\n"
            "  esac\n"
            "done";
    } else {
        const char* keep_pattern = purge ? "''|*' not-installed '*" : "''|*' not-installed '*|*' config-files '*";
        per_pkg_missing =
            "for w in " + list + "; do p=$w\n"
            "  " + kInstalledTest + "\n"
            "    " + keep_pattern + ") ;;\n"
            "    *) set -- \"$@\" \"$w\" ;;\n"
            "  esac\n"
            "done";
    }

    act.probe = subshell({guard, "set --", per_pkg_missing,
                          "[ $# -eq 0 ] && exit 0", "printf '" +
                              std::string(state == "absent" ? "-" : "+") +
                              " %s\\n' \"$@\"", "exit 1"});

    std::vector<std::string> change{"set --", per_pkg_missing, "[ $# -eq 0 ] && exit 0"};
    const std::string apt_opts =
        "-y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef "
        "-o Dpkg::Options::=--force-confold";
    if (state == "absent") {
        std::string cmd = "DEBIAN_FRONTEND=noninteractive apt-get " +
                          std::string(purge ? "purge" : "remove") + " " + apt_opts;
        if (autoremove) cmd += " --auto-remove";
        change.push_back(cmd + " \"$@\"");
    } else {
        if (update_cache) {
            std::string upd = "apt-get update -q -o DPkg::Lock::Timeout=300";
            if (valid_time) {
                // Skip the update when apt's lists were refreshed within cache_valid_time.
                upd = "if [ -z \"$(find /var/lib/apt/periodic/update-success-stamp "
                      "/var/cache/apt/pkgcache.bin -maxdepth 0 -newermt \"@$(( $(date +%s) - " +
                      std::to_string(*valid_time) + " ))\" 2>/dev/null)\" ]; then " + upd +
                      "; fi";
            }
            change.push_back(upd);
        }
        std::string cmd = "DEBIAN_FRONTEND=noninteractive apt-get install " + apt_opts;
        if (recommends) cmd += *recommends ? " --install-recommends" : " --no-install-recommends";
        if (!release.empty()) cmd += " -t " + shell::quote(release);
        if (downgrade) cmd += " --allow-downgrades";
        if (state == "latest") {
            // After a fresh update every named package is brought to its candidate;
            // apt-get leaves the ones already there alone.
            change.push_back(cmd + " " + list);
        } else {
            change.push_back(cmd + " \"$@\"");
        }
        if (autoremove) change.push_back("DEBIAN_FRONTEND=noninteractive apt-get autoremove " + apt_opts);
    }
    act.change = subshell(change);

    const char* sign = state == "absent" ? "-" : "+";
    for (const auto& d : display) act.change_text += std::string(sign) + " " + d + "\n";
    act.summary = "package " + names_text + " " + state;
    if (state == "present")
        act.ok_reason = names_text + (pkgs.size() == 1 ? " is installed" : " are installed");
    else if (state == "latest")
        act.ok_reason = names_text + (pkgs.size() == 1 ? " is" : " are") + " at the candidate version";
    else
        act.ok_reason = names_text + (pkgs.size() == 1 ? " is not installed" : " are not installed");
    return act;
}

}  // namespace decamp::modules
