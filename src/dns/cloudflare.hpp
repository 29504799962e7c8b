// The Cloudflare back-end (kind: cloudflare), through the v4 API with an API token (Bearer,
// permission "DNS Write" on the zone): the zone id is looked up by name, records are read
// per name and type, and an RRset is replaced in one call to the batch endpoint
// (POST /zones/{id}/dns_records/batch: deletes, patches and posts in one transaction).
#pragma once

#include <memory>

#include "dns/dns.hpp"

namespace decamp::dns {

std::unique_ptr<DnsBackend> make_cloudflare(const BackendConfig& cfg);

}  // namespace decamp::dns
