// kind: hetzner-robot — dedicated servers of a Hetzner Robot account, through its webservice
// (https://robot-ws.your-server.de; HTTP Basic auth with the webservice user; form-encoded
// bodies, JSON answers wrapping each object: {"server":{…}}). A host spec names its server
// number and the distribution to install. Robot is the one API that attests host keys: the
// answers that activate the rescue system and the automated Linux install carry `host_key`
// (fingerprints), which decamp keeps as the key's provenance.
// Robot blocks an address for 10 minutes after 3 failed logins: a 401 is never retried.
// Its rate limit is a 403 RATE_LIMIT_EXCEEDED (with max_requests and interval), waited out.
#include <chrono>

#include "provider/api_kind.hpp"
#include "provider/builtin.hpp"
#include "provider/declared.hpp"
#include "provider/host_key.hpp"
#include "util/api_client.hpp"
#include "util/json.hpp"
#include "util/secret.hpp"
#include "util/shell.hpp"

namespace decamp::provider {

namespace {

const char* kDefaultApi = "https://robot-ws.your-server.de";

Capabilities robot_caps() {
    Capabilities c;
    c.order_hosts = c.reinstall = c.rescue = c.api_host_keys = true;
    return c;
}

http::ApiClient::Verdict robot_policy(const http::Response& r, int attempt) {
    if (r.status == 403) {
        try {
            json::Value v = json::parse(r.body);
            if (v["error"]["code"].str() == "RATE_LIMIT_EXCEEDED") {
                // The window is `interval` seconds for `max_requests` calls: one slot frees
                // after interval / max_requests on average; wait that, at least a second.
                int64_t interval = v["error"]["interval"].int_or(60);
                int64_t max = std::max<int64_t>(
                    1, v["error"]["max_requests"].int_or(v["error"]["max_request"].int_or(1)));
                return {true, static_cast<int>(std::max<int64_t>(1000, interval * 1000 / max))};
            }
        } catch (const json::ParseError&) {
        }
        return {};
    }
    if (r.status == 0 || r.status == 502 || r.status == 503 || r.status == 504)
        return {true, 1000 * (1 << std::min(attempt, 6))};
    return {};  // 401 above all: three failed logins lock the address out
}

std::vector<std::string> fingerprints_of(json::Ref keys) {
    std::vector<std::string> out;
    for (auto k : keys.items()) {
        if (k.is_string()) {
            out.push_back(k.str());
        } else {
            std::string fp = k["fingerprint"].str();
            if (fp.empty()) continue;
            std::string type = k["type"].str();
            out.push_back(type.empty() ? fp : type + " " + fp);
        }
    }
    return out;
}

class RobotProvider : public Provider {
public:
    explicit RobotProvider(Config config)
        : config_(std::move(config)),
          client_(string_setting(config_.settings, "api", kDefaultApi), "Hetzner Robot webservice",
                  robot_policy) {}

    const std::string& name() const override { return config_.name; }
    const std::string& kind() const override { return kind_; }
    Capabilities capabilities() const override { return robot_caps(); }
    std::vector<HostSpec> hosts() override { return config_.hosts; }
    // A spec names a server the account has (`server:`) or a product to order (`product:`).
    std::vector<Order> orders() const override {
        auto out = orders_of(config_.settings);
        for (auto& o : out)
            if (o.plan.empty()) o.plan = order_extra(config_.settings, o.name, "server");
        return out;
    }

    std::vector<Server> servers() override {
        std::vector<Server> out;
        auto specs = orders();
        json::Value list = api("GET", "/server");  // held: items() views into it
        for (auto w : list.items()) {
            json::Ref s = w["server"];
            Server srv;
            srv.id = std::to_string(s["server_number"].int_or(0));
            srv.name = srv.id;
            // By number for a server the spec names; by the name decamp gave a server it ordered.
            for (const auto& o : specs)
                if (order_extra(config_.settings, o.name, "server") == srv.id ||
                    (!s["server_name"].str().empty() && s["server_name"].str() == o.name))
                    srv.name = o.name;
            srv.status = s["status"].str();
            srv.ipv4 = s["server_ip"].str();
            srv.ipv6 = s["server_ipv6_net"].str();
            srv.plan = s["product"].str();
            srv.location = s["dc"].str();
            out.push_back(std::move(srv));
        }
        return out;
    }

