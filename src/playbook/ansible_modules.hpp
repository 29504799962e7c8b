// Module names Ansible knows, so that one decamp does not implement loads (and fails only
// where it would run) while a name nobody knows is a load-time error.
#pragma once

#include <string>

namespace decamp::playbook {

// `name` without its collection prefix (apt, docker_container, …).
bool is_ansible_module(const std::string& name);
// community.docker.docker_container → docker_container when Ansible knows that module;
// anything else unchanged.
std::string short_module_name(const std::string& key);

}  // namespace decamp::playbook
