// kind: hetzner-cloud — servers of one Hetzner Cloud project, through its API
// (https://api.hetzner.cloud/v1, Bearer project token). Hosts are specs (server_type, image,
// location); `decamp hosts create` orders them with our SSH key and cloud-init user data that
// carries a host key decamp generated, since the API never tells a server's host key.
// Every change is an action, polled until success or error. Rate limits: RateLimit-Remaining
// and RateLimit-Reset are honoured (a 429 waits for the reset); 401/403 are never retried.
#include <cmath>
#include <cstdio>

#include "provider/api_kind.hpp"
#include "provider/builtin.hpp"
#include "provider/declared.hpp"
#include "provider/host_key.hpp"
#include "util/api_client.hpp"
#include "util/hcloud.hpp"
#include "util/json.hpp"
#include "util/secret.hpp"

namespace decamp::provider {

namespace {

const char* kDefaultApi = "https://api.hetzner.cloud/v1";

Capabilities cloud_caps() {
    Capabilities c;
    c.order_hosts = c.reinstall = c.rescue = c.user_data = true;
    c.api_host_keys = false;  // Hetzner Cloud does not know host keys: decamp injects its own
    return c;
}

Server to_server(json::Ref s) {
    Server out;
    out.id = std::to_string(s["id"].int_or(0));
    out.name = s["name"].str();
    out.status = s["status"].str();
    out.ipv4 = s["public_net"]["ipv4"]["ip"].str();
    out.ipv6 = s["public_net"]["ipv6"]["ip"].str();
    out.plan = s["server_type"]["name"].str();
    out.image = s["image"]["name"].str();
    out.location = s["datacenter"]["location"]["name"].str();
    return out;
}

std::string money(const std::string& amount) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", std::atof(amount.c_str()));
    return buf;
}

class CloudProvider : public Provider {
public:
    explicit CloudProvider(Config config)
        : config_(std::move(config)),
          client_(string_setting(config_.settings, "api", kDefaultApi), "Hetzner Cloud API",
                  http::hcloud_policy()) {}

    const std::string& name() const override { return config_.name; }
    const std::string& kind() const override { return kind_; }
    Capabilities capabilities() const override { return cloud_caps(); }
    std::vector<HostSpec> hosts() override { return config_.hosts; }
    std::vector<Order> orders() const override { return orders_of(config_.settings); }

    std::vector<Server> servers() override {
        std::vector<Server> out;
        for (int page = 1; page > 0 && page < 1000;) {
            json::Value v = api("GET", "/servers?page=" + std::to_string(page) + "&per_page=50");
            for (auto s : v["servers"].items()) out.push_back(to_server(s));
            auto next = v["meta"]["pagination"]["next_page"];
            page = next.is_number() ? static_cast<int>(next.int_or(0)) : 0;
        }
        return out;
    }

    std::string monthly_price(const Order& o) override {
        json::Value v = api("GET", "/server_types?name=" + http::form_encode(o.plan));
        for (auto t : v["server_types"].items()) {
            for (auto p : t["prices"].items()) {
                if (!o.location.empty() && p["location"].str() != o.location) continue;
                std::string gross = p["price_monthly"]["gross"].str();
                if (!gross.empty()) return "€" + money(gross) + "/month";
            }
        }
        return "";
    }

    Provisioned create(const Order& o, const Install& in) override {
        json::Value body;
        body.set("name", o.name);
        body.set("server_type", o.plan);
        body.set("image", in.image.empty() ? o.image : in.image);
        if (!o.location.empty()) body.set("location", o.location);
        json::Value keys;
        keys.push(ssh_key_id(in.authorized_key));
        body.set("ssh_keys", std::move(keys));
        if (in.host_key) body.set("user_data", cloud_config(o.name, in.authorized_key, *in.host_key));
        body.set("start_after_create", true);
        json::Value labels;
        labels.set("managed-by", "decamp");
        body.set("labels", std::move(labels));
        json::Value v = api("POST", "/servers", json::dump(body));
        std::vector<int64_t> ids{v["action"]["id"].int_or(0)};
        for (auto a : v["next_actions"].items()) ids.push_back(a["id"].int_or(0));
        wait(ids);
        return provisioned(to_server(v["server"]).id, in);
    }

