// Verifying a switch at every authoritative nameserver of the zone: each one is asked
// directly (no recursion, UDP and TCP) until it serves exactly the new records and TTL, or
// the deadline passes; the result says which server agreed when. Never through a resolver:
// its cache would hide what the servers hold.
#pragma once

#include <string>
#include <vector>

#include "dns/dns.hpp"

namespace decamp::dns {

struct ServerAnswer {
    std::string server;  // host:port
    bool agreed = false;
    double seconds = -1;  // from the start until it served every wanted rrset over UDP and TCP
    std::string last;     // when it did not agree: what it answered last, or the error
};

struct Verification {
    std::vector<ServerAnswer> servers;
    bool all_agreed() const;
    // "127.0.0.1:5353 agreed after 0.0 s; 127.0.0.1:5354 did not agree within 10 s (…)"
    std::string summary() const;
};

struct VerifyOptions {
    int deadline_ms = 60000;
    int interval_ms = 200;
    int query_timeout_ms = 2000;
};

// Polls every server until each serves every rrset of `want` (records as a set, and TTL)
// authoritatively over both UDP and TCP. Never throws for a server that fails: that is
// its `last`.
Verification verify_rrsets(const std::vector<std::string>& servers, const std::vector<RRset>& want,
                           const VerifyOptions& opts = {});

// The zone's nameservers as "address:port", from its NS records at `server`: each NS name's
// addresses are asked at `server` when the name is inside the zone (glue), else looked up
// by the system resolver. Every address gets the port of `server` (53 unless it says
// otherwise). Throws Error when the zone has no NS records there.
std::vector<std::string> zone_nameservers(const std::string& server, const std::string& zone,
                                          int timeout_ms = 3000);

}  // namespace decamp::dns
