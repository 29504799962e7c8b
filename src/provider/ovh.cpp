// kind: ovh — dedicated servers of an OVHcloud account, through its API
// (https://eu.api.ovh.com/1.0). Every call is signed: X-Ovh-Signature = "$1$" +
// hex(SHA1(application secret + consumer key + method + full URL + body + timestamp)), with
// the timestamp in the API's own time (GET /auth/time gives the delta to ours). Servers are
// rented, not ordered here: a host spec names its server (the service name) and image, and
// decamp reinstalls it (POST /reinstall, with a post-installation script that installs the
// host key decamp generated), boots it into rescue, or reboots it. Tasks are polled until
// done; the dedicated-server API answers 404 and 500 now and then while a task runs, so
// those are waited out until the deadline.
#include <openssl/evp.h>

#include <cstdio>

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

const char* kDefaultApi = "https://eu.api.ovh.com/1.0";

Capabilities ovh_caps() {
    Capabilities c;
    c.reinstall = c.rescue = c.user_data = true;  // user data: the post-installation script
    return c;
}

std::string sha1_hex(const std::string& text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha1(), nullptr) != 1)
        throw Error("SHA-1 failed (OpenSSL)");
    std::string out;
    char buf[3];
    for (unsigned int i = 0; i < len; ++i) {
        std::snprintf(buf, sizeof buf, "%02x", digest[i]);
        out += buf;
    }
    return out;
}

class OvhProvider : public Provider {
public:
    explicit OvhProvider(Config config)
        : config_(std::move(config)),
          client_(string_setting(config_.settings, "api", kDefaultApi), "OVH API", http::retry_policy({})) {}

    const std::string& name() const override { return config_.name; }
    const std::string& kind() const override { return kind_; }
    Capabilities capabilities() const override { return ovh_caps(); }
    std::vector<HostSpec> hosts() override { return config_.hosts; }
    std::vector<Order> orders() const override {
        auto out = orders_of(config_.settings);
        for (auto& o : out) o.plan = order_extra(config_.settings, o.name, "server");
        return out;
    }

    // Only the servers the inventory names are read one by one (an account may hold many).
    std::vector<Server> servers() override {
        json::Value names = api("GET", "/dedicated/server");
        std::vector<Server> out;
        for (auto n : names.items()) {
            const std::string& sn = n.str();
            std::string host;
            for (const auto& o : orders())
                if (o.plan == sn) host = o.name;
            if (host.empty()) {
                out.push_back(Server{sn, sn, "", "", "", "", "", ""});
                continue;
            }
            json::Value d = api("GET", "/dedicated/server/" + sn);
            Server s;
            s.id = sn;
            s.name = host;
            s.status = d["state"].str();
            s.ipv4 = d["ip"].str();
            s.plan = d["commercialRange"].str();
            s.image = d["os"].str();
            s.location = d["datacenter"].str();
            out.push_back(std::move(s));
        }
        return out;
    }

    Provisioned reinstall(const Server& s, const Install& in) override {
        json::Value custom, body;
        custom.set("hostname", s.name);
        if (!in.authorized_key.empty()) custom.set("sshKey", in.authorized_key);
        if (in.host_key) custom.set("postInstallationScript", shell::base64(host_key_script(*in.host_key)));
        body.set("operatingSystem", in.image);
        body.set("customizations", std::move(custom));
        json::Value task = api("POST", "/dedicated/server/" + s.id + "/reinstall", json::dump(body));
        wait(s.id, task);
        Provisioned p;
        p.server = s;
        for (const auto& fresh : servers())
            if (fresh.id == s.id) p.server = fresh;
        if (in.host_key) {
            p.key_source = KeySource::Injected;
            p.host_key = key_of(in.host_key->public_line);
        }
        return p;
    }

    Rescue rescue(const Server& s, const std::string& authorized_key) override {
        json::Value boots = api("GET", "/dedicated/server/" + s.id + "/boot?bootType=rescue");
        if (boots.size() == 0)
            throw Error("provider " + name() + ": server " + s.id + " offers no rescue boot");
        json::Value body;
        body.set("bootId", boots[size_t(0)].int_or(0));
        if (!authorized_key.empty()) body.set("rescueSshKey", authorized_key);
        api("PUT", "/dedicated/server/" + s.id, json::dump(body));
        wait(s.id, api("POST", "/dedicated/server/" + s.id + "/reboot", "{}"));
        Rescue r;
        r.server = s;
        return r;  // OVH does not tell the rescue system's host key
    }