    Provisioned reinstall(const Server& s, const Install& in) override {
        json::Value body;
        body.set("image", in.image);
        if (in.host_key) body.set("user_data", cloud_config(s.name, in.authorized_key, *in.host_key));
        json::Value v = api("POST", "/servers/" + s.id + "/actions/rebuild", json::dump(body));
        if (!v["root_password"].str().empty()) redactor().add(v["root_password"].str());
        wait({v["action"]["id"].int_or(0)});
        return provisioned(s.id, in);
    }

    Rescue rescue(const Server& s, const std::string& authorized_key) override {
        json::Value body;
        body.set("type", "linux64");
        json::Value keys;
        keys.push(ssh_key_id(authorized_key));
        body.set("ssh_keys", std::move(keys));
        json::Value v = api("POST", "/servers/" + s.id + "/actions/enable_rescue", json::dump(body));
        Rescue out;
        if (!v["root_password"].str().empty()) {
            redactor().add(v["root_password"].str());  // never shown
            out.password_set = true;
        }
        wait({v["action"]["id"].int_or(0)});
        // The rescue system boots on the next reset; a server that is off is switched on.
        json::Value r = api(
            "POST", "/servers/" + s.id + (s.status == "off" ? "/actions/poweron" : "/actions/reset"), "{}");
        wait({r["action"]["id"].int_or(0)});
        out.server = get(s.id);
        return out;  // Hetzner Cloud does not tell the rescue system's host key (no fingerprints)
    }

    void power(const Server& s, PowerAction a) override {
        static const char* const kPaths[] = {"poweron", "poweroff", "shutdown", "reboot", "reset"};
        json::Value v = api("POST", "/servers/" + s.id + "/actions/" + kPaths[static_cast<int>(a)], "{}");
        wait({v["action"]["id"].int_or(0)});
    }

private:
    Provisioned provisioned(const std::string& id, const Install& in) {
        Provisioned p;
        p.server = get(id);
        if (in.host_key) {
            p.key_source = KeySource::Injected;
            p.host_key = key_of(in.host_key->public_line);
        }
        return p;
    }

    Server get(const std::string& id) { return to_server(api("GET", "/servers/" + id)["server"]); }

    // The project's SSH key with our public key, uploaded under ssh_key_name when missing.
    int64_t ssh_key_id(const std::string& public_line) {
        if (public_line.empty()) throw Error("provider " + name() + ": no SSH public key to give the server");
        std::string key_name = string_setting(config_.settings, "ssh_key_name", "decamp");
        json::Value v = api("GET", "/ssh_keys?name=" + http::form_encode(key_name));
        for (auto k : v["ssh_keys"].items()) {
            if (key_of(k["public_key"].str()) == key_of(public_line)) return k["id"].int_or(0);
            throw Error("provider " + name() + ": the project's SSH key \"" + key_name +
                        "\" is a different key than ours (" + key_of(public_line).substr(0, 24) +
                        "…); set ssh_key_name to another name or remove that key");
        }
        // Our key may be in the project under another name (a project holds each key once).
        for (int page = 1; page > 0 && page < 100;) {
            json::Value all = api("GET", "/ssh_keys?page=" + std::to_string(page) + "&per_page=50");
            for (auto k : all["ssh_keys"].items())
                if (key_of(k["public_key"].str()) == key_of(public_line)) return k["id"].int_or(0);
            auto next = all["meta"]["pagination"]["next_page"];
            page = next.is_number() ? static_cast<int>(next.int_or(0)) : 0;
        }
        json::Value body;
        body.set("name", key_name);
        body.set("public_key", public_line);
        return api("POST", "/ssh_keys", json::dump(body))["ssh_key"]["id"].int_or(0);
    }

