// Health checks from the inventory (`health:`), run with libcurl against each host of the
// check's role with the real Host header, before DNS points there.
#pragma once

#include <string>
#include <vector>

#include "inventory/inventory.hpp"

namespace decamp::migrate {

struct HealthResult {
    std::string host;
    std::string url;
    int status = 0;
    bool ok = false;
    std::string error;
    double seconds = 0;
};

// Runs every check against the hosts of `provider`. Retries each failing check until it
// passes or `wait_s` seconds have passed (0 = one try).
std::vector<HealthResult> check_health(const inventory::Inventory& inv, const std::string& provider,
                                       int wait_s = 0);
bool all_ok(const std::vector<HealthResult>& results);
std::string describe(const std::vector<HealthResult>& results);

}  // namespace decamp::migrate