    void power(const Server& s, PowerAction a) override {
        if (a != PowerAction::Reboot && a != PowerAction::Reset)
            unsupported(std::string("power ") + power_name(a) + " a dedicated server (only reboot or reset)");
        wait(s.id, api("POST", "/dedicated/server/" + s.id + "/reboot", "{}"));
    }

private:
    // Polls GET /dedicated/server/{sn}/task/{id}: init/todo/doing wait, done ends; any other
    // status fails. 404 and 500 while polling are the API's hiccups, waited out.
    void wait(const std::string& sn, json::Ref task) {
        int64_t id = task["taskId"].int_or(0);
        if (id <= 0) throw Error("provider " + name() + ": the API answered no task id");
        const http::ApiTiming& t = http::api_timing();
        long long deadline_ms = static_cast<long long>(t.action_timeout_s) * 1000;
        std::string path = "/dedicated/server/" + sn + "/task/" + std::to_string(id);
        std::string last = task["status"].str();
        std::string function = task["function"].str();
        for (long long waited = 0;; waited += t.poll_ms) {
            http::Response r = client_.call("GET", path);
            if (r.status == 200) {
                json::Value v = parse(r, "GET", path);
                last = v["status"].str();
                if (last == "done") return;
                if (last != "init" && last != "todo" && last != "doing")
                    throw Error("provider " + name() + ": task " + std::to_string(id) + " (" + function +
                                ") on " + sn + " ended " + last +
                                (v["comment"].str().empty() ? "" : ": " + v["comment"].str()));
            } else if (r.status != 404 && r.status != 500) {
                fail("GET", path, r);
            }
            if (waited >= deadline_ms)
                throw Error("provider " + name() + ": task " + std::to_string(id) + " (" + function +
                            ") on " + sn + " is still " + last + " after " +
                            std::to_string(t.action_timeout_s) + " s; giving up");
            http::sleep_ms(t.poll_ms);
        }
    }

    void sign() {
        if (signing_) return;
        app_key_ = secret_setting(config_, "application_key");
        app_secret_ = secret_setting(config_, "application_secret");
        consumer_key_ = secret_setting(config_, "consumer_key");
        // The API's clock, not ours: a timestamp off by more than a few seconds is refused.
        http::Response r = client_.call("GET", "/auth/time");
        if (r.status != 200) fail("GET", "/auth/time", r);
        long long server = std::atoll(r.body.c_str());
        if (server <= 0) throw Error("provider " + name() + ": GET /auth/time answered no time");
        delta_ = server - http::unix_now();
        client_.set_headers({{"X-Ovh-Application", app_key_}, {"X-Ovh-Consumer", consumer_key_}});
        client_.set_signer(
            [this](const std::string& method, const std::string& url, const std::string& body) {
                std::string ts = std::to_string(http::unix_now() + delta_);
                std::string sig = "$1$" + sha1_hex(app_secret_ + "+" + consumer_key_ + "+" + method + "+" +
                                                   url + "+" + body + "+" + ts);
                return std::vector<std::pair<std::string, std::string>>{{"X-Ovh-Timestamp", ts},
                                                                        {"X-Ovh-Signature", sig}};
            });
        signing_ = true;
    }

    json::Value parse(const http::Response& r, const std::string& method, const std::string& path) {
        try {
            return r.body.empty() ? json::Value() : json::parse(r.body);
        } catch (const json::ParseError&) {
            throw Error("provider " + name() + ": " +
                        http::describe_failure(method, path, r, "the answer is not JSON"));
        }
    }

    [[noreturn]] void fail(const std::string& method, const std::string& path, const http::Response& r) {
        std::string msg;
        try {
            json::Value v = json::parse(r.body);
            msg = v["class"].str();
            if (!v["message"].str().empty()) msg += (msg.empty() ? "" : ": ") + v["message"].str();
        } catch (const json::ParseError&) {
        }
        if (r.status == 401 || r.status == 403)
            msg += " (the credentials of provider " + name() + " were refused; not retried)";
        std::string id = http::header(r, "X-Ovh-QueryID");
        if (!id.empty()) msg += " [query " + id + "]";
        throw Error("provider " + name() + ": " + http::describe_failure(method, path, r, msg));
    }

    json::Value api(const std::string& method, const std::string& path, const std::string& body = "") {
        sign();
        http::Response r = client_.call(method, path, body);
        if (r.status < 200 || r.status > 299) fail(method, path, r);
        return parse(r, method, path);
    }

    Config config_;
    std::string kind_ = "ovh";
    http::ApiClient client_;
    bool signing_ = false;
    std::string app_key_, app_secret_, consumer_key_;
    long long delta_ = 0;
};

class OvhKind : public Kind {
public:
    std::string name() const override { return "ovh"; }
    Capabilities capabilities() const override { return ovh_caps(); }

    Block validate(const Value& block, const std::string& path, schema::Checker& check) const override {
        check_block_keys(block, path, "ovh",
                         {"kind", "api", "application_key", "application_secret", "consumer_key", "hosts"},
                         check);
        Block b;
        for (const char* k : {"application_key", "application_secret", "consumer_key"})
            read_secret(block, k, path, true, b.settings, check);
        read_api(block, path, kDefaultApi, b.settings, check);
        OrderRules rules;
        rules.image_required = true;
        rules.extra = {{"server", true}};
        b.hosts = read_orders(block, path, "ovh", rules, b.settings, check);
        return b;
    }

    std::unique_ptr<Provider> open(Config config) const override {
        return std::make_unique<OvhProvider>(std::move(config));
    }
};

}  // namespace

std::unique_ptr<Kind> make_ovh_kind() {
    return std::make_unique<OvhKind>();
}

}  // namespace decamp::provider
