// Built-in DNS back-ends keyed by `kind`, as ccache keys its remote storages by scheme.
#include <functional>
#include <map>

#include "dns/dns.hpp"
#include "dns/powerdns.hpp"

namespace decamp::dns {

namespace {

using Factory = std::function<std::unique_ptr<DnsBackend>(const BackendConfig&)>;

const std::map<std::string, Factory>& factories() {
    static const std::map<std::string, Factory> m = {
        {"powerdns", make_powerdns},
    };
    return m;
}

}  // namespace

std::unique_ptr<DnsBackend> make_backend(const BackendConfig& cfg) {
    auto it = factories().find(cfg.kind);
    if (it != factories().end()) return it->second(cfg);
    std::string known;
    for (const auto& [kind, f] : factories()) known += (known.empty() ? "" : ", ") + kind;
    throw Error("unknown DNS back-end kind '" + cfg.kind + "' (known: " + known + ")");
}

}  // namespace decamp::dns
