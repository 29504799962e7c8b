// The built-in modules: one plan function per module family, registered by name in
// registry.cpp. Each takes the module's name (apt vs package, command vs shell, ...).
#pragma once

#include <string>

#include "modules/module.hpp"

namespace decamp::modules {

Action plan_package(const std::string& name, const Value& args);
// Arguments of other package managers that `package` accepts at load (they fail at plan).
const std::vector<std::string>& package_foreign_args();
Action plan_file(const std::string& name, const Value& args);
Action plan_copy(const std::string& name, const Value& args);
Action plan_service(const std::string& name, const Value& args);
Action plan_user(const std::string& name, const Value& args);
Action plan_group(const std::string& name, const Value& args);
Action plan_command(const std::string& name, const Value& args);
Action plan_lineinfile(const std::string& name, const Value& args);
Action plan_wait_for(const std::string& name, const Value& args);
Action plan_http_check(const std::string& name, const Value& args);
Action plan_postgresql_db(const std::string& name, const Value& args);
Action plan_postgresql_user(const std::string& name, const Value& args);

}  // namespace decamp::modules
