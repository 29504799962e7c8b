// Names of modules Ansible knows (ansible.builtin and the collections real playbooks use
// most). A task naming one that decamp does not implement still loads: it is an error only
// where it would run (the planner says so for that host); a name in neither list is a typo,
// reported at load time.
#include "playbook/ansible_modules.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace decamp::playbook {

namespace {

// Sorted, for binary search.
constexpr std::array<std::string_view, 182> kKnown = {
    "acl", "add_host", "alternatives", "apache2_module", "apk", "apt", "apt_key", "apt_repository",
    "archive", "assemble", "assert", "async_status", "at", "authorized_key", "blockinfile", "capabilities",
    "command", "composer", "copy", "cpanm", "cron", "cronvar", "crypttab", "dconf", "deb822_repository",
    "debconf", "debug", "dnf", "dnf5", "docker_compose", "docker_compose_v2", "docker_config",
    "docker_container", "docker_container_exec", "docker_container_info", "docker_host_info",
    "docker_image", "docker_image_info", "docker_login", "docker_network", "docker_network_info",
    "docker_prune", "docker_secret", "docker_stack", "docker_swarm", "docker_volume", "docker_volume_info",
    "dpkg_selections", "expect", "fail", "fetch", "file", "filesystem", "find", "firewalld", "gather_facts",
    "gem", "get_url", "getent", "git", "git_config", "group", "group_by", "haproxy", "homebrew",
    "homebrew_cask", "hostname", "htpasswd", "import_playbook", "import_role", "import_tasks", "include",
    "include_role", "include_tasks", "include_vars", "ini_file", "iptables", "java_cert", "java_keystore",
    "jenkins_job", "jenkins_plugin", "json_query", "kernel_blacklist", "known_hosts", "launchd",
    "lineinfile", "locale_gen", "lvg", "lvol", "make", "meta", "modprobe", "mongodb_user", "mount",
    "mysql_db", "mysql_info", "mysql_query", "mysql_replication", "mysql_user", "mysql_variables", "nmcli",
    "npm", "ohai", "openbsd_pkg", "openrc", "openssl_certificate", "openssl_csr", "openssl_privatekey",
    "openssl_publickey", "package", "package_facts", "pacman", "pam_limits", "pamd", "parted", "patch",
    "pause", "ping", "pip", "pkg5", "pkgng", "pkgutil", "portage", "portinstall", "postgresql_db",
    "postgresql_ext", "postgresql_info", "postgresql_privs", "postgresql_query", "postgresql_user",
    "python_requirements_info", "raw", "reboot", "redis", "replace", "rhsm_repository", "rpm_key", "rsync",
    "runit", "script", "seboolean", "sefcontext", "selinux", "seport", "service", "service_facts",
    "set_fact", "set_stats", "setup", "shell", "slackpkg", "slurp", "snap", "stat", "supervisorctl", "svc",
    "swdepot", "synchronize", "sysctl", "systemd", "systemd_service", "sysvinit", "tempfile", "template",
    "timezone", "ufw", "unarchive", "uri", "urpmi", "user", "validate_argument_spec", "wait_for",
    "wait_for_connection", "win_service", "x509_certificate", "xbps", "yarn", "yum", "yum_repository",
    "zfs", "zypper", "zypper_repository"};

}  // namespace

bool is_ansible_module(const std::string& name) {
    return std::binary_search(kKnown.begin(), kKnown.end(), std::string_view(name));
}

std::string short_module_name(const std::string& key) {
    // namespace.collection.module → module, when the module is one Ansible knows.
    size_t a = key.find('.');
    size_t b = a == std::string::npos ? a : key.find('.', a + 1);
    if (b == std::string::npos || key.find('.', b + 1) != std::string::npos) return key;
    std::string last = key.substr(b + 1);
    return is_ansible_module(last) ? last : key;
}

}  // namespace decamp::playbook
