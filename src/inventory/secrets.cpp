#include "inventory/secrets.hpp"

#include "util/secret.hpp"

namespace decamp::inventory {

namespace {

void remember(const Value& v, const std::filesystem::path& base_dir) {
    switch (v.kind()) {
        case Value::Kind::Secret:
            try {
                (void)resolve_secret(v.as_string(), base_dir);  // registers it
            } catch (const std::exception&) {
                // Missing now; whoever needs it reports it.
            }
            break;
        case Value::Kind::List:
            for (const auto& i : v.items()) remember(i, base_dir);
            break;
        case Value::Kind::Map:
            for (const auto& [k, i] : v.entries()) remember(i, base_dir);
            break;
        default: break;
    }
}

}  // namespace

void remember_secrets(const Inventory& inv) {
    remember(inv.secrets, inv.base_dir);
    remember(inv.vars, inv.base_dir);
    for (const auto& h : inv.hosts) remember(h.vars, inv.base_dir);
    for (const auto& p : inv.providers) remember(p.settings, inv.base_dir);
    if (inv.dns) remember(inv.dns->api_key, inv.base_dir);
}

}  // namespace decamp::inventory
