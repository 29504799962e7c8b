// The PowerDNS Authoritative back-end (kind: powerdns), through its HTTP API:
// GET /api/v1/servers/{id}/zones/{zone} to read, PATCH with changetype REPLACE to switch.
#pragma once

#include <memory>

#include "dns/dns.hpp"

namespace decamp::dns {

std::unique_ptr<DnsBackend> make_powerdns(const BackendConfig& cfg);

}  // namespace decamp::dns
