// decamp's trust store: the SSH host keys of servers a provider made, keyed by the provider's
// server id (providers hand an address to the next server after a delete or reinstall; ids
// are never reused), each with how decamp came to trust it. Kept in the state's key/value
// table as `trust/P/ID`. A key is only ever replaced when decamp itself started the
// reinstall that changed it and holds the new key from the provider's channel.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "transport/host_trust.hpp"

namespace decamp::migrate {
class Journal;
}
namespace decamp::inventory {
struct Inventory;
}

namespace decamp::hosts {

enum class Provenance {
    None,              // nothing known yet
    ApiAttested,       // the provider's API named the key (Robot: fingerprints)
    InjectedUserData,  // decamp generated it and gave it to the server in cloud-init user data
    RescuePinned,      // read over a rescue session whose own key was pinned, before first boot
    Tofu,              // accepted on first use, because the user asked (--trust-on-first-use)
};
const char* provenance_name(Provenance p);             // "api-attested", …, "" for None
Provenance parse_provenance(const std::string& word);  // None for anything else

struct TrustEntry {
    std::string provider, id;  // the key of the entry
    std::string name;          // the host it was made for (for messages)
    std::string address;       // where it was when last seen (for messages, never for lookups)
    Provenance provenance = Provenance::None;
    std::vector<std::string> keys;          // whole keys, "type base64"
    std::vector<std::string> fingerprints;  // attested fingerprints, as the API wrote them
    double since = 0;                       // when this key was trusted (unix seconds)

    bool empty() const { return keys.empty() && fingerprints.empty(); }
};

// Why a key reaches the store: the rules differ.
enum class Reason {
    NewServer,  // a server decamp ordered (or adopted after its own interrupted order)
    Reinstall,  // decamp reinstalled this server itself: the only way to replace a key
    FirstUse,   // --trust-on-first-use: only for a server with no key at all
};

class TrustStore {
public:
    explicit TrustStore(migrate::Journal& journal) : j_(journal) {}
    std::optional<TrustEntry> get(const std::string& provider, const std::string& id);
    // Records `e` (its provenance and keys) for its server id. The same keys again change
    // nothing. Different keys replace what is there only for Reason::Reinstall; otherwise
    // Error with exit 4 (the server id already has another key). Returns what is stored.
    TrustEntry pin(const TrustEntry& e, Reason why);
    // Every entry, ordered by provider and id.
    std::vector<TrustEntry> all();

private:
    migrate::Journal& j_;
};

// The transport's expectation for host `name` of `provider`: the trust entry of the server id
// the state records for it, or nullopt when the state has no server for it (a host the
// provider did not make; known_hosts applies). `tofu` allows trust on first use, recorded in
// the state at `state_path` with provenance tofu.
std::optional<transport::HostTrust> host_trust(migrate::Journal& journal, const std::string& provider,
                                               const std::string& name, bool tofu);

// Gives each host of `inv` that the state knows as a provider's server its trust (above).
// `state` "" = the default state beside the inventory; a missing state file is not created.
void attach_trust(inventory::Inventory& inv, const std::string& state, bool tofu);

}  // namespace decamp::hosts
