#include "inventory/secrets.hpp"

#include "dns/dns.hpp"
#include "util/secret.hpp"

namespace decamp::inventory {

namespace {

// Shorter secrets cannot be masked: "***" in place of every "abc" would mangle ordinary text.
constexpr size_t kMinSecretLength = 6;

void remember(const Value& v, const std::filesystem::path& base_dir, const std::string& path,
              std::vector<Diagnostic>& short_ones) {
    switch (v.kind()) {
        case Value::Kind::Secret:
            try {
                auto s = resolve_secret(v.as_string(), base_dir);  // registers it
                if (s.reveal().size() < kMinSecretLength)  // the value itself is never shown
                    short_ones.push_back(Diagnostic{v.mark(), path,
                        v.as_string() + " resolves to a value shorter than " + std::to_string(kMinSecretLength) +
                        " characters; a secret that short cannot be masked in output without mangling "
                        "ordinary text: use a longer one"});
            } catch (const std::exception&) {
                // Missing now; whoever needs it reports it.
            }
            break;
        case Value::Kind::List: {
            size_t i = 0;
            for (const auto& item : v.items()) remember(item, base_dir, path + "/" + std::to_string(i++), short_ones);
            break;
        }
        case Value::Kind::Map:
            for (const auto& [k, item] : v.entries())
                remember(item, base_dir, path.empty() ? k : path + "/" + k, short_ones);
            break;
        default: break;
    }
}

// A TSIG secret that is not base64 key material would only fail at the first UPDATE, in
// the middle of a cutover: say so at load, at the reference (never the value).
void check_tsig_secret(const Value& v, const std::filesystem::path& base_dir, std::vector<Diagnostic>& out) {
    if (v.kind() != Value::Kind::Secret) return;
    try {
        auto s = resolve_secret(v.as_string(), base_dir);
        if (std::string why = dns::check_tsig_secret(s.reveal()); !why.empty())
            out.push_back(
                Diagnostic{v.mark(), "dns/tsig/secret", v.as_string() + " does not hold a TSIG key: " + why});
    } catch (const std::exception&) {
        // Missing now; whoever needs it reports it.
    }
}

}  // namespace

void remember_secrets(const Inventory& inv) {
    std::vector<Diagnostic> short_ones;
    remember(inv.secrets, inv.base_dir, "secrets", short_ones);
    remember(inv.vars, inv.base_dir, "vars", short_ones);
    for (const auto& h : inv.hosts) remember(h.vars, inv.base_dir, "providers/" + h.provider + "/hosts/" + h.name + "/vars", short_ones);
    for (const auto& p : inv.providers) remember(p.settings, inv.base_dir, "providers/" + p.name, short_ones);
    for (size_t i = 0; i < inv.data.size(); ++i)
        remember(inv.data[i].settings, inv.base_dir, "data/" + std::to_string(i), short_ones);
    if (inv.dns) {
        remember(inv.dns->api_key, inv.base_dir, inv.dns->api_key_path, short_ones);
        remember(inv.dns->tsig_secret, inv.base_dir, "dns/tsig/secret", short_ones);
        check_tsig_secret(inv.dns->tsig_secret, inv.base_dir, short_ones);
    }
    if (!short_ones.empty()) throw ConfigError(std::move(short_ones));
}

}  // namespace decamp::inventory
