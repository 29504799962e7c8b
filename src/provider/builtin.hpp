// The built-in provider kinds, one file each, listed in registry.cpp's table.
#pragma once

#include <memory>

#include "provider/provider.hpp"

namespace decamp::provider {

std::unique_ptr<Kind> make_static_kind();  // static.cpp
std::unique_ptr<Kind> make_local_kind();   // local.cpp
std::unique_ptr<Kind> make_hetzner_cloud_kind();  // hetzner_cloud.cpp
std::unique_ptr<Kind> make_ovh_kind();            // ovh.cpp
std::unique_ptr<Kind> make_hetzner_robot_kind();  // hetzner_robot.cpp

}  // namespace decamp::provider
