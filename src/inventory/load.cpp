// Inventory loading and validation. Every check records a diagnostic and goes on, so one run
// reports all the problems of a file.
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "inventory/data_kind.hpp"
#include "inventory/front.hpp"
#include "inventory/inventory.hpp"
#include "inventory/load_dns.hpp"
#include "inventory/secrets.hpp"
#include "provider/provider.hpp"
#include "util/names.hpp"
#include "util/schema.hpp"
#include "util/secret.hpp"
#include "util/vars_dir.hpp"
#include "util/yaml.hpp"

namespace decamp::inventory {

namespace {

using schema::Checker;

const std::vector<std::string> kTopKeys = {"project", "ssh",    "providers", "active", "roles",
                                           "data",    "health", "dns",       "vars",   "secrets",
                                           "backup",  "objectives", "app"};
const std::vector<std::string> kSshKeys = {"user",    "key",     "known_hosts", "port",
                                           "connect_timeout", "command_timeout", "keepalive",
                                           "strict_host_keys", "jump"};

std::filesystem::path resolve_path(const std::filesystem::path& base, const std::string& p) {
    if (!p.empty() && p[0] == '~') {
        const char* home = getenv("HOME");
        return std::filesystem::path(std::string(home ? home : "") + p.substr(1)).lexically_normal();
    }
    std::filesystem::path path(p);
    if (path.is_relative()) path = base / path;
    return path.lexically_normal();
}

class Loader {
public:
    Loader(Inventory& inv, std::vector<Diagnostic>& diags) : inv_(inv), diags_(diags), c_(diags) {}

    void load(const Value& root) {
        if (root.is_null() && diags_.empty()) {
            c_.error(Mark{inv_.file.string(), 1, 1}, "", "the inventory is empty; expected a map with providers, roles, …");
            return;
        }
        if (!c_.map(root, "", kTopKeys)) return;
        if (auto p = c_.shaped(root, "project", "", names::check_name, true)) inv_.project = *p;
        if (const Value* ssh = root.get("ssh")) load_ssh(*ssh);
        if (const Value* roles = root.get("roles"))
            load_roles(*roles);
        else
            c_.error(root, "roles", "required key is missing; expected a map of role name to {playbooks: [...]}");
        if (const Value* providers = root.get("providers"))
            load_providers(*providers);
        else
            c_.error(root, "providers", "required key is missing; expected a map of provider name to {kind, hosts}");
        load_active(root);
        if (const Value* data = root.get("data")) load_data(*data);
        if (const Value* health = root.get("health")) load_health(*health);
        if (const Value* dns = root.get("dns")) load_dns(*dns);
        if (const Value* app = root.get("app")) load_app(*app);
        if (const Value* b = root.get("backup")) load_backup(*b);
        if (const Value* o = root.get("objectives")) load_objectives(*o);
        if (const Value* vars = root.get("vars")) {
            if (vars->is_map())
                inv_.vars = *vars;
            else if (!vars->is_null())
                c_.error(*vars, "vars", "expected a map of variable name to value");
        }
        if (const Value* secrets = root.get("secrets")) load_secrets(*secrets);
        check_cross_references();
    }

private:
    void load_ssh(const Value& ssh) {
        if (!c_.map(ssh, "ssh", kSshKeys)) return;
        auto& s = inv_.ssh;
        if (auto v = c_.shaped(ssh, "user", "ssh", names::check_user)) s.user = *v;
        if (auto v = c_.str(ssh, "key", "ssh")) s.key = resolve_path(inv_.base_dir, *v).string();
        if (auto v = c_.str(ssh, "known_hosts", "ssh"))
            s.known_hosts = resolve_path(inv_.base_dir, *v).string();
        if (auto v = c_.integer(ssh, "port", "ssh", false, 1, 65535)) s.port = int(*v);
        if (auto v = c_.integer(ssh, "connect_timeout", "ssh", false, 1, 3600)) s.connect_timeout = int(*v);
        if (auto v = c_.integer(ssh, "command_timeout", "ssh", false, 0, 86400)) s.command_timeout = int(*v);
        if (auto v = c_.integer(ssh, "keepalive", "ssh", false, 0, 3600)) s.keepalive = int(*v);
        if (auto v = c_.boolean(ssh, "strict_host_keys", "ssh")) s.strict_host_keys = *v;
        if (auto v = c_.str(ssh, "jump", "ssh")) {
            s.jump = *v;
            jump_mark_ = ssh.get("jump")->mark();
        }
    }