    // A server order: a transaction, polled until Robot says ready (minutes to days), then the
    // server named after the host so that a later run finds it. An order taken before a crash
    // (`resume_ref`, its transaction id) is followed, not placed again.
    Provisioned create(const Order& o, const Install& in) override {
        std::string id = in.resume_ref;
        json::Ref t;
        json::Value v;
        if (!id.empty()) {
            v = api("GET", "/order/server/transaction/" + id);
            t = v["transaction"];
            if (t["status"].str() == "cancelled") id.clear();  // nothing was ordered: order afresh
        }
        if (id.empty()) {
            std::string form =
                "product_id=" + http::form_encode(o.plan) + "&dist=" + http::form_encode(o.image) + "&lang=en";
            if (!o.location.empty()) form += "&location=" + http::form_encode(o.location);
            if (!in.authorized_key.empty())
                form += "&authorized_key[]=" + http::form_encode(key_fingerprint(in.authorized_key));
            v = api("POST", "/order/server/transaction", form);
            t = v["transaction"];
            id = t["id"].str();
            if (id.empty()) throw Error("provider " + name() + ": the order answer names no transaction id");
            if (in.on_ordered) in.on_ordered(id);
        }
        const http::ApiTiming& timing = http::api_timing();
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timing.action_timeout_s);
        while (t["status"].str() != "ready") {
            std::string status = t["status"].str();
            if (status == "cancelled")
                throw Error("provider " + name() + ": Robot cancelled the order " + id + " for " + o.name);
            if (std::chrono::steady_clock::now() >= deadline)
                throw Error(
                    "provider " + name() + ": the order " + id + " for " + o.name + " is still \"" + status +
                    "\" after " + std::to_string(timing.action_timeout_s) +
                    " s (Robot delivers in minutes to days); run the same command again later: it follows "
                    "this order and never orders twice");
            http::sleep_ms(timing.poll_ms);
            v = api("GET", "/order/server/transaction/" + id);
            t = v["transaction"];
        }
        Provisioned p;
        p.server.id = std::to_string(t["server_number"].int_or(0));
        p.server.name = o.name;
        p.server.status = "ready";
        p.server.ipv4 = t["server_ip"].str();
        p.server.plan = o.plan;
        p.server.image = o.image;
        p.server.location = o.location;
        p.fingerprints = fingerprints_of(t["host_key"]);
        p.key_source = p.fingerprints.empty() ? KeySource::None : KeySource::Api;
        api("POST", "/server/" + p.server.id, "server_name=" + http::form_encode(o.name));
        return p;
    }

    // The automated Linux install: its answer names the host keys the new system will have.
    Provisioned reinstall(const Server& s, const Install& in) override {
        std::string form = "dist=" + http::form_encode(in.image) + "&lang=en";
        if (!in.authorized_key.empty())
            form += "&authorized_key[]=" + http::form_encode(key_fingerprint(in.authorized_key));
        json::Value v = activate("/boot/" + s.id + "/linux", form);
        Provisioned p;
        p.fingerprints = fingerprints_of(v["linux"]["host_key"]);
        if (!v["linux"]["password"].str().empty()) redactor().add(v["linux"]["password"].str());
        reset(s, "hw");
        p.server = s;
        p.key_source = p.fingerprints.empty() ? KeySource::None : KeySource::Api;
        return p;
    }

    Rescue rescue(const Server& s, const std::string& authorized_key) override {
        std::string form = "os=linux";
        if (!authorized_key.empty())
            form += "&authorized_key[]=" + http::form_encode(key_fingerprint(authorized_key));
        json::Value v = activate("/boot/" + s.id + "/rescue", form);
        if (!v["rescue"]["password"].str().empty()) redactor().add(v["rescue"]["password"].str());
        Rescue r;
        r.server = s;
        r.password_set = !v["rescue"]["password"].str().empty();
        r.fingerprints = fingerprints_of(v["rescue"]["host_key"]);
        reset(s, "hw");
        return r;
    }

    void power(const Server& s, PowerAction a) override {
        static const char* const kTypes[] = {"power", "power_long", "power", "sw", "hw"};
        reset(s, kTypes[static_cast<int>(a)]);
    }

private:
    void reset(const Server& s, const std::string& type) { api("POST", "/reset/" + s.id, "type=" + type); }

    // A boot option activated afresh: one left active (by an earlier run) is switched off first.
    json::Value activate(const std::string& path, const std::string& form) {
        http::Response r = call("POST", path, form);
        if (r.status == 409) {
            api("DELETE", path);
            r = call("POST", path, form);
        }
        return checked("POST", path, r);
    }

