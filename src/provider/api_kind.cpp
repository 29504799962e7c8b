#include "provider/api_kind.hpp"

#include "provider/declared.hpp"
#include "util/api_client.hpp"
#include "util/secret.hpp"

namespace decamp::provider {

void read_secret(const Value& block, const std::string& key, const std::string& path, bool required,
                 Value& settings, schema::Checker& check) {
    const Value* v = block.get(key);
    std::string at = schema::Checker::join(path, key);
    if (!v || v->is_null()) {
        if (required)
            check.error(
                block, at,
                "required key is missing; expected a secret reference such as ${env:NAME} or ${file:path}");
        return;
    }
    if (v->is_string() && is_secret_reference(v->as_string())) {
        settings.set(key, Value::secret(v->as_string()).at(v->mark()));
        return;
    }
    // Never echo the value: it may be a real credential pasted inline by mistake.
    check.error(*v, at,
                "expected a secret reference such as ${env:NAME} or ${file:path}; credentials are never "
                "written inline");
}

void read_api(const Value& block, const std::string& path, const std::string& fallback, Value& settings,
              schema::Checker& check) {
    std::string api = fallback;
    if (auto a = check.str(block, "api", path)) {
        if (std::string why = http::check_api_url(*a); !why.empty())
            check.error(*block.get("api"), schema::Checker::join(path, "api"), "\"" + *a + "\": " + why);
        else
            api = *a;
    }
    settings.set("api", Value::string(api));
}

std::vector<HostSpec> read_orders(const Value& block, const std::string& path, const std::string& kind,
                                  const OrderRules& rules, Value& settings, schema::Checker& check) {
    HostRules hr;
    hr.allowed = {"image", "location", "port", "user", "roles", "vars"};
    if (!rules.plan_key.empty()) hr.allowed.insert(hr.allowed.begin(), rules.plan_key);
    for (const auto& e : rules.extra) hr.allowed.insert(hr.allowed.begin(), e.first);
    hr.refused = {{"address", "a " + kind +
                                  " provider assigns addresses itself; decamp keeps them in its state "
                                  "(run `decamp hosts create`); leave address out"}};
    hr.address_required = false;
    std::vector<HostSpec> hosts = read_hosts(block, path, hr, check);
    Value orders = Value::map();
    const Value* map = block.get("hosts");
    for (const auto& h : hosts) {
        const Value* def = map && map->is_map() ? map->get(h.name) : nullptr;
        if (!def || !def->is_map()) continue;
        std::string hp = path + "/hosts/" + h.name;
        Value o = Value::map();
        auto take = [&](const std::string& key, const std::string& as, bool required) {
            if (auto s = check.str(*def, key, hp, required)) {
                bool control = false;
                for (unsigned char ch : *s) control = control || ch < 0x20 || ch == 0x7f;
                if (s->empty() || control)
                    check.error(*def->get(key), hp + "/" + key,
                                "expected a name the provider's API knows (e.g. cx22, debian-12, fsn1), not "
                                "an empty or multi-line text");
                else
                    o.set(as, Value::string(*s));
            }
        };
        if (!rules.plan_key.empty()) take(rules.plan_key, "plan", rules.plan_required);
        take("image", "image", rules.image_required);
        take("location", "location", rules.location_required);
        for (const auto& [key, required] : rules.extra) take(key, key, required);
        orders.set(h.name, std::move(o));
    }
    settings.set("orders", std::move(orders));
    return hosts;
}

std::vector<Order> orders_of(const Value& settings) {
    std::vector<Order> out;
    const Value* orders = settings.get("orders");
    if (!orders || !orders->is_map()) return out;
    for (const auto& [name, o] : orders->entries())
        out.push_back(Order{name, string_setting(o, "plan"), string_setting(o, "image"),
                            string_setting(o, "location")});
    return out;
}

std::string order_extra(const Value& settings, const std::string& name, const std::string& key) {
    const Value* orders = settings.get("orders");
    const Value* o = orders ? orders->get(name) : nullptr;
    return o ? string_setting(*o, key) : "";
}

std::string string_setting(const Value& settings, const std::string& key, const std::string& fallback) {
    const Value* v = settings.get(key);
    return v && v->is_string() ? v->as_string() : fallback;
}

std::string secret_setting(const Config& config, const std::string& key) {
    const Value* v = config.settings.get(key);
    if (!v || v->kind() != Value::Kind::Secret)
        throw Error("provider " + config.name + " has no " + key + " (a secret such as ${env:NAME})");
    return resolve_secret(v->as_string(), config.base_dir).reveal();
}

}  // namespace decamp::provider
