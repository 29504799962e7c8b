#include "dns/api_backend.hpp"

#include <arpa/inet.h>

#include "dns/packet.hpp"
#include "util/secret.hpp"

namespace decamp::dns {

bool in_zone(const std::string& name, const std::string& zone) {
    if (zone == ".") return true;
    if (name == zone) return true;
    return name.size() > zone.size() && name.compare(name.size() - zone.size(), zone.size(), zone) == 0 &&
           name[name.size() - zone.size() - 1] == '.';
}

std::string checked_rrset(const std::string& who, const RRset& rrset, const std::string& zone, int min_ttl) {
    std::string name = canonical_name(rrset.name);
    if (rrset.type != "A" && rrset.type != "AAAA")
        throw Error(who + ": only A and AAAA records can be switched, not '" + rrset.type + "'");
    if (!in_zone(name, zone)) throw Error(who + ": " + name + " is outside zone " + zone);
    if (rrset.records.empty())
        throw Error(who + ": refusing to replace " + name + " " + rrset.type + " with no records");
    if (rrset.ttl < min_ttl)
        throw Error(who + ": TTL " + std::to_string(rrset.ttl) + " for " + name + " is below the " +
                    std::to_string(min_ttl) + " s this back-end accepts");
    const bool v4 = rrset.type == "A";
    for (const auto& addr : rrset.records) {
        unsigned char buf[16];
        if (inet_pton(v4 ? AF_INET : AF_INET6, addr.c_str(), buf) != 1)
            throw Error("record for " + name + " " + rrset.type + ": '" + addr + "' is not an IPv" +
                        (v4 ? "4" : "6") + " address");
    }
    return name;
}

std::string answer_detail(const http::Response& r) {
    if (r.body.empty()) return "";
    std::string body = r.body.size() > 4096 ? r.body.substr(0, 4096) + "…" : r.body;
    return redactor().mask("HTTP " + std::to_string(r.status) + " answer: " + body);
}

void throw_api_error(const std::string& who, const std::string& doing, const http::Response& r,
                     const std::string& why) {
    std::string line = who + ": " + doing + ": ";
    if (r.status == 0) {
        line += "no answer" + (r.error.empty() ? "" : ": " + r.error);
    } else {
        line += "HTTP " + std::to_string(r.status);
        if (!why.empty()) line += ": " + why;
        if (r.status == 401 || r.status == 403) line += " (the API token was refused; not retried)";
    }
    throw Error(redactor().mask(line), kExitRuntime, answer_detail(r));
}

}  // namespace decamp::dns
