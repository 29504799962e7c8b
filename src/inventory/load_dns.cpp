#include "inventory/load_dns.hpp"

#include <algorithm>

#include "dns/dns.hpp"
#include "util/names.hpp"
#include "util/secret.hpp"

namespace decamp::inventory {

namespace {

// The keys that belong to one kind, and which of them it needs.
struct KindKeys {
    std::string kind;
    std::vector<std::string> keys, required;
};

const std::vector<KindKeys>& kind_keys() {
    static const std::vector<KindKeys> t = {
        {"powerdns", {"api", "api_key", "server"}, {"api"}},
        {"rfc2136", {"server", "tsig"}, {"server", "tsig"}},
        {"cloudflare", {"api", "api_token"}, {"api_token"}},
        {"hetzner", {"api", "api_token"}, {"api_token"}},
    };
    return t;
}

const std::vector<std::string> kShared = {"kind", "zone", "records", "nameservers"};

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

bool inside(const std::string& name, const std::string& zone) {
    if (zone.empty() || zone == "." || name == zone) return true;
    return name.size() > zone.size() && name.compare(name.size() - zone.size(), zone.size(), zone) == 0 &&
           name[name.size() - zone.size() - 1] == '.';
}

// tsig: { name: decamp-key., algorithm: hmac-sha256, secret: "${file:tsig.secret}" }
void load_tsig(schema::Checker& c, const Value& t, DnsConfig& d) {
    if (!c.map(t, "dns/tsig", {"name", "algorithm", "secret"})) return;
    if (auto n = c.shaped(t, "name", "dns/tsig", names::check_fqdn, true)) d.tsig_name = *n;
    if (auto a = c.str(t, "algorithm", "dns/tsig")) {
        if (std::string why = dns::check_tsig_algorithm(*a); !why.empty())
            c.error(*t.get("algorithm"), "dns/tsig/algorithm", why);
        else
            d.tsig_algorithm = *a;
    }
    if (const Value* sec = t.get("secret"))
        d.tsig_secret = secret_reference(c, *sec, "dns/tsig/secret", "TSIG_SECRET");
    else
        c.error(t, "dns/tsig/secret",
                "required key is missing; expected a secret reference such as ${file:tsig.secret}");
}

void load_records(schema::Checker& c, const Value& recs, DnsConfig& d, std::vector<DnsRoleRef>& roles) {
    if (!recs.is_list()) {
        c.error(recs, "dns/records", "expected a list of {name, role, ttl}");
        return;
    }
    // A TTL the back-end cannot take would only fail in the middle of a cutover.
    const int floor = d.kind.empty() ? 1 : dns::min_ttl(d.kind);
    size_t i = 0;
    for (const auto& r : recs.items()) {
        std::string path = "dns/records/" + std::to_string(i++);
        if (!c.map(r, path, {"name", "role", "ttl", "type"})) continue;
        DnsRecord rec;
        if (auto n = c.shaped(r, "name", path, names::check_fqdn, true)) {
            rec.name = *n;
            if (!inside(*n, d.zone))
                c.error(*r.get("name"), path + "/name", "\"" + *n + "\" is not inside zone " + d.zone);
        }
        if (auto ro = c.str(r, "role", path, true)) {
            rec.role = *ro;
            roles.push_back({r.get("role")->mark(), path + "/role", *ro});
        }
        if (auto t = c.integer(r, "ttl", path, false, 1, 604800)) {
            rec.ttl = int(*t);
            if (rec.ttl < floor)
                c.error(*r.get("ttl"), path + "/ttl",
                        "kind " + d.kind + " accepts no TTL below " + std::to_string(floor) + " s");
        }
        if (auto ty = c.str(r, "type", path)) {
            rec.type = *ty;
            if (*ty != "A" && *ty != "AAAA") c.error(*r.get("type"), path + "/type", "expected A or AAAA");
        }
        d.records.push_back(std::move(rec));
    }
}

}  // namespace

Value secret_reference(schema::Checker& c, const Value& v, const std::string& path,
                       const std::string& env_example) {
    if (v.is_string() && is_secret_reference(v.as_string())) return Value::secret(v.as_string()).at(v.mark());
    c.error(v, path,
            "expected a secret reference such as ${env:" + env_example +
                "} or ${file:path}; keys are never written inline");
    return Value();
}

bool load_dns_block(schema::Checker& c, const Value& dns, DnsConfig& d, std::vector<DnsRoleRef>& roles) {
    std::vector<std::string> allowed = kShared;
    for (const auto& k : kind_keys())
        for (const auto& key : k.keys)
            if (!has(allowed, key)) allowed.push_back(key);
    if (!c.map(dns, "dns", allowed)) return false;
    d.mark = dns.mark();
    const KindKeys* mine = nullptr;
    if (auto k = c.str(dns, "kind", "dns", true)) {
        for (const auto& row : kind_keys())
            if (row.kind == *k) mine = &row;
        if (mine) {
            d.kind = *k;
        } else {
            std::string known;
            for (const auto& row : kind_keys()) known += (known.empty() ? "" : ", ") + row.kind;
            std::string near = schema::did_you_mean(*k, dns::backend_kinds());
            c.error(*dns.get("kind"), "dns/kind",
                    "unknown DNS kind \"" + *k + "\"; expected one of " + known +
                        (near.empty() ? "" : " (did you mean " + near + "?)"));
        }
    }
    if (mine) {
        // Keys of another kind are mistakes, not silently ignored settings.
        for (const auto& [key, v] : dns.entries())
            if (!has(kShared, key) && !has(mine->keys, key))
                c.error(dns.key_mark(key), "dns/" + key, key + " is not used by kind " + d.kind);
        for (const auto& key : mine->required)
            if (!dns.get(key)) c.error(dns, "dns/" + key, "required key is missing for kind " + d.kind);
    }
    const auto mine_has = [&](const char* key) { return mine && has(mine->keys, key) && dns.get(key); };
    if (mine_has("api"))
        if (auto a = c.shaped(dns, "api", "dns", names::check_http_url)) d.api = *a;
    if (mine_has("api_key"))
        d.api_key = secret_reference(c, *dns.get("api_key"), "dns/api_key", "PDNS_API_KEY");
    if (mine_has("api_token")) {
        d.api_key = secret_reference(c, *dns.get("api_token"), "dns/api_token", "DNS_API_TOKEN");
        d.api_key_path = "dns/api_token";
    }
    if (mine_has("server"))
        if (auto s = c.shaped(dns, "server", "dns", names::check_host_port)) d.server = *s;
    if (mine_has("tsig")) load_tsig(c, *dns.get("tsig"), d);
    if (auto z = c.shaped(dns, "zone", "dns", names::check_fqdn, true)) d.zone = *z;
    if (auto ns = c.shaped_list(dns, "nameservers", "dns", names::check_host_port)) d.nameservers = *ns;
    if (const Value* recs = dns.get("records")) load_records(c, *recs, d, roles);
    return true;
}

}  // namespace decamp::inventory
