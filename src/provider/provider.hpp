// Providers: where hosts come from. A kind (static, local; later lab, hetzner-cloud,
// hetzner-robot, ovh) checks its own block of the inventory offline and, at run time, opens
// a Provider that lists its hosts and says what it can do. Kinds are looked up by name in a
// registry, as ccache keys its remote storages by scheme: the inventory loader knows no kind.
//
// Adding a kind: one file under provider/ with a Kind subclass, and one row in the built-in
// table of registry.cpp. Tests (and anything else) may add a kind at run time with
// Registration.
#pragma once

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
};

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
