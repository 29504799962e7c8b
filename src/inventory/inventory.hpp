// The validated inventory: providers and their hosts, roles → playbooks, data sets, health
// checks, DNS, vars and secret references. Loading reports every problem at once with
// file:line:column (ConfigError); a loaded Inventory is consistent.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "transport/host_trust.hpp"
#include "util/error.hpp"
#include "util/value.hpp"

namespace decamp::provider {
class Provider;
}

namespace decamp::inventory {

struct Host {
    std::string name;
    std::string provider;
    std::string address;   // IP, host name, or "local"
    int port = 22;
    std::string user;      // resolved: host → ssh.user
    std::vector<std::string> roles;
    Value vars = Value::map();
    Mark mark;
    // A server a provider made (decamp's state knows its id): the keys the trust store holds
    // for it. Unset: known_hosts applies (hosts/trust.hpp, attach_trust).
    std::optional<transport::HostTrust> trust;

    bool is_local() const { return address == "local"; }
    bool has_role(const std::string& r) const;
};

struct Provider {
    std::string name;
    std::string kind;      // a registered provider::Kind (static, local, …; see provider/)
    Value settings = Value::map();  // the kind's own keys as its validator read them (api token, …)
    std::vector<std::string> hosts; // names, in file order
    Mark mark;
};

struct SshSettings {
    std::string user = "root";
    std::string key;          // absolute path, "" = agent only
    std::string known_hosts;  // absolute path
    int port = 22;
    int connect_timeout = 10;
    int command_timeout = 0;  // seconds, 0 = none
    int keepalive = 15;
    bool strict_host_keys = true;
    std::string jump;         // host name of a bastion in this inventory, or "" 
};

struct Role {
    std::string name;
    std::vector<std::filesystem::path> playbooks;  // absolute
    Mark mark;
};

// One `data:` entry. Its kind (a data/ mover) checked its own keys at load and named it.
struct DataSet {
    std::string kind;  // a data kind (inventory::data_kind_schemas)
    std::string role;
    std::string name;               // what the kind calls the set: a database, a path
    Value settings = Value::map();  // the entry as written (kind-specific keys; secret references as secrets)
    std::filesystem::path base_dir;  // the inventory's directory, for ${file:…} references
    Mark mark;
};

struct HealthCheck {
    std::string role;
    std::string url;       // template, e.g. http://{{ host.address }}/healthz
    int expect = 200;
    std::string host_header;
    int timeout = 10;
    Mark mark;
};

struct DnsRecord {
    std::string name;      // fqdn with trailing dot
    std::string role;
    std::string type = "A";
    int ttl = 300;
};

struct DnsConfig {
    std::string kind;  // dns::backend_kinds()
    std::string api;   // powerdns; API kinds: another base URL than the documented one (tests, proxies)
    Value api_key;     // powerdns: api_key; cloudflare …: api_token (a secret reference)
    std::string api_key_path = "dns/api_key";  // where api_key was written
    // powerdns: host:port of the authoritative server, for verification;
    // rfc2136: the primary that takes UPDATEs (and is asked for the zone's NS)
    std::string server;
    std::string zone;
    std::string tsig_name;  // rfc2136
    std::string tsig_algorithm = "hmac-sha256";
    Value tsig_secret;                     // rfc2136: secret reference (base64 key)
    std::vector<std::string> nameservers;  // where to verify; empty: the zone's NS
    std::vector<DnsRecord> records;
    Mark mark;
};

// The application whose writes a cutover freezes: its services on hosts of `role`.
// The proxy in front of the app on each host of the app's role (`app: front:`), through
// which a cutover holds requests during the write freeze and bridges the source's clients to
// the target. Only HAProxy for now; README "Zero-error cutover" says what its configuration
// must contain.
struct FrontConfig {
    std::string kind = "haproxy";
    std::string backend;                          // the backend that serves the site
    std::string server = "app";                   // its server that is the local app
    std::string bridge_server = "decamp-bridge";  // its server decamp points at the target
    int bridge_port = 8443;                       // where a target takes bridged requests
    std::string socket = "/run/haproxy/admin.sock";
    std::string state_file = "/var/lib/haproxy/server-state";
    std::string peers_file = "/etc/haproxy/decamp-bridge-peers.lst";
    int margin_s = 60;  // added to the time resolvers may keep old answers
    Mark mark;
};

struct AppConfig {
    std::string role;
    std::vector<std::string> services;
    std::optional<FrontConfig> front;
    Mark mark;
};

// Where backups live (`backup:`): an SSH host off the production provider, reached from the
// orchestrator only (production hosts hold no keys for it). The repository is encrypted
// with the password held by the inventory secret `secret`.
struct BackupKeep {
    int last = 0;     // the newest N backups
    int daily = 0;    // the newest backup of each of the last N days that have one
    int weekly = 0;   // … ISO weeks
    int monthly = 0;  // … months
    bool empty() const { return !last && !daily && !weekly && !monthly; }
};

struct BackupConfig {
    std::string host;      // an inventory host name, or "" when address is given
    std::string address;   // a host outside the inventory (a storage box)
    int port = 0;          // 0 = the host's / ssh.port
    std::string user;      // "" = the host's / ssh.user
    std::string path;      // repository directory on the backup host (absolute)
    std::string secret;    // name of the entry under secrets: with the repository password
    BackupKeep keep;
    Mark mark;
};

// Recovery objectives (`objectives:`) a drill is measured against; 0 = not set.
struct Objectives {
    int64_t rto_s = 0;
    int64_t rpo_s = 0;
    Mark mark;
};

// "90s", "30m", "2h", "1d", "1h30m" or a plain number of seconds; nullopt when malformed.
std::optional<int64_t> parse_duration(const std::string& text);

struct Inventory {
    std::filesystem::path file;      // as given
    std::filesystem::path base_dir;  // relative paths resolve against this
    std::string project;
    SshSettings ssh;
    std::vector<Provider> providers;
    std::vector<Host> hosts;         // every host of every provider
    std::string active;
    std::vector<Role> roles;
    std::vector<DataSet> data;
    std::vector<HealthCheck> health;
    std::optional<DnsConfig> dns;
    std::optional<AppConfig> app;
    std::optional<BackupConfig> backup;
    std::optional<Objectives> objectives;
    Value vars = Value::map();
    // group_vars/ and host_vars/ beside the inventory file: name → its variables.
    Value group_vars = Value::map();
    Value host_vars = Value::map();
    Value secrets = Value::map();    // name → Value::secret(reference)

