// `app: front:` — the proxy in front of the app (inventory.hpp's FrontConfig), checked
// offline with file:line:column like the rest of the inventory. Internal to the loader.
#pragma once

#include <optional>

#include "inventory/inventory.hpp"
#include "util/schema.hpp"

namespace decamp::inventory {

std::optional<FrontConfig> load_front(const Value& v, schema::Checker& c);

}  // namespace decamp::inventory
