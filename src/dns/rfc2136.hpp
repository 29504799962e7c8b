// The RFC 2136 back-end (kind: rfc2136): dynamic UPDATE signed with TSIG (RFC 8945) to the
// zone's primary (BIND, Knot, PowerDNS with dnsupdate=yes, …), reads by signed query, the
// zone by signed AXFR. libldns builds, signs and checks the messages (only rfc2136.cpp sees
// ldns.h); dns/exchange.hpp carries them.
#pragma once

#include <memory>

#include "dns/dns.hpp"

namespace decamp::dns {

std::unique_ptr<DnsBackend> make_rfc2136(const BackendConfig& cfg);

}  // namespace decamp::dns
