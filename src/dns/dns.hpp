// DNS back-ends behind one small interface (kind: powerdns, rfc2136, …), plus a minimal
// resolver that asks an authoritative server directly, to verify a switch really took effect.
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
    // Replaces `rrset` only while the server still holds exactly `expected` (records; nullopt:
    // no such rrset), as read by get(); throws Error saying it changed meanwhile, and writes
    // nothing, when it does not. The default compares, then writes (not atomic); back-ends
    // with conditional writes (rfc2136 prerequisites) do both in one message.
    virtual void replace_if(const RRset& rrset, const std::optional<RRset>& expected);
    // The whole zone as RFC 1035 master-file text (AXFR or the API's export). The default
    // throws Error: not every back-end can.
    virtual std::string export_zone();
    virtual std::string describe() const = 0;
};

// A TSIG key (RFC 8945) as the inventory gives it; `secret` is the resolved base64 key
// material (never printed).
struct TsigKey {
    std::string name;                       // decamp-key.
    std::string algorithm = "hmac-sha256";  // hmac-sha1, -sha224, -sha256, -sha384, -sha512
    std::string secret;
};

// "" when usable, else what was expected (for file:line:column diagnostics; never quotes
// the secret). hmac-md5 is refused: deprecated by RFC 8945.
std::string check_tsig_algorithm(const std::string& algorithm);
std::string check_tsig_secret(const std::string& secret);

struct BackendConfig {
    std::string kind;     // see backend_kinds()
    std::string api;      // powerdns: http://127.0.0.1:8081; API kinds: their documented base URL by default
    std::string api_key;  // powerdns: the API key; cloudflare: the API token (resolved secrets, never logged)
    std::string zone;     // example.test.
    std::string server_id = "localhost";
    std::string server;  // rfc2136: the primary that takes UPDATEs, host:port
    TsigKey tsig;        // rfc2136
    int timeout_ms = 5000;
    int retries = 2;  // rfc2136: further attempts after SERVFAIL or no answer (never after an auth failure)
    int retry_delay_ms = 500;  // doubled on each further attempt
};

// Built-in back-ends by kind; Error naming the kinds for an unknown one.
std::unique_ptr<DnsBackend> make_backend(const BackendConfig& cfg);
// The kinds make_backend knows, sorted (the inventory loader checks `dns: kind:` against them).
std::vector<std::string> backend_kinds();
// The lowest TTL `kind` accepts, in seconds (deSEC: 3600 unless its support lowers it for a
// domain). A migration lowers TTLs no further than this, and says how long that makes the
// cutover take to be seen.
int min_ttl(const std::string& kind);

// Asks `server` ("host:port", default port 53) for the A (or AAAA) records of `name` over
// UDP (TCP on truncation) and returns the addresses. Throws Error on timeout or error.
std::vector<std::string> query(const std::string& server, const std::string& name,
                               const std::string& type = "A", int timeout_ms = 3000);

}  // namespace decamp::dns
