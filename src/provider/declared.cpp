#include "provider/declared.hpp"

#include <algorithm>

#include "util/names.hpp"

namespace decamp::provider {

namespace {

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

class DeclaredProvider : public Provider {
public:
    DeclaredProvider(std::string kind, Config config) : kind_(std::move(kind)), config_(std::move(config)) {}
    const std::string& name() const override { return config_.name; }
    const std::string& kind() const override { return kind_; }
    Capabilities capabilities() const override { return {}; }
    std::vector<HostSpec> hosts() override { return config_.hosts; }

private:
    std::string kind_;
    Config config_;
};

HostSpec read_host(const std::string& name, const Mark& mark, const Value& def, const std::string& path,
                   const HostRules& rules, schema::Checker& c) {
    HostSpec h;
    h.name = name;
    h.mark = h.address_mark = h.roles_mark = mark;
    if (!def.is_map()) {
        c.error(def, path,
                std::string("expected a map of host keys (") + join(rules.allowed) + "), found " +
                    schema::kind_name(def.kind()));
        return h;
    }
    std::vector<std::string> known = rules.allowed;
    for (const auto& [key, why] : rules.refused) {
        known.push_back(key);
        if (def.get(key)) c.error(def.key_mark(key), schema::Checker::join(path, key), why);
    }
    c.map(def, path, known);
    if (auto a = c.str(def, "address", path, rules.address_required)) {
        const Value& at = *def.get("address");
        h.address_mark = at.mark();
        if (std::string why = rules.check_address ? rules.check_address(*a) : ""; !why.empty())
            c.error(at, path + "/address", why);
        else
            h.address = *a;
    } else if (!def.get("address")) {
        h.address = rules.default_address;
    }
    if (contains(rules.allowed, "port"))
        if (auto p = c.integer(def, "port", path, false, 1, 65535)) h.port = int(*p);
    if (contains(rules.allowed, "user"))
        if (auto u = c.shaped(def, "user", path, names::check_user)) h.user = *u;
    if (auto r = c.str_list(def, "roles", path)) {
        h.roles = *r;
        h.roles_mark = def.get("roles")->mark();
    }
    if (const Value* vars = def.get("vars")) {
        if (vars->is_map())
            h.vars = *vars;
        else if (!vars->is_null())
            c.error(*vars, path + "/vars", "expected a map of variable name to value");
    }
    return h;
}

}  // namespace

void check_block_keys(const Value& block, const std::string& path, const std::string& kind,
                      const std::vector<std::string>& allowed, schema::Checker& check) {
    for (const auto& [key, value] : block.entries()) {
        if (contains(allowed, key)) continue;
        std::string msg = "unknown key \"" + key + "\" for a " + kind + " provider";
        std::string hint = schema::did_you_mean(key, allowed);
        msg += hint.empty() ? "; expected one of: " + join(allowed) : "; did you mean \"" + hint + "\"?";
        check.error(block.key_mark(key), schema::Checker::join(path, key), msg);
    }
}

std::vector<HostSpec> read_hosts(const Value& block, const std::string& path, const HostRules& rules,
                                 schema::Checker& check) {
    std::vector<HostSpec> out;
    const Value* hosts = block.get("hosts");
    std::string what = "a map of host name to {" + join(rules.allowed) + "}";
    if (!hosts || hosts->is_null()) {
        check.error(block, path + "/hosts", "required key is missing; expected " + what);
        return out;
    }
    if (!hosts->is_map()) {
        check.error(*hosts, path + "/hosts",
                    "expected " + what + ", found " + schema::kind_name(hosts->kind()));
        return out;
    }
    for (const auto& [name, def] : hosts->entries())
        out.push_back(read_host(name, hosts->key_mark(name), def, path + "/hosts/" + name, rules, check));
    return out;
}

std::unique_ptr<Provider> open_declared(std::string kind, Config config) {
    return std::make_unique<DeclaredProvider>(std::move(kind), std::move(config));
}

}  // namespace decamp::provider
