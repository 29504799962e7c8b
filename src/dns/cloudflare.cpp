#include "dns/cloudflare.hpp"

#include <algorithm>

#include "dns/api_backend.hpp"
#include "dns/packet.hpp"
#include "util/api_client.hpp"
#include "util/json.hpp"

namespace decamp::dns {

namespace {

const char* kDefaultApi = "https://api.cloudflare.com/client/v4";
// Cloudflare's "automatic" TTL; it serves 300 s for it.
constexpr int kAutomaticTtl = 1;
constexpr int kAutomaticMeans = 300;

// Cloudflare names carry no trailing dot.
std::string bare(const std::string& name) {
    return name.size() > 1 && name.back() == '.' ? name.substr(0, name.size() - 1) : name;
}

// "code: message; code: message" from the v4 envelope's errors[].
std::string errors_of(const http::Response& r) {
    std::string out;
    try {
        json::Value v = json::parse(r.body);
        for (json::Ref e : v["errors"].items()) {
            std::string one = e["message"].str();
            if (e["code"].is_number()) one = std::to_string(e["code"].int_or(0)) + ": " + one;
            out += (out.empty() ? "" : "; ") + one;
        }
    } catch (const json::ParseError&) {
    }
    return out;
}

struct Record {
    std::string id, content;
    int ttl = 0;
};

class Cloudflare : public DnsBackend {
public:
    // 429 waits as Retry-After says (up to the 5-minute block); 500-504 are retried with
    // backoff, the writes being idempotent; 400/401/403/404 are the caller's mistake.
    explicit Cloudflare(const BackendConfig& cfg)
        : cfg_(cfg),
          client_(cfg.api.empty() ? kDefaultApi : cfg.api, "Cloudflare API",
                  http::retry_policy({{429}, {500}, 1000, {}})) {
        if (cfg_.zone.empty()) throw Error("cloudflare: 'zone' is required");
        if (cfg_.api_key.empty()) throw Error("cloudflare: 'api_token' is required");
        cfg_.zone = canonical_name(cfg_.zone);
        client_.set_headers({{"Authorization", "Bearer " + cfg_.api_key}});
        client_.set_timeout_ms(std::max(cfg_.timeout_ms, 10000));
    }

    void ping() override { zone_id(); }

    std::optional<RRset> get(const std::string& name, const std::string& type) override {
        std::string want = canonical_name(name);
        std::vector<Record> recs = records(want, type);
        if (recs.empty()) return std::nullopt;
        RRset out;
        out.name = want;
        out.type = type;
        out.ttl = recs[0].ttl == kAutomaticTtl ? kAutomaticMeans : recs[0].ttl;
        for (const auto& r : recs) out.records.push_back(r.content);
        return out;
    }

    // One batch: records whose address stays keep their id (their TTL patched when it
    // changes), records whose address goes are patched to a new address while there are
    // new ones, the rest deleted, and what is left of the new addresses posted. Nothing is
    // sent when the RRset is already as asked.
    void replace(const RRset& rrset) override {
        std::string name = checked_rrset("cloudflare", rrset, cfg_.zone, min_ttl("cloudflare"));
        std::vector<Record> have = records(name, rrset.type);
        std::vector<std::string> add;
        for (const auto& a : rrset.records)
            if (std::find(add.begin(), add.end(), a) == add.end()) add.push_back(a);
        std::vector<Record> stale;
        json::Value patches{json::Value::Array{}}, deletes{json::Value::Array{}}, posts{json::Value::Array{}};
        for (const auto& r : have) {
            auto kept = std::find(add.begin(), add.end(), r.content);
            if (kept == add.end()) {
                stale.push_back(r);
                continue;
            }
            add.erase(kept);
            if (r.ttl != rrset.ttl) patches.push(json::Value{}.set("id", r.id).set("ttl", rrset.ttl));
        }
        for (const auto& r : stale) {
            if (add.empty()) {
                deletes.push(json::Value{}.set("id", r.id));
                continue;
            }
            patches.push(json::Value{}.set("id", r.id).set("content", add.back()).set("ttl", rrset.ttl));
            add.pop_back();
        }
        for (const auto& a : add)
            posts.push(json::Value{}
                           .set("name", bare(name))
                           .set("type", rrset.type)
                           .set("content", a)
                           .set("ttl", rrset.ttl)
                           .set("proxied", false));
        if (patches.size() + deletes.size() + posts.size() == 0) return;
        json::Value body;
        if (deletes.size()) body.set("deletes", std::move(deletes));
        if (patches.size()) body.set("patches", std::move(patches));
        if (posts.size()) body.set("posts", std::move(posts));
        api("POST", "/zones/" + zone_id() + "/dns_records/batch", json::dump(body),
            "replacing " + name + " " + rrset.type);
    }

    std::string describe() const override {
        return "cloudflare " + client_.base_url() + " zone " + cfg_.zone;  // never the token
    }

private:
    // The answer's envelope once `success` is true; otherwise an Error with errors[].
    json::Value api(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& doing) {
        http::Response r = client_.call(method, path, body);
        json::Value v;
        try {
            v = json::parse(r.body);
        } catch (const json::ParseError&) {
            if (r.status >= 200 && r.status < 300)
                throw_api_error(describe(), doing, r, "the answer is not JSON");
        }
        if (r.status >= 200 && r.status < 300 && v["success"].bool_or(false)) return v;
        if (r.status >= 200 && r.status < 300 && errors_of(r).empty())
            throw_api_error(describe(), doing, r, "the answer does not say success");
        throw_api_error(describe(), doing, r, errors_of(r));
    }

    const std::string& zone_id() {
        if (!zone_id_.empty()) return zone_id_;
        std::string doing = "looking up zone " + cfg_.zone;
        json::Value zones = api("GET", "/zones?name=" + http::form_encode(bare(cfg_.zone)), "", doing);
        for (json::Ref z : zones["result"].items())
            if (same_name(z["name"].str(), cfg_.zone) && !z["id"].str().empty()) zone_id_ = z["id"].str();
        if (zone_id_.empty())
            throw Error(describe() + ": the token sees no zone named " + bare(cfg_.zone) +
                        " (is it in this account, and does the token have Zone:Read on it?)");
        return zone_id_;
    }

    // Every record of `type` at `name`, through all pages.
    std::vector<Record> records(const std::string& name, const std::string& type) {
        std::vector<Record> out;
        for (int page = 1;; ++page) {
            std::string path = "/zones/" + zone_id() + "/dns_records?type=" + http::form_encode(type) +
                               "&name=" + http::form_encode(bare(name)) +
                               "&per_page=100&page=" + std::to_string(page);
            json::Value v = api("GET", path, "", "reading " + name + " " + type);
            for (json::Ref rec : v["result"].items()) {
                if (rec["type"].str() != type || !same_name(rec["name"].str(), name)) continue;
                out.push_back({rec["id"].str(), rec["content"].str(), int(rec["ttl"].int_or(kAutomaticTtl))});
            }
            int64_t pages = v["result_info"]["total_pages"].int_or(1);
            if (page >= pages || page >= 1000) break;
        }
        return out;
    }

    BackendConfig cfg_;
    http::ApiClient client_;
    std::string zone_id_;
};

}  // namespace

std::unique_ptr<DnsBackend> make_cloudflare(const BackendConfig& cfg) {
    return std::make_unique<Cloudflare>(cfg);
}

}  // namespace decamp::dns