    const Host* find_host(const std::string& name) const;
    const Provider* find_provider(const std::string& name) const;
    const Role* find_role(const std::string& name) const;
    std::vector<const Host*> provider_hosts(const std::string& provider) const;
    // The hosts of `provider` with `role`, in inventory order.
    std::vector<const Host*> hosts_of(const std::string& provider, const std::string& role) const;
};

// The run-time provider for the inventory's provider `name`, opened by its kind with its
// settings and hosts. Error when there is no such provider.
std::unique_ptr<provider::Provider> open_provider(const Inventory& inv, const std::string& name);

// Loads and validates. Throws ConfigError carrying every diagnostic found.
Inventory load(const std::filesystem::path& file);

// Parses an already read text (used by tests and the fuzz corpus).
Inventory load_text(const std::string& text, const std::filesystem::path& file);

// A host pattern that names nothing, or a --limit/PATTERN that selects no host: a usage
// error (exit 2), never a run that quietly does nothing.
struct PatternError : Fatal {
    explicit PatternError(const std::string& message) : Fatal(kExitUsage, message) {}
};

// Host selection for --limit and plays' hosts:. A pattern is a comma list of terms:
// `all`, a host name, a role, a provider, a glob over host names (web*, old-*),
// `!term` to exclude, `&term` to intersect. Throws PatternError when a term matches nothing.
// May return no host (a play's `hosts: db` among web hosts).
std::vector<const Host*> select(const Inventory& inv, const std::string& pattern,
                                const std::vector<const Host*>& within);

// select() for what the user typed (--limit, `run PATTERN`, `facts PATTERN`): also a
// PatternError when the result is empty; `scope` names `within` in the message
// ("provider new").
std::vector<const Host*> select_some(const Inventory& inv, const std::string& pattern,
                                     const std::vector<const Host*>& within,
                                     const std::string& scope);

bool glob_match(const std::string& pattern, const std::string& text);

}  // namespace decamp::inventory
