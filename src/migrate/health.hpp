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

// One check aimed at one host: the URL rendered for it, or why it cannot be used.
struct HealthTarget {
    std::string host;
    std::string url;
    std::string host_header;
    int expect = 200;
    int timeout_s = 10;
    std::string error;  // the rendered URL is not one decamp will ask
};

// Every check of the inventory against every host of `provider` with the check's role.
std::vector<HealthTarget> health_targets(const inventory::Inventory& inv, const std::string& provider);

// Runs every check against the hosts of `provider`. Retries each failing check until it
// passes or `wait_s` seconds have passed (0 = one try).
std::vector<HealthResult> check_health(const inventory::Inventory& inv, const std::string& provider,
                                       int wait_s = 0);
bool all_ok(const std::vector<HealthResult>& results);
std::string describe(const std::vector<HealthResult>& results);

}  // namespace decamp::migrate
