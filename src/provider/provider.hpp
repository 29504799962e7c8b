// Providers: where hosts come from. A kind (static, local; later lab, hetzner-cloud,
// hetzner-robot, ovh) checks its own block of the inventory offline and, at run time, opens
// a Provider that lists its hosts and says what it can do. Kinds are looked up by name in a
// registry, as ccache keys its remote storages by scheme: the inventory loader knows no kind.
//
// Adding a kind: one file under provider/ with a Kind subclass, and one row in the built-in
// table of registry.cpp. Tests (and anything else) may add a kind at run time with
// Registration.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/error.hpp"
#include "util/schema.hpp"
#include "util/value.hpp"

namespace decamp::provider {

// What a provider can do beyond listing hosts. Commands that order, reinstall or rescue hosts
// ask first and refuse with the kind's name when it cannot.
struct Capabilities {
    bool order_hosts = false;    // create and delete servers through an API
    bool reinstall = false;      // put a fresh OS image on a server
    bool rescue = false;         // boot a server into a rescue system
    bool user_data = false;      // pass cloud-init user data (how decamp injects host keys it made)
    bool api_host_keys = false;  // the API tells a server's SSH host keys (trust without TOFU)

    bool any() const { return order_hosts || reinstall || rescue || user_data || api_host_keys; }
};

// "order hosts, rescue" or "none": for messages and `validate`.
std::string describe(const Capabilities& caps);

// One host as its provider declares it. The inventory loader adds what is not the kind's
// business: ssh defaults, unique names and addresses across providers, roles that exist.
struct HostSpec {
    std::string name;
    std::string address;              // IP, host name or "local"; "" = the provider assigns it
    std::optional<int> port;          // unset = ssh.port
    std::optional<std::string> user;  // unset = ssh.user
    std::vector<std::string> roles;
    Value vars = Value::map();
    Mark mark;          // where the host's name was written
    Mark address_mark;  // where its address was written (the name's mark when implied)
    Mark roles_mark;    // where its roles were written (the name's mark when absent)
};

// A provider block as its kind validated it.
struct Block {
    Value settings = Value::map();  // the kind's own keys (region, token reference, …)
    std::vector<HostSpec> hosts;    // in file order
};

// What a kind opens a provider from: one validated block, by the name the inventory gave it.
struct Config {
    std::string name;               // "old", "new"
    Value settings = Value::map();  // as Block::settings; secrets are still references
    std::vector<HostSpec> hosts;    // as loaded (ssh defaults applied)
    std::filesystem::path base_dir;  // where ${file:…} secrets resolve from (the inventory's dir)
};

// A server as a provider's API reports it.
struct Server {
    std::string id;          // the provider's id (Hetzner Cloud: a number; OVH: a service name)
    std::string name;        // as the API names it: matched to inventory hosts by name
    std::string status;      // the API's own word ("running", "off", "ready", …)
    std::string ipv4, ipv6;  // "" when none
    std::string plan, image, location;
};

// What a host spec of an API kind orders: read by the kind from its block.
struct Order {
    std::string name, plan, image, location;
};

// A host key pair decamp made for a server, handed over through user data.
struct HostKeyPair {
    std::string type;         // "ssh-ed25519"
    std::string public_line;  // "ssh-ed25519 AAAA… comment"
    std::string private_pem;  // OpenSSH private key file text
};

// How decamp comes to trust a server's SSH host key.
enum class KeySource { None, Injected, Api };

struct Install {
    std::string image;
    std::string authorized_key;           // our SSH public key line ("ssh-ed25519 AAAA… me")
    std::optional<HostKeyPair> host_key;  // set when the kind takes user data
    // Kinds whose orders are transactions (Robot): told the order's reference as soon as the
    // provider took it, before the long wait; and handed it back after a crash, to follow
    // that order instead of placing another.
    std::function<void(const std::string& ref)> on_ordered;
    std::string resume_ref;
};

// The outcome of a create or reinstall.
struct Provisioned {
    Server server;
    KeySource key_source = KeySource::None;
    std::string host_key;                   // Injected: "type base64" the server will present
    std::vector<std::string> fingerprints;  // Api: what the API attests (it tells no whole key)
};

struct Rescue {
    Server server;
    std::vector<std::string> fingerprints;  // the rescue system's host keys, when the API attests them
    bool password_set = false;  // a root password was issued (never shown; registered as a secret)
};

enum class PowerAction { On, Off, Shutdown, Reboot, Reset };
const char* power_name(PowerAction a);
std::optional<PowerAction> parse_power(const std::string& word);

// One provider of the inventory at run time. Exists so the migration and the host commands
// can be tested with a fake, and so API kinds can answer from their API.
class Provider {
public:
    virtual ~Provider() = default;
    virtual const std::string& name() const = 0;
    virtual const std::string& kind() const = 0;
    virtual Capabilities capabilities() const = 0;
    // The hosts it has now. Inventory kinds answer from the inventory; API kinds ask the
    // API and throw Error when it fails.
    virtual std::vector<HostSpec> hosts() = 0;

    // API kinds (Capabilities say which of these work; the others throw Error naming the
    // kind). Each call waits until the provider reports the operation done, and throws
    // Error with the provider's own status when it fails or never finishes.
    virtual std::vector<Order> orders() const { return {}; }  // the host specs to order
    virtual std::vector<Server> servers();
    // "€4.35/month" for an order when the API publishes a price, else "".
    virtual std::string monthly_price(const Order& order);
    virtual Provisioned create(const Order& order, const Install& install);
    virtual Provisioned reinstall(const Server& server, const Install& install);
    virtual Rescue rescue(const Server& server, const std::string& authorized_key);
    virtual void power(const Server& server, PowerAction action);

protected:
    [[noreturn]] void unsupported(const std::string& what) const;
};

// A provider kind: the offline validator of its inventory block and the factory of providers.
class Kind {
public:
    virtual ~Kind() = default;
    virtual std::string name() const = 0;
    // The most a provider of this kind can do.
    virtual Capabilities capabilities() const = 0;
    // Checks `block` (providers/<name>: a map, its `kind` already read) without any network:
    // every unknown or malformed key is reported through `check` with file:line:column and
    // `path`, and validation goes on. Returns what it could read.
    virtual Block validate(const Value& block, const std::string& path, schema::Checker& check) const = 0;
    virtual std::unique_ptr<Provider> open(Config config) const = 0;
};

// The kind registered under `name`, or nullptr.
const Kind* find_kind(const std::string& name);
// The kind registered under `name`; Error(unknown_kind(name)) when there is none.
const Kind& kind(const std::string& name);
// The registered kinds' names, sorted.
std::vector<std::string> kind_names();
// `unknown provider kind "statik"; did you mean "static"? (known kinds: local, static)`
std::string unknown_kind(const std::string& name);

// Adds a kind beside the built-in ones for as long as the object lives (tests, plug-ins).
// Error when the name is already taken. Not thread-safe: register before any loading starts.
class Registration {
public:
    explicit Registration(std::unique_ptr<Kind> kind);
    ~Registration();
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

private:
    std::string name_;
};

}  // namespace decamp::provider
