// Built-in DNS back-ends keyed by `kind`, as ccache keys its remote storages by scheme.
#include <algorithm>
#include <functional>
#include <map>

#include "dns/dns.hpp"
#include "dns/powerdns.hpp"
#include "dns/rfc2136.hpp"

namespace decamp::dns {

namespace {

using Factory = std::function<std::unique_ptr<DnsBackend>(const BackendConfig&)>;

const std::map<std::string, Factory>& factories() {
    static const std::map<std::string, Factory> m = {
        {"powerdns", make_powerdns},
        {"rfc2136", make_rfc2136},
    };
    return m;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

}  // namespace

void DnsBackend::replace_if(const RRset& rrset, const std::optional<RRset>& expected) {
    std::optional<RRset> now = get(rrset.name, rrset.type);
    bool same = now.has_value() == expected.has_value() &&
                (!now || sorted(now->records) == sorted(expected->records));
    if (!same)
        throw Error(describe() + ": " + rrset.name + " " + rrset.type +
                    " changed since it was read (someone else wrote it); nothing written");
    replace(rrset);
}

std::string DnsBackend::export_zone() {
    throw Error(describe() + " cannot export the zone");
}

std::unique_ptr<DnsBackend> make_backend(const BackendConfig& cfg) {
    auto it = factories().find(cfg.kind);
    if (it != factories().end()) return it->second(cfg);
    std::string known;
    for (const auto& [kind, f] : factories()) known += (known.empty() ? "" : ", ") + kind;
    throw Error("unknown DNS back-end kind '" + cfg.kind + "' (known: " + known + ")");
}

}  // namespace decamp::dns
