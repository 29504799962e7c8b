// What the SSH transport expects of a host a provider made: the keys decamp's trust store
// holds for that server id (whole keys, or fingerprints an API attested) and how decamp came
// to trust them. For such a host the transport checks the key against this alone, never
// against known_hosts by address: providers hand addresses to new servers, and the pin of a
// deleted server must not carry over to the next one at its address.
// Plain data and a pure matcher; no libssh2 or OpenSSL in this header.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace decamp::transport {

struct HostTrust {
    std::string provider;    // for messages: "provider new"
    std::string server_id;   // the provider's server id the keys belong to
    std::string provenance;  // api-attested | injected-user-data | rescue-pinned | tofu | "" (none yet)
    std::vector<std::string> keys;          // "type base64" whole keys
    std::vector<std::string> fingerprints;  // "[type ]SHA256:b64" or "[type ][MD5:]aa:bb:…" (Robot)
    // Trust on first use, only when the user asked (--trust-on-first-use): a server with no
    // key yet is accepted and its key handed to `record_first_use` ("type base64").
    bool tofu_allowed = false;
    std::function<void(const std::string& key)> record_first_use;
};

enum class TrustVerdict { Match, Mismatch, NoKey };

// Whether a presented key (its type name and raw blob) is one the trust names.
TrustVerdict judge(const HostTrust& trust, std::string_view key_type, std::string_view blob);

// Whether `fingerprint` (as HostTrust::fingerprints holds them) names this key.
bool fingerprint_matches(std::string_view fingerprint, std::string_view key_type, std::string_view blob);

// "MD5:aa:bb:…" of a raw key blob (the form Robot names keys by).
std::string fingerprint_md5(std::string_view key_blob);

}  // namespace decamp::transport
