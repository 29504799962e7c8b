// `decamp hosts`: hosts of an API provider ordered, reinstalled, rescued and powered, plan
// first. What the provider answered (server id, addresses, the host key decamp gave the
// server and how it knows it) is kept in decamp's state (the SQLite state beside the
// inventory), so apply and migrate find hosts whose addresses the inventory does not hold.
// Each host's operation is journaled before it starts and when it ends: after a crash or
// Ctrl-C, running the command again orders nothing twice (idempotent by host name: a server
// of that name at the provider is adopted, never ordered again).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "provider/provider.hpp"

namespace decamp::migrate {
class Journal;
}
namespace decamp::inventory {
struct Inventory;
}

namespace decamp::hosts {

// One host as decamp's state remembers it.
struct Record {
    std::string provider, name;
    std::string id;  // the provider's server id (providers reuse addresses, never ids)
    std::string ipv4, ipv6, status;
    std::string host_key;    // "ssh-ed25519 AAAA…", "" when unknown
    std::string key_source;  // "injected" (decamp made it, user data), "api" (attested), "" = none
    double updated = 0;
};

// Host records and the per-host operation journal, in the state's key/value table.
class Store {
public:
    explicit Store(migrate::Journal& journal) : j_(journal) {}
    migrate::Journal& journal() { return j_; }
    std::optional<Record> get(const std::string& provider, const std::string& name);
    void put(const Record& r);

    struct Op {
        std::string op;           // create | reinstall | rescue | power
        std::string state;        // started | done | failed
        std::string pending_key;  // the host key sent with it, before the provider answered
        std::string detail;
        std::string ref;  // the provider's reference of an order it took (Robot: a transaction id)
    };
    std::optional<Op> op(const std::string& provider, const std::string& name);
    void op_started(const std::string& provider, const std::string& name, const std::string& op,
                    const std::string& pending_key);
    void op_ended(const std::string& provider, const std::string& name, bool ok, const std::string& detail);
    // Keeps the provider's reference of the order being waited for (kept when it ends too).
    void op_ref(const std::string& provider, const std::string& name, const std::string& ref);

private:
    migrate::Journal& j_;
};

enum class Action { List, Create, Reinstall, Rescue, Power };
std::optional<Action> parse_action(const std::string& word);
const char* action_name(Action a);

// What the command would do to one host.
struct Item {
    std::string host;
    provider::Order order;
    std::optional<provider::Server> server;  // the provider's server of that name
    bool todo = false;                       // something would be done
    std::string what;   // "order cx22 debian-12 in fsn1", "exists (id 42, 198.18.7.43): nothing to order"
    std::string price;  // "€4.51/month" when the API says
};

struct Plan {
    Action action = Action::List;
    std::string provider;
    std::optional<provider::PowerAction> power;
    std::vector<Item> items;
    std::vector<provider::Server> strangers;  // servers of the provider that no host spec names
    int todo() const;
};

// Asks the provider what exists and decides per host (`names`: the selected host specs).
// Throws Error when the provider cannot do `action` (naming its kind) or its API fails.
Plan make_plan(provider::Provider& p, Action action, const std::vector<std::string>& names,
               std::optional<provider::PowerAction> power);

std::string render_plan(const Plan& plan);

struct Context {
    std::string authorized_key;        // our SSH public key line, given to new and reinstalled servers
    std::string known_hosts;           // decamp's known_hosts: injected keys are pinned there ("" = none)
    std::map<std::string, int> ports;  // host → SSH port its pin is for (22 when absent)
    std::function<void(const std::string&)> progress;  // one line per host event
    std::function<bool()> stop;                        // Ctrl-C: stop before the next host
};

struct Outcome {
    std::string host;
    bool ok = false;
    bool skipped = false;  // nothing to do, or stopped before it
    std::string message;
    std::optional<Record> record;
};

// Runs the plan's items one host at a time, journaled in `store`; a host that fails is
// reported and the others go on.
std::vector<Outcome> run_plan(provider::Provider& p, const Plan& plan, Store& store, const Context& ctx);

// Pins `key` ("type base64") for address:port in the known_hosts file at `path`, replacing
// the plain entries for exactly that address: only called for a server decamp itself just
// created or reinstalled with that key (providers hand out addresses again).
void pin_host_key(const std::string& path, const std::string& address, int port, const std::string& key);

std::string to_json(const Plan& plan, const std::vector<Outcome>& outcomes);

// Gives each host the inventory writes no address for the IPv4 address its provider gave
// it, as the state records it (`decamp hosts create`). `state` "" = the default state beside
// the inventory; a state file that does not exist is not created. Returns the names of the
// hosts that still have no address (never ordered, or the provider gave no IPv4).
std::vector<std::string> fill_addresses(inventory::Inventory& inv, const std::string& state);

// The public half of ssh.key (KEY.pub): what new and reinstalled servers get as root's key.
// Error when it is not set or cannot be read.
std::string public_key_of(const inventory::Inventory& inv);

// The hosts of `provider` that have no address yet (neither in the inventory nor in the
// state): what a migration or a drill to it must order first.
std::vector<std::string> unordered(const inventory::Inventory& inv, const std::string& provider);

struct Ensure {
    bool tofu = false;  // --trust-on-first-use for the hosts' keys
    std::function<void(const std::string&)> progress;
};

// Orders the hosts `names` of `provider` that the provider does not have yet, as `decamp
// hosts create` does (journaled per host in `journal`; a server of that name is adopted,
// never ordered twice), then gives them in `inv` the addresses and key trust the state now
// holds. A summary; Error when the provider cannot order or an order failed.
std::string ensure_hosts(inventory::Inventory& inv, const std::string& provider,
                         const std::vector<std::string>& names, migrate::Journal& journal,
                         const Ensure& opts);

}  // namespace decamp::hosts
