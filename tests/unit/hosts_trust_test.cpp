// The trust store: host keys by provider server id with their provenance; the rules for
// replacing a key; an address a new server inherits; what the transport is told per host.
#include <doctest/doctest.h>

#include "hosts/hosts.hpp"
#include "hosts/trust.hpp"
#include "migrate/journal.hpp"
#include "provider/host_key.hpp"
#include "test_util.hpp"
#include "transport/crypto.hpp"
#include "transport/known_hosts.hpp"

using namespace decamp;
using hosts::Provenance;
using hosts::Reason;
using hosts::TrustEntry;

namespace {

std::string new_key(const std::string& host) {
    return provider::key_of(provider::generate_host_key(host).public_line);
}

std::string blob_of(const std::string& key) {
    auto f = transport::known_hosts::parse("x " + key, "k");
    REQUIRE(f.entries.size() == 1);
    return f.entries[0].key;
}

TrustEntry injected(const std::string& id, const std::string& key) {
    TrustEntry e;
    e.provider = "cloud";
    e.id = id;
    e.name = "web1";
    e.address = "198.18.7.43";
    e.provenance = Provenance::InjectedUserData;
    e.keys = {key};
    return e;
}

int exit_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.exit_code();
    }
    return 0;
}

}  // namespace

TEST_CASE("trust store: provenance names round-trip") {
    for (auto p :
         {Provenance::ApiAttested, Provenance::InjectedUserData, Provenance::RescuePinned, Provenance::Tofu})
        CHECK(hosts::parse_provenance(hosts::provenance_name(p)) == p);
    CHECK(hosts::parse_provenance("injected") == Provenance::None);
}

TEST_CASE("trust store: a key is replaced only by a reinstall decamp started") {
    test::TempDir dir;
    migrate::Journal j(dir.path() / "state.db");
    hosts::TrustStore store(j);
    const std::string k1 = new_key("web1"), k2 = new_key("web1");
    store.pin(injected("42", k1), Reason::NewServer);
    CHECK(store.get("cloud", "42")->keys == std::vector<std::string>{k1});
    CHECK(store.get("cloud", "42")->provenance == Provenance::InjectedUserData);
    CHECK_FALSE(store.get("cloud", "43"));
    CHECK_FALSE(store.get("other", "42"));

    // The same key again (an adoption, a rerun) changes nothing.
    CHECK(exit_of([&] { store.pin(injected("42", k1), Reason::NewServer); }) == 0);
    // Another key for the same server id, not through decamp's own reinstall: refused, exit 4.
    CHECK(exit_of([&] { store.pin(injected("42", k2), Reason::NewServer); }) == kExitHostKey);
    TrustEntry tofu = injected("42", k2);
    tofu.provenance = Provenance::Tofu;
    CHECK(exit_of([&] { store.pin(tofu, Reason::FirstUse); }) == kExitHostKey);
    CHECK(store.get("cloud", "42")->keys == std::vector<std::string>{k1});

    // decamp's reinstall with the new key: replaced.
    store.pin(injected("42", k2), Reason::Reinstall);
    CHECK(store.get("cloud", "42")->keys == std::vector<std::string>{k2});

    // A reinstall that gave no key empties the entry: the old key is gone with the old system.
    TrustEntry none = injected("42", "");
    none.keys.clear();
    none.provenance = Provenance::None;
    store.pin(none, Reason::Reinstall);
    CHECK(store.get("cloud", "42")->empty());
    // Then trust on first use is allowed, and marked.
    store.pin(tofu, Reason::FirstUse);
    CHECK(store.get("cloud", "42")->provenance == Provenance::Tofu);

    TrustEntry attested = injected("7", "");
    attested.keys.clear();
    attested.provenance = Provenance::ApiAttested;
    attested.fingerprints = {"ED25519 SHA256:abc"};
    store.pin(attested, Reason::NewServer);
    auto all = store.all();
    REQUIRE(all.size() == 2);
    CHECK(all[0].id == "42");
    CHECK(all[1].id == "7");
    CHECK(all[1].fingerprints == attested.fingerprints);
}

TEST_CASE("trust store: an address reused by a new server id does not inherit the old pin") {
    test::TempDir dir;
    migrate::Journal j(dir.path() / "state.db");
    hosts::Store records(j);
    hosts::TrustStore store(j);
    const std::string old_key = new_key("web1");
    hosts::Record r;
    r.provider = "cloud";
    r.name = "web1";
    r.id = "42";
    r.ipv4 = "198.18.7.43";
    records.put(r);
    store.pin(injected("42", old_key), Reason::NewServer);
    auto before = hosts::host_trust(j, "cloud", "web1", false);
    REQUIRE(before);
    CHECK(transport::judge(*before, "ssh-ed25519", blob_of(old_key)) == transport::TrustVerdict::Match);

    // Server 42 is deleted; the provider gives its address to server 77, made outside decamp.
    r.id = "77";
    records.put(r);
    auto after = hosts::host_trust(j, "cloud", "web1", false);
    REQUIRE(after);
    CHECK(after->server_id == "77");
    CHECK(after->keys.empty());
    CHECK(transport::judge(*after, "ssh-ed25519", blob_of(old_key)) == transport::TrustVerdict::NoKey);
    CHECK_FALSE(after->tofu_allowed);

    // With --trust-on-first-use the key seen is recorded for 77 alone, marked tofu.
    auto tofu = hosts::host_trust(j, "cloud", "web1", true);
    REQUIRE(tofu);
    REQUIRE(tofu->record_first_use);
    const std::string seen = new_key("web1");
    tofu->record_first_use(seen);
    auto e = store.get("cloud", "77");
    REQUIRE(e);
    CHECK(e->provenance == Provenance::Tofu);
    CHECK(e->keys == std::vector<std::string>{seen});
    CHECK(store.get("cloud", "42")->keys == std::vector<std::string>{old_key});

    // A host the state knows nothing of keeps known_hosts.
    CHECK_FALSE(hosts::host_trust(j, "cloud", "web2", false));
}
