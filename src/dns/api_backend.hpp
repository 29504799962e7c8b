// What the DNS back-ends that speak an HTTP API (powerdns, cloudflare, …) share: the checks
// of an RRset before anything is sent and the errors they throw — the API's
// own word on the line, its whole answer as the detail for -v, a refused token named as
// such (and never retried, see util/api_client), every text masked.
#pragma once

#include <string>

#include "dns/dns.hpp"
#include "util/http.hpp"

namespace decamp::dns {

// `name` is `zone` or below it (both canonical, trailing dot).
bool in_zone(const std::string& name, const std::string& zone);

// The canonical name of `rrset` once it is known to be switchable by `who` ("cloudflare") in
// `zone`: A or AAAA, inside the zone, at least one record, each an address of that family,
// a TTL of at least `min_ttl`. Throws Error saying which rule it broke.
std::string checked_rrset(const std::string& who, const RRset& rrset, const std::string& zone, int min_ttl);

// The answer, bounded, for an Error's detail (-v).
std::string answer_detail(const http::Response& r);

// Throws Error "<who>: <doing>: HTTP <status>: <why>" (or "no answer: …"); for 401/403 it
// says the token was refused and that this is not retried.
[[noreturn]] void throw_api_error(const std::string& who, const std::string& doing, const http::Response& r,
                                  const std::string& why);

}  // namespace decamp::dns
