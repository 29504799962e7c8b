// Built-in DNS back-ends keyed by `kind`, as ccache keys its remote storages by scheme.
#include <algorithm>
#include <functional>
#include <map>

#include "dns/cloudflare.hpp"
#include "dns/dns.hpp"
#include "dns/hetzner.hpp"
#include "dns/powerdns.hpp"
#include "dns/rfc2136.hpp"

namespace decamp::dns {

namespace {

using Factory = std::function<std::unique_ptr<DnsBackend>(const BackendConfig&)>;

struct Kind {
    Factory make;
    int min_ttl;  // the lowest TTL the back-end accepts, in seconds
};

const std::map<std::string, Kind>& kinds() {
    static const std::map<std::string, Kind> m = {
        {"cloudflare", {make_cloudflare, 60}},  // 30 on Enterprise plans; 1 means "automatic"
        {"hetzner", {make_hetzner, 60}},
        {"powerdns", {make_powerdns, 1}},
        {"rfc2136", {make_rfc2136, 1}},
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

std::vector<std::string> backend_kinds() {
    std::vector<std::string> out;
    for (const auto& [name, kind] : kinds()) out.push_back(name);
    return out;
}

int min_ttl(const std::string& kind) {
    auto it = kinds().find(kind);
    return it == kinds().end() ? 1 : it->second.min_ttl;
}

std::unique_ptr<DnsBackend> make_backend(const BackendConfig& cfg) {
    auto it = kinds().find(cfg.kind);
    if (it != kinds().end()) return it->second.make(cfg);
    std::string known;
    for (const auto& name : backend_kinds()) known += (known.empty() ? "" : ", ") + name;
    throw Error("unknown DNS back-end kind '" + cfg.kind + "' (known: " + known + ")");
}

}  // namespace decamp::dns