    void load_roles(const Value& roles) {
        if (!roles.is_map()) {
            c_.error(roles, "roles", std::string("expected a map of role name to {playbooks: [...]}, found ") +
                                         schema::kind_name(roles.kind()));
            return;
        }
        for (const auto& [name, def] : roles.entries()) {
            std::string path = "roles/" + name;
            Role role{name, {}, roles.key_mark(name)};
            if (auto why = names::check_name(name); !why.empty()) c_.error(roles.key_mark(name), path, "role " + why);
            if (c_.map(def, path, {"playbooks"})) {
                auto books = c_.str_list(def, "playbooks", path, false);
                if (!books || books->empty()) {
                    c_.error(def.get("playbooks") ? *def.get("playbooks") : def, path + "/playbooks",
                             "role \"" + name + "\" has no playbooks; expected a list of playbook files");
                } else {
                    const Value& list = *def.get("playbooks");
                    for (size_t i = 0; i < books->size(); ++i) {
                        auto p = resolve_path(inv_.base_dir, (*books)[i]);
                        const Value& item = list.is_list() ? list.items()[i] : list;
                        if (!std::filesystem::is_regular_file(p))
                            c_.error(item, path + "/playbooks/" + std::to_string(i),
                                     "playbook file " + (*books)[i] + " does not exist (looked for " + p.string() + ")");
                        role.playbooks.push_back(p);
                    }
                }
            }
            inv_.roles.push_back(std::move(role));
        }
    }

    // The loader knows no provider kind: the kind's own validator checks the block and
    // declares the hosts; here they join the inventory (ssh defaults, names and addresses
    // unique across providers, roles checked later).
    void load_providers(const Value& providers) {
        if (!providers.is_map() || providers.entries().empty()) {
            c_.error(providers, "providers", "expected a map of provider name to {kind, hosts}, with at least one provider");
            return;
        }
        for (const auto& [name, def] : providers.entries()) {
            std::string path = "providers/" + name;
            Provider p{name, "", Value::map(), {}, providers.key_mark(name)};
            if (auto why = names::check_name(name); !why.empty()) c_.error(p.mark, path, "provider " + why);
            if (!def.is_map()) {
                c_.error(def, path, std::string("expected a map with kind and hosts, found ") + schema::kind_name(def.kind()));
                continue;
            }
            if (auto kind = c_.str(def, "kind", path, true)) {
                p.kind = *kind;
                if (const provider::Kind* k = provider::find_kind(*kind)) {
                    provider::Block block = k->validate(def, path, c_);
                    p.settings = std::move(block.settings);
                    for (auto& spec : block.hosts) {
                        std::string hpath = path + "/hosts/" + spec.name;
                        add_host(p, std::move(spec), hpath);
                    }
                } else {
                    c_.error(*def.get("kind"), path + "/kind", provider::unknown_kind(*kind));
                }
            }
            inv_.providers.push_back(std::move(p));
        }
    }

    void add_host(Provider& p, provider::HostSpec spec, const std::string& hpath) {
        if (auto why = names::check_name(spec.name); !why.empty()) c_.error(spec.mark, hpath, "host " + why);
        if (auto it = host_seen_.find(spec.name); it != host_seen_.end()) {
            c_.error(spec.mark, hpath, "duplicate host name \"" + spec.name + "\" (already defined at " + it->second +
                                           "); host names must be unique across providers");
            return;
        }
        host_seen_[spec.name] = spec.mark.str();
        Host h;
        h.name = spec.name;
        h.provider = p.name;
        h.address = spec.address;
        h.port = spec.port.value_or(inv_.ssh.port);
        h.user = spec.user.value_or(inv_.ssh.user);
        h.roles = std::move(spec.roles);
        h.vars = std::move(spec.vars);
        h.mark = spec.mark;
        if (!h.address.empty() && !h.is_local()) {
            std::string key = h.address + ":" + std::to_string(h.port);
            if (auto it = address_seen_.find(key); it != address_seen_.end())
                c_.error(spec.address_mark, hpath + "/address", "address " + key + " is already used by host " + it->second);
            else
                address_seen_[key] = h.name;
        }
        role_refs_.push_back({h.name, spec.roles_mark, hpath + "/roles", h.roles});
        p.hosts.push_back(h.name);
        inv_.hosts.push_back(std::move(h));
    }

