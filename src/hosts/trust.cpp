// The trust store (trust.hpp): host keys by provider server id, with provenance, in the
// state's key/value table; and the expectation the transport gets for each provider host.
#include "hosts/trust.hpp"

#include <filesystem>
#include <mutex>

#include "hosts/hosts.hpp"
#include "inventory/inventory.hpp"
#include "migrate/journal.hpp"
#include "util/json.hpp"

namespace decamp::hosts {

namespace {

const char* const kNames[] = {"", "api-attested", "injected-user-data", "rescue-pinned", "tofu"};

std::string trust_key(const std::string& provider, const std::string& id) {
    return "trust/" + provider + "/" + id;
}

json::Value strings(const std::vector<std::string>& list) {
    json::Value a = json::Value(json::Value::Array{});
    for (const auto& s : list) a.push(s);
    return a;
}

std::vector<std::string> strings_of(json::Ref a) {
    std::vector<std::string> out;
    for (auto s : a.items())
        if (s.is_string()) out.push_back(s.str());
    return out;
}

std::optional<TrustEntry> decode(const std::string& provider, const std::string& id,
                                 const std::string& text) {
    json::Value v;
    try {
        v = json::parse(text);
    } catch (const json::ParseError&) {
        return std::nullopt;
    }
    TrustEntry e;
    e.provider = provider;
    e.id = id;
    e.name = v["name"].str();
    e.address = v["address"].str();
    e.provenance = parse_provenance(v["provenance"].str());
    e.keys = strings_of(v["keys"]);
    e.fingerprints = strings_of(v["fingerprints"]);
    e.since = v["since"].number_or(0);
    return e;
}

std::string describe_keys(const TrustEntry& e) {
    std::string out;
    for (const auto& k : e.keys) out += (out.empty() ? "" : ", ") + k.substr(0, k.find(' ')) + " key";
    for (const auto& f : e.fingerprints) out += (out.empty() ? "" : ", ") + f;
    return out;
}

}  // namespace

const char* provenance_name(Provenance p) {
    return kNames[static_cast<int>(p)];
}

Provenance parse_provenance(const std::string& word) {
    for (int i = 1; i < 5; ++i)
        if (word == kNames[i]) return static_cast<Provenance>(i);
    return Provenance::None;
}

std::optional<TrustEntry> TrustStore::get(const std::string& provider, const std::string& id) {
    if (id.empty()) return std::nullopt;
    auto text = j_.get(trust_key(provider, id));
    if (!text) return std::nullopt;
    return decode(provider, id, *text);
}

TrustEntry TrustStore::pin(const TrustEntry& e, Reason why) {
    if (e.id.empty()) throw Error("internal: a host key must be trusted for a server id");
    auto old = get(e.provider, e.id);
    const std::string server = "server " + e.id + " of provider " + e.provider + " (" + e.name + ")";
    if (old && !old->empty()) {
        if (old->keys == e.keys && old->fingerprints == e.fingerprints) return *old;
        if (why == Reason::FirstUse)
            throw Error(server + " already has a trusted key (" + provenance_name(old->provenance) +
                            "): not replaced by a "
                            "key seen on first use",
                        kExitHostKey);
        if (why != Reason::Reinstall)
            throw Error(server + " is trusted with " + describe_keys(*old) + " (" +
                            provenance_name(old->provenance) + ") and now comes with another key (" +
                            describe_keys(e) +
                            "); decamp replaces a server's key only after a reinstall it started itself",
                        kExitHostKey);
    }
    if (why == Reason::FirstUse && e.provenance != Provenance::Tofu)
        throw Error("internal: a key seen on first use is trusted as tofu");
    TrustEntry out = e;
    out.since = migrate::Journal::now();
    json::Value v;
    v.set("name", out.name);
    v.set("address", out.address);
    v.set("provenance", provenance_name(out.provenance));
    v.set("keys", strings(out.keys));
    v.set("fingerprints", strings(out.fingerprints));
    v.set("since", json::rounded(out.since));
    j_.set(trust_key(out.provider, out.id), json::dump(v));
    return out;
}

std::vector<TrustEntry> TrustStore::all() {
    std::vector<TrustEntry> out;
    for (const auto& [key, value] : j_.entries("trust/")) {
        // trust/P/ID: provider names hold no slash; the id is the rest.
        size_t slash = key.find('/', 6);
        if (slash == std::string::npos) continue;
        if (auto e = decode(key.substr(6, slash - 6), key.substr(slash + 1), value))
            out.push_back(std::move(*e));
    }
    return out;
}

std::optional<transport::HostTrust> host_trust(migrate::Journal& journal, const std::string& provider,
                                               const std::string& name, bool tofu) {
    auto rec = Store(journal).get(provider, name);
    if (!rec || rec->id.empty()) return std::nullopt;
    transport::HostTrust t;
    t.provider = "provider " + provider;
    t.server_id = rec->id;
    if (auto e = TrustStore(journal).get(provider, rec->id)) {
        t.provenance = provenance_name(e->provenance);
        t.keys = e->keys;
        t.fingerprints = e->fingerprints;
    }
    t.tofu_allowed = tofu;
    if (tofu)
        t.record_first_use = [path = journal.path(), provider, name, id = rec->id,
                              address = rec->ipv4](const std::string& key) {
            static std::mutex mu;  // hosts connect in parallel; one writer at a time
            std::lock_guard lock(mu);
            migrate::Journal j(path);
            TrustEntry e;
            e.provider = provider;
            e.id = id;
            e.name = name;
            e.address = address;
            e.provenance = Provenance::Tofu;
            e.keys = {key};
            TrustStore(j).pin(e, Reason::FirstUse);
        };
    return t;
}

void attach_trust(inventory::Inventory& inv, const std::string& state, bool tofu) {
    std::filesystem::path path =
        state.empty() ? migrate::default_state_path(inv.file) : std::filesystem::path(state);
    if (!std::filesystem::exists(path)) return;
    migrate::Journal journal(path);
    for (auto& h : inv.hosts) {
        if (h.is_local()) continue;
        auto rec = Store(journal).get(h.provider, h.name);
        // The server the state knows must be the one at this address: an inventory that
        // writes another address names another machine (known_hosts applies to it).
        if (!rec || rec->id.empty() || (h.address != rec->ipv4 && h.address != rec->ipv6)) continue;
        h.trust = host_trust(journal, h.provider, h.name, tofu);
    }
}

}  // namespace decamp::hosts
