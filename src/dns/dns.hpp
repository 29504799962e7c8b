// DNS back-ends behind one small interface (kind: powerdns, …), plus a minimal resolver that
// asks an authoritative server directly, to verify a switch really took effect.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/error.hpp"

namespace decamp::dns {

struct RRset {
    std::string name;   // fqdn with trailing dot
    std::string type;   // A, AAAA
    int ttl = 300;
    std::vector<std::string> records;  // addresses
};

class DnsBackend {
public:
    virtual ~DnsBackend() = default;
    // Throws Error when the API is unreachable, refuses the key, or lacks the zone.
    virtual void ping() = 0;
    virtual std::optional<RRset> get(const std::string& name, const std::string& type) = 0;
    // Replaces the whole rrset (records and TTL) atomically.
    virtual void replace(const RRset& rrset) = 0;
    virtual std::string describe() const = 0;
};

struct BackendConfig {
    std::string kind;     // powerdns
    std::string api;      // http://127.0.0.1:8081
    std::string api_key;  // resolved secret (never logged)
    std::string zone;     // example.test.
    std::string server_id = "localhost";
    int timeout_ms = 5000;
};

// Built-in back-ends by kind; Error naming the kinds for an unknown one.
std::unique_ptr<DnsBackend> make_backend(const BackendConfig& cfg);

// Asks `server` ("host:port", default port 53) for the A (or AAAA) records of `name` over
// UDP (TCP on truncation) and returns the addresses. Throws Error on timeout or error.
std::vector<std::string> query(const std::string& server, const std::string& name,
                               const std::string& type = "A", int timeout_ms = 3000);

}  // namespace decamp::dns