    void load_active(const Value& root) {
        const Value* active = root.get("active");
        if (!active) {
            if (inv_.providers.size() == 1) inv_.active = inv_.providers[0].name;
            else if (!inv_.providers.empty())
                c_.error(root, "active", "required key is missing when there are several providers; expected the name of the provider the stack runs on");
            return;
        }
        auto a = c_.str(root, "active", "");
        if (!a) return;
        inv_.active = *a;
        if (!inv_.providers.empty() && !inv_.find_provider(*a)) {
            std::vector<std::string> names;
            for (const auto& p : inv_.providers) names.push_back(p.name);
            std::string msg = "provider \"" + *a + "\" is not defined under providers";
            std::string hint = schema::did_you_mean(*a, names);
            msg += hint.empty() ? "; expected one of: " + join(names) : "; did you mean \"" + hint + "\"?";
            c_.error(*active, "active", msg);
        }
    }

    // The loader knows no data kind: each kind's schema (data/registry.cpp) checks its keys.
    void load_data(const Value& data) {
        const auto& kinds = data_kind_schemas();
        std::vector<std::string> names;
        names.reserve(kinds.size());
        for (const auto& k : kinds) names.push_back(k.kind);
        if (!data.is_list()) {
            c_.error(data, "data",
                     "expected a list of data sets ({kind, role, …}; kinds: " + join(names) + ")");
            return;
        }
        size_t i = 0;
        for (const auto& d : data.items()) {
            std::string path = "data/" + std::to_string(i++);
            DataSet ds;
            ds.mark = d.mark();
            const DataKindSchema* schema = nullptr;
            if (d.is_map()) {
                if (auto k = c_.str(d, "kind", path, true)) {
                    ds.kind = *k;
                    for (const auto& s : kinds)
                        if (s.kind == *k) schema = &s;
                    if (!schema) {
                        std::string hint = schema::did_you_mean(*k, names);
                        c_.error(*d.get("kind"), path + "/kind",
                                 "unknown data kind \"" + *k + "\"" +
                                     (hint.empty() ? "; expected one of: " + join(names)
                                                   : "; did you mean \"" + hint + "\"?"));
                    }
                }
            }
            if (!d.is_map()) {
                c_.error(d, path,
                         std::string("expected a map {kind, role, …}, found ") + schema::kind_name(d.kind()));
                continue;
            }
            // Other keys are checked only against a known kind (an unknown one is reported).
            if (schema) {
                std::vector<std::string> allowed{"kind", "role"};
                allowed.insert(allowed.end(), schema->keys.begin(), schema->keys.end());
                c_.map(d, path, allowed);
            }
            if (auto r = c_.str(d, "role", path, true)) {
                ds.role = *r;
                role_refs_.push_back({"", d.get("role")->mark(), path + "/role", {*r}});
            }
            if (schema) ds.name = schema->validate(d, path, c_);
            ds.settings = d;
            // A kind's secret (a password) reaches its mover, and the masker, as a secret.
            for (const auto& [k, v] : d.entries())
                if (v.is_string() && is_secret_reference(v.as_string()))
                    ds.settings.set(k, Value::secret(v.as_string()).at(v.mark()));
            ds.base_dir = inv_.base_dir;
            inv_.data.push_back(std::move(ds));
        }
    }

    void load_health(const Value& health) {
        if (!health.is_list()) {
            c_.error(health, "health", "expected a list of checks ({role, url, expect})");
            return;
        }
        size_t i = 0;
        for (const auto& h : health.items()) {
            std::string path = "health/" + std::to_string(i++);
            if (!c_.map(h, path, {"role", "url", "expect", "host_header", "timeout"})) continue;
            HealthCheck hc;
            hc.mark = h.mark();
            if (auto r = c_.str(h, "role", path, true)) {
                hc.role = *r;
                role_refs_.push_back({"", h.get("role")->mark(), path + "/role", {*r}});
            }
            if (auto u = c_.shaped(h, "url", path, names::check_http_url, true)) hc.url = *u;
            if (auto e = c_.integer(h, "expect", path, false, 100, 599)) hc.expect = int(*e);
            if (auto hh = c_.shaped(h, "host_header", path, names::check_host_port)) hc.host_header = *hh;
            if (auto t = c_.integer(h, "timeout", path, false, 1, 3600)) hc.timeout = int(*t);
            inv_.health.push_back(std::move(hc));
        }
    }

    void load_dns(const Value& dns) {
        DnsConfig d;
        std::vector<DnsRoleRef> roles;
        if (!load_dns_block(c_, dns, d, roles)) return;
        for (auto& r : roles) role_refs_.push_back({"", r.mark, r.path, {r.role}});
        inv_.dns = std::move(d);
    }

