// The Hetzner back-end (kind: hetzner): DNS in the Hetzner Cloud API (api.hetzner.cloud/v1,
// Bearer project token; the old dns.hetzner.com API is gone since May 2026). RRsets are read
// as /zones/{zone}/rrsets/{name}/{type}; a replace is the set_records action (and change_ttl
// when the TTL changes), or creating the RRset; every action is polled until it is done.
#pragma once

#include <memory>

#include "dns/dns.hpp"

namespace decamp::dns {

std::unique_ptr<DnsBackend> make_hetzner(const BackendConfig& cfg);

}  // namespace decamp::dns