    // Polls the actions until none is running; an error or a timeout names the action.
    void wait(const std::vector<int64_t>& ids) {
        const http::ApiTiming& t = http::api_timing();
        long long deadline_ms = static_cast<long long>(t.action_timeout_s) * 1000;
        std::string query;
        for (int64_t id : ids)
            if (id > 0) query += (query.empty() ? "?id=" : "&id=") + std::to_string(id);
        if (query.empty()) return;
        for (long long waited = 0;; waited += t.poll_ms) {
            json::Value v = api("GET", "/actions" + query);
            bool running = false;
            std::string last;
            for (auto a : v["actions"].items()) {
                std::string status = a["status"].str();
                std::string what =
                    "action " + std::to_string(a["id"].int_or(0)) + " (" + a["command"].str() + ")";
                if (status == "error")
                    throw Error("provider " + name() + ": " + what + " failed: " + a["error"]["code"].str() +
                                ": " + a["error"]["message"].str());
                if (status == "running") {
                    running = true;
                    last = what + " is still running at " + std::to_string(a["progress"].int_or(0)) + "%";
                }
            }
            if (!running) return;
            if (waited >= deadline_ms)
                throw Error(
                    "provider " + name() + ": " + last + " after " + std::to_string(t.action_timeout_s) +
                    " s; giving up (the server may still finish: `decamp hosts list` shows its status)");
            http::sleep_ms(t.poll_ms);
        }
    }

    json::Value api(const std::string& method, const std::string& path, const std::string& body = "") {
        if (!authorized_) {
            client_.set_headers({{"Authorization", "Bearer " + secret_setting(config_, "token")}});
            authorized_ = true;
        }
        if (pause_ms_ > 0) http::sleep_ms(pause_ms_);
        http::Response r = client_.call(method, path, body);
        // Out of requests: wait for the reset before the next one instead of drawing a 429.
        pause_ms_ = http::header(r, "RateLimit-Remaining") == "0" ? http::rate_limit_wait_ms(r) : 0;
        json::Value v;
        try {
            if (!r.body.empty()) v = json::parse(r.body);
        } catch (const json::ParseError&) {
            if (r.status >= 200 && r.status < 300)
                throw Error(http::describe_failure(method, path, r, "the answer is not JSON"));
        }
        if (r.status >= 200 && r.status < 300) return v;
        std::string msg = http::hcloud_error(r.body);
        if (r.status == 401 || r.status == 403)
            msg += " (the token of provider " + name() + " was refused; not retried)";
        throw Error("provider " + name() + ": " + http::describe_failure(method, path, r, msg));
    }

    Config config_;
    std::string kind_ = "hetzner-cloud";
    http::ApiClient client_;
    bool authorized_ = false;
    int pause_ms_ = 0;
};

class CloudKind : public Kind {
public:
    std::string name() const override { return "hetzner-cloud"; }
    Capabilities capabilities() const override { return cloud_caps(); }

    Block validate(const Value& block, const std::string& path, schema::Checker& check) const override {
        check_block_keys(block, path, "hetzner-cloud", {"kind", "token", "api", "ssh_key_name", "hosts"},
                         check);
        Block b;
        read_secret(block, "token", path, true, b.settings, check);
        read_api(block, path, kDefaultApi, b.settings, check);
        if (auto n = check.str(block, "ssh_key_name", path))
            b.settings.set("ssh_key_name", Value::string(*n));
        OrderRules rules;
        rules.plan_key = "server_type";
        rules.location_required = true;
        b.hosts = read_orders(block, path, "hetzner-cloud", rules, b.settings, check);
        return b;
    }

    std::unique_ptr<Provider> open(Config config) const override {
        return std::make_unique<CloudProvider>(std::move(config));
    }
};

}  // namespace

std::unique_ptr<Kind> make_hetzner_cloud_kind() {
    return std::make_unique<CloudKind>();
}

}  // namespace decamp::provider