    void load_app(const Value& app) {
        if (!c_.map(app, "app", {"role", "services", "front"})) return;
        AppConfig a;
        a.mark = app.mark();
        if (auto r = c_.str(app, "role", "app", true)) {
            a.role = *r;
            role_refs_.push_back({"", app.get("role")->mark(), "app/role", {*r}});
        }
        if (auto s = c_.shaped_list(app, "services", "app", names::check_unit, true)) {
            a.services = *s;
            if (app.get("services")->is_list() && app.get("services")->items().empty())
                c_.error(*app.get("services"), "app/services", "expected at least one systemd service name");
        }
        if (const Value* f = app.get("front")) a.front = load_front(*f, c_);
        inv_.app = std::move(a);
    }

    void load_backup(const Value& b) {
        if (!c_.map(b, "backup", {"host", "address", "port", "user", "path", "secret", "keep"})) return;
        BackupConfig cfg;
        cfg.mark = b.mark();
        if (auto h = c_.str(b, "host", "backup")) cfg.host = *h;
        if (auto a = c_.str(b, "address", "backup")) {
            cfg.address = *a;
            if (!names::check_address(*a).empty())
                c_.error(*b.get("address"), "backup/address", "\"" + *a + "\" is not an IP address or host name");
        }
        if (bool(b.get("host")) == bool(b.get("address")))
            c_.error(b, "backup", "expected exactly one of host (a host of this inventory) or address (any SSH host)");
        if (auto p = c_.integer(b, "port", "backup", false, 1, 65535)) cfg.port = int(*p);
        if (auto u = c_.shaped(b, "user", "backup", names::check_user)) cfg.user = *u;
        if (auto p = c_.shaped(b, "path", "backup", names::check_abs_path, true)) cfg.path = *p;
        if (auto s = c_.str(b, "secret", "backup", true)) {
            cfg.secret = *s;
            backup_secret_mark_ = b.get("secret")->mark();
        }
        if (const Value* keep = b.get("keep")) {
            if (c_.map(*keep, "backup/keep", {"last", "daily", "weekly", "monthly"})) {
                if (auto v = c_.integer(*keep, "last", "backup/keep", false, 0, 100000)) cfg.keep.last = int(*v);
                if (auto v = c_.integer(*keep, "daily", "backup/keep", false, 0, 100000)) cfg.keep.daily = int(*v);
                if (auto v = c_.integer(*keep, "weekly", "backup/keep", false, 0, 100000)) cfg.keep.weekly = int(*v);
                if (auto v = c_.integer(*keep, "monthly", "backup/keep", false, 0, 100000)) cfg.keep.monthly = int(*v);
            }
        }
        if (b.get("host")) backup_host_mark_ = b.get("host")->mark();
        inv_.backup = std::move(cfg);
    }

    void load_objectives(const Value& o) {
        if (!c_.map(o, "objectives", {"rto", "rpo"})) return;
        Objectives obj;
        obj.mark = o.mark();
        for (const char* key : {"rto", "rpo"}) {
            const Value* v = o.get(key);
            if (!v) continue;
            std::optional<int64_t> secs;
            if (v->kind() == Value::Kind::Int || v->is_string()) secs = parse_duration(v->to_text());
            if (!secs || *secs <= 0) {
                c_.error(*v, std::string("objectives/") + key,
                         "expected a positive duration such as 90s, 30m, 2h, 1d or 1h30m");
                continue;
            }
            (std::string(key) == "rto" ? obj.rto_s : obj.rpo_s) = *secs;
        }
        inv_.objectives = obj;
    }

    void load_secrets(const Value& secrets) {
        if (!secrets.is_map()) {
            if (!secrets.is_null()) c_.error(secrets, "secrets", "expected a map of name to ${env:NAME} or ${file:path}");
            return;
        }
        for (const auto& [name, ref] : secrets.entries()) {
            if (ref.is_string() && is_secret_reference(ref.as_string())) {
                inv_.secrets.set(name, Value::secret(ref.as_string()).at(ref.mark()));
            } else {
                // Never echo the value: it may be a real secret pasted inline by mistake.
                c_.error(ref, "secrets/" + name,
                         "expected a reference such as ${env:NAME} or ${file:path}; secret values are never written inline");
            }
        }
    }

