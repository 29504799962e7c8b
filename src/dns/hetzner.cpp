#include "dns/hetzner.hpp"

#include <algorithm>

#include "dns/api_backend.hpp"
#include "dns/packet.hpp"
#include "util/api_client.hpp"
#include "util/hcloud.hpp"
#include "util/json.hpp"

namespace decamp::dns {

namespace {

const char* kDefaultApi = "https://api.hetzner.cloud/v1";

class Hetzner : public DnsBackend {
public:
    explicit Hetzner(const BackendConfig& cfg)
        : cfg_(cfg),
          client_(cfg.api.empty() ? kDefaultApi : cfg.api, "Hetzner Cloud API", http::hcloud_policy()) {
        if (cfg_.zone.empty()) throw Error("hetzner: 'zone' is required");
        if (cfg_.api_key.empty()) throw Error("hetzner: 'api_token' is required");
        cfg_.zone = canonical_name(cfg_.zone);
        zone_path_ = "/zones/" + http::form_encode(cfg_.zone.substr(0, cfg_.zone.size() - 1));
        client_.set_headers({{"Authorization", "Bearer " + cfg_.api_key}});
        client_.set_timeout_ms(std::max(cfg_.timeout_ms, 10000));
    }

    void ping() override { zone_ttl(); }

    std::optional<RRset> get(const std::string& name, const std::string& type) override {
        std::string want = canonical_name(name);
        json::Value v = api("GET", rrset_path(want, type), "", "reading " + want + " " + type, true);
        if (v.is_null()) return std::nullopt;
        RRset out;
        out.name = want;
        out.type = type;
        // A TTL of null means the zone's default.
        out.ttl = v["rrset"]["ttl"].is_number() ? int(v["rrset"]["ttl"].int_or(0)) : zone_ttl();
        for (json::Ref rec : v["rrset"]["records"].items()) out.records.push_back(rec["value"].str());
        if (out.records.empty()) return std::nullopt;
        return out;
    }

    void replace(const RRset& rrset) override {
        std::string name = checked_rrset("hetzner", rrset, cfg_.zone, min_ttl("hetzner"));
        std::string doing = "replacing " + name + " " + rrset.type;
        json::Value records{json::Value::Array{}};
        for (const auto& a : rrset.records) records.push(json::Value{}.set("value", a));
        std::optional<RRset> now = get(name, rrset.type);
        if (!now) {
            json::Value body;
            body.set("name", relative(name))
                .set("type", rrset.type)
                .set("ttl", rrset.ttl)
                .set("records", std::move(records));
            wait(api("POST", zone_path_ + "/rrsets", json::dump(body), doing)["action"], doing);
            return;
        }
        std::vector<std::string> have = now->records, want = rrset.records;
        std::sort(have.begin(), have.end());
        std::sort(want.begin(), want.end());
        want.erase(std::unique(want.begin(), want.end()), want.end());
        std::string actions = rrset_path(name, rrset.type) + "/actions/";
        if (have != want) {
            json::Value body;
            body.set("records", std::move(records));
            wait(api("POST", actions + "set_records", json::dump(body), doing)["action"], doing);
        }
        if (now->ttl != rrset.ttl) {
            json::Value body;
            body.set("ttl", rrset.ttl);
            wait(api("POST", actions + "change_ttl", json::dump(body), doing)["action"], doing);
        }
    }

    std::string describe() const override {
        return "hetzner " + client_.base_url() + " zone " + cfg_.zone;  // never the token
    }

private:
    // "www" for www.example.com. in example.com., "@" for the apex.
    std::string relative(const std::string& name) const {
        if (name == cfg_.zone) return "@";
        return name.substr(0, name.size() - cfg_.zone.size() - 1);
    }
    std::string rrset_path(const std::string& name, const std::string& type) const {
        return zone_path_ + "/rrsets/" + http::form_encode(relative(name)) + "/" + http::form_encode(type);
    }

    int zone_ttl() {
        if (zone_ttl_ > 0) return zone_ttl_;
        json::Value v = api("GET", zone_path_, "", "reading zone " + cfg_.zone);
        zone_ttl_ = int(v["zone"]["ttl"].int_or(3600));
        return zone_ttl_;
    }

    // The parsed answer; null for a 404 when `absent_ok`. Out of requests (RateLimit-Remaining
    // 0), the next request waits for the reset instead of drawing a 429.
    json::Value api(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& doing, bool absent_ok = false) {
        if (pause_ms_ > 0) http::sleep_ms(pause_ms_);
        http::Response r = client_.call(method, path, body);
        pause_ms_ = http::header(r, "RateLimit-Remaining") == "0" ? http::rate_limit_wait_ms(r) : 0;
        if (absent_ok && r.status == 404) return {};
        json::Value v;
        try {
            if (!r.body.empty()) v = json::parse(r.body);
        } catch (const json::ParseError&) {
            if (r.status >= 200 && r.status < 300)
                throw_api_error(describe(), doing, r, "the answer is not JSON");
        }
        if (r.status >= 200 && r.status < 300) return v;
        throw_api_error(describe(), doing, r, http::hcloud_error(r.body));
    }

    // Polls the action until it is no longer running; its error is the error.
    void wait(json::Ref started, const std::string& doing) {
        json::Value a(started);
        const std::string what = describe() + ": " + doing + ": action " + std::to_string(a["id"].int_or(0));
        const http::ApiTiming& t = http::api_timing();
        for (long long waited = 0; a["status"].str() == "running"; waited += t.poll_ms) {
            if (waited >= static_cast<long long>(t.action_timeout_s) * 1000)
                throw Error(what + " still running after " + std::to_string(t.action_timeout_s) + " s");
            http::sleep_ms(t.poll_ms);
            a = json::Value(
                api("GET", "/actions?id=" + std::to_string(a["id"].int_or(0)), "", doing)["actions"][0]);
        }
        if (a["status"].str() != "success")
            throw Error(what + " failed: " + a["error"]["code"].str() + ": " + a["error"]["message"].str());
    }

    BackendConfig cfg_;
    http::ApiClient client_;
    std::string zone_path_;
    int zone_ttl_ = 0;
    int pause_ms_ = 0;
};

}  // namespace

std::unique_ptr<DnsBackend> make_hetzner(const BackendConfig& cfg) {
    return std::make_unique<Hetzner>(cfg);
}

}  // namespace decamp::dns
