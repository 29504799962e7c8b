// Shared by the kinds whose hosts come from an API (hetzner-cloud, hetzner-robot, ovh): a
// secret key of the block, the `api:` base URL (tests point it at a fake on 127.0.0.1), and
// host specs that name what to order (plan, image, location) instead of an address, which
// the provider assigns and decamp keeps in its state.
#pragma once

#include <string>
#include <vector>

#include "provider/provider.hpp"

namespace decamp::provider {

// Reads `key` of `block` as a secret reference (${env:NAME} or ${file:path}) and stores it
// in `settings`; a value written inline is an error that never echoes it.
void read_secret(const Value& block, const std::string& key, const std::string& path, bool required,
                 Value& settings, schema::Checker& check);

// Reads `api:` (an http(s) URL) into settings, `fallback` when absent.
void read_api(const Value& block, const std::string& path, const std::string& fallback, Value& settings,
              schema::Checker& check);

// What a host spec of an API kind may say.
struct OrderRules {
    std::string plan_key;  // "server_type", "product"; "" = none
    bool plan_required = true;
    bool image_required = true;
    bool location_required = false;
    // Further keys a host may have (stored in the order under their name), and whether required.
    std::vector<std::pair<std::string, bool>> extra;
};

// Reads `hosts:`; each host's order goes to settings["orders"][name] = {plan, image, location}.
std::vector<HostSpec> read_orders(const Value& block, const std::string& path, const std::string& kind,
                                  const OrderRules& rules, Value& settings, schema::Checker& check);

// The orders a provider was opened with, in file order.
std::vector<Order> orders_of(const Value& settings);
// An extra key of host `name`'s order ("" when absent).
std::string order_extra(const Value& settings, const std::string& name, const std::string& key);

// The resolved value of secret `key` in settings; Error naming the provider when unset.
std::string secret_setting(const Config& config, const std::string& key);
std::string string_setting(const Value& settings, const std::string& key, const std::string& fallback = "");

}  // namespace decamp::provider