    void check_cross_references() {
        std::vector<std::string> role_names;
        for (const auto& r : inv_.roles) role_names.push_back(r.name);
        for (const auto& ref : role_refs_) {
            for (const auto& r : ref.roles) {
                if (inv_.find_role(r)) continue;
                std::string msg = "role \"" + r + "\" is not defined under roles";
                std::string hint = schema::did_you_mean(r, role_names);
                if (!hint.empty()) msg += "; did you mean \"" + hint + "\"?";
                else if (!role_names.empty()) msg += "; expected one of: " + join(role_names);
                c_.error(ref.mark, ref.path, msg);
            }
        }
        if (inv_.backup) {
            const auto& b = *inv_.backup;
            if (!b.host.empty()) {
                const Host* h = inv_.find_host(b.host);
                if (!h)
                    c_.error(backup_host_mark_, "backup/host", "host \"" + b.host + "\" is not a host of this inventory");
                else if (h->provider == inv_.active)
                    c_.error(backup_host_mark_, "backup/host",
                             "host \"" + b.host + "\" belongs to provider " + h->provider +
                                 ", where the stack runs; backups must live off that provider (use a host of another provider, or address:)");
            }
            if (!b.secret.empty() && !inv_.secrets.get(b.secret))
                c_.error(backup_secret_mark_, "backup/secret",
                         "\"" + b.secret + "\" is not defined under secrets; expected the name of the secret holding the repository password");
        }
        if (!inv_.ssh.jump.empty() && !inv_.find_host(inv_.ssh.jump))
            c_.error(jump_mark_, "ssh/jump", "jump host \"" + inv_.ssh.jump + "\" is not a host of this inventory");
    }

    static std::string join(const std::vector<std::string>& v) {
        std::string out;
        for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
        return out;
    }

    struct RoleRef {
        std::string host;
        Mark mark;
        std::string path;
        std::vector<std::string> roles;
    };

    Inventory& inv_;
    std::vector<Diagnostic>& diags_;
    Checker c_;
    std::vector<RoleRef> role_refs_;
    std::map<std::string, std::string> host_seen_;     // host name → where first defined
    std::map<std::string, std::string> address_seen_;  // address:port → host name
    Mark jump_mark_;
    Mark backup_host_mark_;
    Mark backup_secret_mark_;
};

}  // namespace

std::optional<int64_t> parse_duration(const std::string& text) {
    if (text.empty()) return std::nullopt;
    if (text.find_first_not_of("0123456789") == std::string::npos) {
        if (text.size() > 12) return std::nullopt;
        return std::stoll(text);
    }
    int64_t total = 0;
    size_t i = 0;
    std::string seen;
    while (i < text.size()) {
        size_t j = i;
        while (j < text.size() && isdigit(static_cast<unsigned char>(text[j]))) ++j;
        if (j == i || j - i > 9 || j == text.size()) return std::nullopt;
        int64_t n = std::stoll(text.substr(i, j - i));
        char unit = text[j];
        int64_t mult = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : unit == 'w' ? 604800 : 0;
        if (!mult || seen.find(unit) != std::string::npos) return std::nullopt;
        seen += unit;
        total += n * mult;
        i = j + 1;
    }
    return total;
}

bool Host::has_role(const std::string& r) const {
    return std::find(roles.begin(), roles.end(), r) != roles.end();
}

const Host* Inventory::find_host(const std::string& name) const {
    for (const auto& h : hosts)
        if (h.name == name) return &h;
    return nullptr;
}
const Provider* Inventory::find_provider(const std::string& name) const {
    for (const auto& p : providers)
        if (p.name == name) return &p;
    return nullptr;
}
const Role* Inventory::find_role(const std::string& name) const {
    for (const auto& r : roles)
        if (r.name == name) return &r;
    return nullptr;
}
std::vector<const Host*> Inventory::provider_hosts(const std::string& provider) const {
    std::vector<const Host*> out;
    for (const auto& h : hosts)
        if (h.provider == provider) out.push_back(&h);
    return out;
}

Inventory load_text(const std::string& text, const std::filesystem::path& file) {
    Inventory inv;
    inv.file = file;
    inv.base_dir = std::filesystem::absolute(file).parent_path();
    std::vector<Diagnostic> diags;
    Value root = yaml::parse(text, file.string(), diags);
    if (diags.empty() || !root.is_null()) {
        Loader loader(inv, diags);
        loader.load(root);
        inv.group_vars = vars_dir::read_all(inv.base_dir / "group_vars", diags);
        inv.host_vars = vars_dir::read_all(inv.base_dir / "host_vars", diags);
    }
    if (!diags.empty()) {
        std::stable_sort(diags.begin(), diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
            return std::tie(a.mark.line, a.mark.column) < std::tie(b.mark.line, b.mark.column);
        });
        throw ConfigError(std::move(diags));
    }
    return inv;
}

Inventory load(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw ConfigError(Diagnostic{Mark{file.string(), 0, 0}, "", "cannot read inventory file"});
    std::stringstream ss;
    ss << in.rdbuf();
    Inventory inv = load_text(ss.str(), file);
    remember_secrets(inv);  // masked before any output (inventory/secrets.hpp)
    return inv;
}

}  // namespace decamp::inventory
