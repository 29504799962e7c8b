// Shared by the kinds whose hosts are written out in the inventory (static, local; the lab
// later): checking a block's keys, reading its `hosts:` map, and a Provider that lists the
// hosts it was opened with.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "provider/provider.hpp"

namespace decamp::provider {

// Reports every key of `block` not in `allowed`, naming the kind:
// `unknown key "token" for a static provider; expected one of: kind, hosts`.
void check_block_keys(const Value& block, const std::string& path, const std::string& kind,
                      const std::vector<std::string>& allowed, schema::Checker& check);

// What a host of a kind may say.
struct HostRules {
    std::vector<std::string> allowed;  // keys a host may have
    // Keys that mean something for other kinds but not this one, with why (reported instead
    // of a plain "unknown key").
    std::vector<std::pair<std::string, std::string>> refused;
    bool address_required = true;
    std::string default_address;  // when not required and absent
    // "" when the address is fine, else the whole message.
    std::string (*check_address)(const std::string& address) = nullptr;
};

// Reads the required `hosts:` map of `block` (host name → keys). A host whose keys are wrong
// is still returned, with what could be read, so the loader can check its name and roles.
std::vector<HostSpec> read_hosts(const Value& block, const std::string& path, const HostRules& rules,
                                 schema::Checker& check);

// A provider whose hosts are the ones it was opened with; it can do nothing else.
std::unique_ptr<Provider> open_declared(std::string kind, Config config);

}  // namespace decamp::provider