    // The MD5 fingerprint Robot names our key by, uploading the key when it has none.
    std::string key_fingerprint(const std::string& public_line) {
        http::Response r = call("GET", "/key");
        if (r.status != 404) {  // 404 NOT_FOUND: the account has no key yet
            json::Value list = checked("GET", "/key", r);
            for (auto w : list.items())
                if (key_of(w["key"]["data"].str()) == key_of(public_line))
                    return w["key"]["fingerprint"].str();
        }
        std::string key_name = string_setting(config_.settings, "ssh_key_name", "decamp");
        json::Value v =
            api("POST", "/key",
                "name=" + http::form_encode(key_name) + "&data=" + http::form_encode(public_line));
        return v["key"]["fingerprint"].str();
    }

    http::Response call(const std::string& method, const std::string& path, const std::string& form = "") {
        if (!authorized_) {
            std::string user = secret_setting(config_, "user"),
                        password = secret_setting(config_, "password");
            std::string basic = shell::base64(user + ":" + password);
            redactor().add(basic);
            client_.set_headers({{"Authorization", "Basic " + basic}});
            authorized_ = true;
        }
        return client_.call(method, path, form, "application/x-www-form-urlencoded");
    }

    json::Value checked(const std::string& method, const std::string& path, const http::Response& r) {
        json::Value v;
        try {
            if (!r.body.empty()) v = json::parse(r.body);
        } catch (const json::ParseError&) {
            if (r.status >= 200 && r.status < 300)
                throw Error("provider " + name() + ": " +
                            http::describe_failure(method, path, r, "the answer is not JSON"));
        }
        if (r.status >= 200 && r.status < 300) return v;
        std::string msg = v["error"]["code"].str();
        if (!v["error"]["message"].str().empty())
            msg += (msg.empty() ? "" : ": ") + v["error"]["message"].str();
        if (r.status == 401)
            msg += " (the webservice user of provider " + name() +
                   " was refused; not retried: Robot blocks an address for 10 minutes after 3 failed logins)";
        throw Error("provider " + name() + ": " + http::describe_failure(method, path, r, msg));
    }

    json::Value api(const std::string& method, const std::string& path, const std::string& form = "") {
        return checked(method, path, call(method, path, form));
    }

    Config config_;
    std::string kind_ = "hetzner-robot";
    http::ApiClient client_;
    bool authorized_ = false;
};

std::string check_server_number(const std::string& s) {
    if (!s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos) return "";
    return "a Robot server number such as 321";
}

class RobotKind : public Kind {
public:
    std::string name() const override { return "hetzner-robot"; }
    Capabilities capabilities() const override { return robot_caps(); }

    Block validate(const Value& block, const std::string& path, schema::Checker& check) const override {
        check_block_keys(block, path, "hetzner-robot",
                         {"kind", "api", "user", "password", "ssh_key_name", "hosts"}, check);
        Block b;
        read_secret(block, "user", path, true, b.settings, check);
        read_secret(block, "password", path, true, b.settings, check);
        read_api(block, path, kDefaultApi, b.settings, check);
        if (auto n = check.str(block, "ssh_key_name", path))
            b.settings.set("ssh_key_name", Value::string(*n));
        OrderRules rules;
        rules.plan_key = "product";
        rules.plan_required = false;
        rules.extra = {{"server", false}};
        b.hosts = read_orders(block, path, "hetzner-robot", rules, b.settings, check);
        // Each host is a server the account has (server:) or one to order (product:).
        if (const Value* hosts = block.get("hosts"); hosts && hosts->is_map()) {
            for (const auto& [host, def] : hosts->entries()) {
                if (!def.is_map()) continue;
                bool server = def.get("server"), product = def.get("product");
                if (server == product)
                    check.error(
                        def, path + "/hosts/" + host,
                        server ? "expected server: (a server the account has) or product: (one to order), "
                                 "not both"
                               : "expected server: (a Robot server number such as 321) or product: (a "
                                 "product to order, such as EX44)");
            }
        }
        // The server number must be digits (YAML gives an integer; a string must look like one).
        if (const Value* hosts = block.get("hosts"); hosts && hosts->is_map()) {
            for (const auto& [host, def] : hosts->entries()) {
                const Value* n = def.is_map() ? def.get("server") : nullptr;
                if (!n || !n->is_string()) continue;
                if (std::string why = check_server_number(n->as_string()); !why.empty())
                    check.error(*n, path + "/hosts/" + host + "/server",
                                "\"" + n->as_string() + "\": expected " + why);
            }
        }
        return b;
    }

    std::unique_ptr<Provider> open(Config config) const override {
        return std::make_unique<RobotProvider>(std::move(config));
    }
};

}  // namespace

std::unique_ptr<Kind> make_hetzner_robot_kind() {
    return std::make_unique<RobotKind>();
}

}  // namespace decamp::provider
