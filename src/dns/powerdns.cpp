#include "dns/powerdns.hpp"

#include "dns/api_backend.hpp"
#include "dns/packet.hpp"
#include "util/api_client.hpp"
#include "util/json.hpp"
#include "util/secret.hpp"
#include "util/text.hpp"

namespace decamp::dns {

namespace {

class PowerDns : public DnsBackend {
public:
    // A REPLACE is idempotent, so a 500 (a back-end database error) is worth another try
    // besides no answer / 502-504; PowerDNS documents no rate limits.
    explicit PowerDns(const BackendConfig& cfg)
        : cfg_(cfg), client_(cfg.api, "PowerDNS API", http::retry_policy({{}, {500}, 500, {}})) {
        while (!cfg_.api.empty() && cfg_.api.back() == '/') cfg_.api.pop_back();
        if (cfg_.api.empty()) throw Error("powerdns: 'api' (e.g. http://127.0.0.1:8081) is required");
        if (cfg_.zone.empty()) throw Error("powerdns: 'zone' is required");
        cfg_.zone = canonical_name(cfg_.zone);
        if (cfg_.server_id.empty()) cfg_.server_id = "localhost";
        zone_path_ =
            "/api/v1/servers/" + http::form_encode(cfg_.server_id) + "/zones/" + http::form_encode(cfg_.zone);
        client_.set_headers({{"X-API-Key", cfg_.api_key}});
        client_.set_timeout_ms(cfg_.timeout_ms);
    }

    void ping() override { load_zone(); }

    std::optional<RRset> get(const std::string& name, const std::string& type) override {
        std::string want = canonical_name(name);
        json::Value zone = load_zone();
        for (json::Ref rs : zone["rrsets"].items()) {
            if (!same_name(rs["name"].str(), want) || rs["type"].str() != type) continue;
            RRset out;
            out.name = want;
            out.type = type;
            out.ttl = int(rs["ttl"].int_or(out.ttl));
            for (json::Ref rec : rs["records"].items())
                if (!rec["disabled"].bool_or(false)) out.records.push_back(rec["content"].str());
            if (out.records.empty()) return std::nullopt;  // only disabled records: not served
            return out;
        }
        return std::nullopt;
    }

    void replace(const RRset& rrset) override {
        std::string name = checked_rrset("powerdns", rrset, cfg_.zone, 0);
        json::Value records{json::Value::Array{}};
        for (const auto& addr : rrset.records)
            records.push(json::Value{}.set("content", addr).set("disabled", false));
        json::Value set;
        set.set("name", name)
            .set("type", rrset.type)
            .set("ttl", rrset.ttl)
            .set("changetype", "REPLACE")
            .set("records", std::move(records));
        json::Value body;
        body.set("rrsets", json::Value{json::Value::Array{}}.push(std::move(set)));

        http::Response r = call("PATCH", json::dump(body));
        if (r.status == 204 || r.status == 200) return;
        throw_for(r, "replacing " + name + " " + rrset.type);
    }

    std::string describe() const override {
        return "powerdns " + cfg_.api + " zone " + cfg_.zone;  // never the key
    }

private:
    http::Response call(const std::string& method, const std::string& body = {}) {
        http::Response r = client_.call(method, zone_path_, body);
        if (r.status == 0)
            throw Error(redactor().mask("PowerDNS API unreachable at " + cfg_.api + ": " + r.error));
        return r;
    }

    json::Value load_zone() {
        http::Response r = call("GET");
        if (r.status != 200) throw_for(r, "reading zone " + cfg_.zone, true);
        try {
            json::Value v = json::parse(r.body);
            if (!v.is_object()) throw Error("PowerDNS at " + cfg_.api + ": zone answer is not a JSON object");
            return v;
        } catch (const json::ParseError& e) {
            throw Error("PowerDNS at " + cfg_.api + ": unreadable zone answer: " + e.what());
        }
    }

    [[noreturn]] void throw_for(const http::Response& r, const std::string& doing, bool reading = false) const {
        std::string why;
        try {
            why = json::parse(r.body)["error"].str();
        } catch (const json::ParseError&) {
        }
        if (why.empty()) why = r.body.substr(0, 200);
        why = util::trim_right(why, "\r\n");
        std::string suffix = why.empty() ? "" : " (" + why + ")";
        std::string detail = answer_detail(r);  // the whole answer (bounded) for -v
        if (r.status == 401 || r.status == 403)
            throw Error(
                "PowerDNS at " + cfg_.api + " refused the API key (HTTP " + std::to_string(r.status) + ")",
                kExitRuntime, detail);
        // 404 is a missing zone (or server id); older PowerDNS said 422 on reads for that.
        if (r.status == 404 || (r.status == 422 && reading))
            throw Error("PowerDNS at " + cfg_.api + ": zone " + cfg_.zone + " not found on server '" +
                            cfg_.server_id + "' (HTTP " + std::to_string(r.status) + ")" + suffix,
                        kExitRuntime, detail);
        throw Error(
            "PowerDNS at " + cfg_.api + ": " + doing + " failed: HTTP " + std::to_string(r.status) + suffix,
            kExitRuntime, detail);
    }

    BackendConfig cfg_;
    http::ApiClient client_;
    std::string zone_path_;
};

}  // namespace

std::unique_ptr<DnsBackend> make_powerdns(const BackendConfig& cfg) { return std::make_unique<PowerDns>(cfg); }

}  // namespace decamp::dns
