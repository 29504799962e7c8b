// A fake Hetzner Cloud API on 127.0.0.1, speaking the documented wire format (field names from
// hcloud-go's schema): Bearer auth, `{"error":{"code","message"}}` envelopes, pagination meta,
// RateLimit-* headers and 429 rate_limit_exceeded, actions that stay "running" for a few polls
// before success (or error), GET /actions?id=… with ids required; DNS zones and their rrsets
// (GET /zones/{name}, GET/POST /zones/{z}/rrsets[/{name}/{type}], the set_records and
// change_ttl actions, applied when the action succeeds).
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fake_http.hpp"
#include "util/api_client.hpp"
#include "util/json.hpp"

namespace decamp::test {

class FakeHetznerCloud {
public:
    struct Srv {
        int64_t id;
        std::string name, status, server_type, image, location, ipv4, ipv6, user_data;
        std::vector<int64_t> ssh_keys;
        bool rescue = false;
    };
    struct Action {
        int64_t id;
        std::string command;
        int polls_left;
        std::string error_code;  // "" = success
        int64_t server = 0;
        std::string after;  // status the server takes on success
        std::function<void()> apply = {};  // what a DNS action changes once it succeeds
    };
    struct Rrset {
        std::string name, type;  // relative: "www", "@"
        std::optional<int> ttl;  // none: the zone's default
        std::vector<std::string> values;
    };

    // Knobs a test turns (under the lock; read by the handler).
    std::string token = "hcloud-token-0123456789";
    int throttle_next = 0;         // answer that many requests with 429
    int action_polls = 2;          // polls an action stays running
    std::string fail_next_action;  // error code of the next action
    bool actions_never_finish = false;
    int per_page_max = 2;         // small, so listing pages
    int remaining_zero_once = 0;  // answers that say RateLimit-Remaining: 0
    int unavailable_next = 0;     // answer that many requests with 503 maintenance
    int locked_next = 0;          // answer that many requests with 423 locked
    std::string zone = "example.test";  // the one DNS zone (primary mode)
    int zone_ttl = 3600;
    bool quote_token = false;  // a hostile API: a 401 quotes the token it was sent

    FakeHetznerCloud() : http_([this](const HttpRequest& r) { return handle(r); }) {}

    std::string url() const { return http_.url("/v1"); }
    std::vector<HttpRequest> seen() { return http_.seen(); }
    std::mutex& mu() { return mu_; }
    std::vector<Srv> servers() {
        std::lock_guard lock(mu_);
        return servers_;
    }
    void add_server(const std::string& name, const std::string& status = "running") {
        std::lock_guard lock(mu_);
        servers_.push_back(new_server(name, "cx22", "debian-12", "fsn1", status));
    }
    void add_key(const std::string& name, const std::string& public_key) {
        std::lock_guard lock(mu_);
        keys_.push_back({next_id_++, name, public_key});
    }
    void add_rrset(const std::string& name, const std::string& type, std::optional<int> ttl,
                   std::vector<std::string> values) {
        std::lock_guard lock(mu_);
        rrsets_.push_back({name, type, ttl, std::move(values)});
    }
    std::vector<Rrset> rrsets() {
        std::lock_guard lock(mu_);
        return rrsets_;
    }
    int count(const std::string& method, const std::string& path_prefix) {
        int n = 0;
        for (const auto& r : http_.seen())
            if (r.method == method && r.path.rfind(path_prefix, 0) == 0) ++n;
        return n;
    }

private:
    static HttpReply error(int status, const std::string& code, const std::string& message) {
        json::Value e, v;
        e.set("code", code);
        e.set("message", message);
        e.set("details", json::Value(json::Value::Object{}));
        v.set("error", std::move(e));
        return {status, json::dump(v), {}};
    }

    Srv new_server(const std::string& name, const std::string& type, const std::string& image,
                   const std::string& loc, const std::string& status) {
        int64_t id = next_id_++;
        return Srv{id,
                   name,
                   status,
                   type,
                   image,
                   loc,
                   "198.18.7." + std::to_string(id % 250 + 1),
                   "2001:db8:7::" + std::to_string(id) + "/64",
                   "",
                   {},
                   false};
    }

    json::Value server_json(const Srv& s) {
        json::Value v, ipv4, ipv6, net, st, im, dc, loc;
        v.set("id", s.id);
        v.set("name", s.name);
        v.set("status", s.status);
        ipv4.set("ip", s.ipv4);
        ipv6.set("ip", s.ipv6);
        net.set("ipv4", std::move(ipv4));
        net.set("ipv6", std::move(ipv6));
        v.set("public_net", std::move(net));
        st.set("name", s.server_type);
        v.set("server_type", std::move(st));
        im.set("name", s.image);
        v.set("image", std::move(im));
        loc.set("name", s.location);
        dc.set("location", std::move(loc));
        v.set("datacenter", std::move(dc));
        v.set("rescue_enabled", s.rescue);
        return v;
    }

    json::Value action_json(const Action& a) {
        json::Value v;
        v.set("id", a.id);
        v.set("command", a.command);
        bool running = actions_never_finish || a.polls_left > 0;
        v.set("status", running ? "running" : a.error_code.empty() ? "success" : "error");
        v.set("progress", running ? 50 : 100);
        if (!running && !a.error_code.empty()) {
            json::Value e;
            e.set("code", a.error_code);
            e.set("message", "the fake failed " + a.command);
            v.set("error", std::move(e));
        } else {
            v.set("error", nullptr);
        }
        return v;
    }

    json::Value start_action(const std::string& command, int64_t server, const std::string& after) {
        Action a{next_action_++, command, action_polls, fail_next_action, server, after};
        fail_next_action.clear();
        actions_.push_back(a);
        return action_json(a);
    }

    Srv* find(int64_t id) {
        for (auto& s : servers_)
            if (s.id == id) return &s;
        return nullptr;
    }

    HttpReply handle(const HttpRequest& r) {
        std::lock_guard lock(mu_);
        HttpReply rep = route(r);
        long long reset = http::unix_now() + 1;
        int remaining = 3599;
        if (remaining_zero_once > 0) {
            --remaining_zero_once;
            remaining = 0;
        }
        rep.headers.emplace_back("RateLimit-Limit", "3600");
        rep.headers.emplace_back("RateLimit-Remaining", rep.status == 429 ? "0" : std::to_string(remaining));
        rep.headers.emplace_back("RateLimit-Reset", std::to_string(reset));
        return rep;
    }

    HttpReply route(const HttpRequest& r) {
        if (r.header("authorization") != "Bearer " + token)
            return error(
                401, "unauthorized",
                "unable to authenticate" + (quote_token ? " with " + r.header("authorization") : ""));
        if (unavailable_next > 0) {
            --unavailable_next;
            return error(503, "maintenance", "cannot perform operation due to maintenance");
        }
        if (locked_next > 0) {
            --locked_next;
            return error(423, "locked", "server is locked by another action");
        }
        if (throttle_next > 0) {
            --throttle_next;
            return error(429, "rate_limit_exceeded", "limit of 3600 requests per hour reached");
        }
        json::Value body;
        if (!r.body.empty()) {
            try {
                body = json::parse(r.body);
            } catch (const std::exception&) {
                return error(400, "json_error", "invalid JSON");
            }
        }
        const std::string& p = r.path;
        if (r.method == "GET" && p == "/v1/servers") {
            int page = r.param("page").empty() ? 1 : std::stoi(r.param("page"));
            int per =
                std::min(per_page_max, r.param("per_page").empty() ? 25 : std::stoi(r.param("per_page")));
            json::Value list = json::Value(json::Value::Array{});
            size_t from = size_t((page - 1) * per);
            for (size_t i = from; i < servers_.size() && i < from + size_t(per); ++i)
                list.push(server_json(servers_[i]));
            int last = std::max(1, int((servers_.size() + size_t(per) - 1) / size_t(per)));
            json::Value pag, meta, v;
            pag.set("page", page);
            pag.set("per_page", per);
            pag.set("previous_page", page > 1 ? json::Value(page - 1) : json::Value());
            pag.set("next_page", page < last ? json::Value(page + 1) : json::Value());
            pag.set("last_page", last);
            pag.set("total_entries", int64_t(servers_.size()));
            meta.set("pagination", std::move(pag));
            v.set("servers", std::move(list));
            v.set("meta", std::move(meta));
            return {200, json::dump(v), {}};
        }
        if (r.method == "POST" && p == "/v1/servers") {
            std::string name = body["name"].str();
            for (const auto& s : servers_)
                if (s.name == name) return error(409, "uniqueness_error", "server name is already used");
            if (body["server_type"].str().empty() || body["image"].str().empty())
                return error(422, "invalid_input", "invalid input in fields 'server_type', 'image'");
            Srv s = new_server(name, body["server_type"].str(), body["image"].str(), body["location"].str(),
                               "initializing");
            s.user_data = body["user_data"].str();
            for (auto k : body["ssh_keys"].items()) s.ssh_keys.push_back(k.int_or(0));
            servers_.push_back(s);
            json::Value v;
            v.set("server", server_json(s));
            v.set("action", start_action("create_server", s.id, "running"));
            json::Value next = json::Value(json::Value::Array{});
            next.push(start_action("start_server", s.id, "running"));
            v.set("next_actions", std::move(next));
            v.set("root_password", nullptr);
            return {201, json::dump(v), {}};
        }
        if (r.method == "GET" && p.rfind("/v1/servers/", 0) == 0 && p.find("/actions") == std::string::npos) {
            Srv* s = find(std::stoll(p.substr(12)));
            if (!s) return error(404, "not_found", "server not found");
            json::Value v;
            v.set("server", server_json(*s));
            return {200, json::dump(v), {}};
        }
        if (r.method == "POST" && p.rfind("/v1/servers/", 0) == 0 &&
            p.find("/actions/") != std::string::npos) {
            size_t a = p.find("/actions/");
            Srv* s = find(std::stoll(p.substr(12, a - 12)));
            if (!s) return error(404, "not_found", "server not found");
            std::string what = p.substr(a + 9);
            json::Value v;
            if (what == "rebuild") {
                if (body["image"].str().empty()) return error(422, "invalid_input", "image is required");
                s->image = body["image"].str();
                s->user_data = body["user_data"].str();
                v.set("action", start_action("rebuild_server", s->id, "running"));
                v.set("root_password", nullptr);
            } else if (what == "enable_rescue") {
                s->rescue = true;
                v.set("action", start_action("enable_rescue", s->id, s->status));
                v.set("root_password", "rescue-root-pw-123456");
            } else if (what == "poweron" || what == "reboot" || what == "reset") {
                v.set("action",
                      start_action(what == "poweron" ? "start_server" : what + "_server", s->id, "running"));
            } else if (what == "poweroff" || what == "shutdown") {
                v.set("action",
                      start_action(what == "poweroff" ? "stop_server" : "shutdown_server", s->id, "off"));
            } else {
                return error(404, "not_found", "no such action");
            }
            return {201, json::dump(v), {}};
        }
        if (r.method == "GET" && p == "/v1/actions") {
            auto ids = r.params("id");
            if (ids.empty()) return error(400, "invalid_input", "id is required");
            json::Value list = json::Value(json::Value::Array{});
            for (auto& a : actions_) {
                bool wanted = false;
                for (const auto& id : ids) wanted = wanted || std::to_string(a.id) == id;
                if (!wanted) continue;
                if (a.polls_left > 0 && !actions_never_finish) {
                    --a.polls_left;
                    if (a.polls_left == 0 && a.error_code.empty()) {
                        if (Srv* s = find(a.server)) s->status = a.after;
                        if (a.apply) a.apply();
                    }
                }
                list.push(action_json(a));
            }
            json::Value v;
            v.set("actions", std::move(list));
            return {200, json::dump(v), {}};
        }
        if (p.rfind("/v1/zones/", 0) == 0) return zones(r, p.substr(10), body);
        if (r.method == "GET" && p == "/v1/ssh_keys") {
            json::Value list = json::Value(json::Value::Array{});
            for (const auto& k : keys_)
                if (r.param("name").empty() || k.set_name == r.param("name")) {
                    json::Value v;
                    v.set("id", k.id);
                    v.set("name", k.set_name);
                    v.set("public_key", k.public_key);
                    list.push(std::move(v));
                }
            json::Value v;
            v.set("ssh_keys", std::move(list));
            return {200, json::dump(v), {}};
        }
        if (r.method == "POST" && p == "/v1/ssh_keys") {
            for (const auto& k : keys_)
                if (k.set_name == body["name"].str() || k.public_key == body["public_key"].str())
                    return error(409, "uniqueness_error", "SSH key with the same fingerprint already exists");
            keys_.push_back({next_id_++, body["name"].str(), body["public_key"].str()});
            json::Value k, v;
            k.set("id", keys_.back().id);
            k.set("name", keys_.back().set_name);
            k.set("public_key", keys_.back().public_key);
            v.set("ssh_key", std::move(k));
            return {201, json::dump(v), {}};
        }
        if (r.method == "GET" && p == "/v1/server_types") {
            json::Value list = json::Value(json::Value::Array{});
            if (r.param("name") == "cx22") {
                json::Value t, prices = json::Value(json::Value::Array{});
                for (const char* loc : {"fsn1", "hel1"}) {
                    json::Value pr, monthly, hourly;
                    pr.set("location", loc);
                    hourly.set("net", "0.0060000000");
                    hourly.set("gross", "0.0071400000000000");
                    monthly.set("net", "3.7900000000");
                    monthly.set("gross",
                                std::string(loc) == "fsn1" ? "4.5101000000000000" : "4.6000000000000000");
                    pr.set("price_hourly", std::move(hourly));
                    pr.set("price_monthly", std::move(monthly));
                    prices.push(std::move(pr));
                }
                t.set("name", "cx22");
                t.set("prices", std::move(prices));
                list.push(std::move(t));
            }
            json::Value v;
            v.set("server_types", std::move(list));
            return {200, json::dump(v), {}};
        }
        return error(404, "not_found", "no route " + r.method + " " + p);
    }

    static json::Value rrset_json(const Rrset& x) {
        json::Value recs = json::Value(json::Value::Array{});
        for (const auto& v : x.values) recs.push(json::Value{}.set("value", v).set("comment", ""));
        return json::Value{}
            .set("id", x.name + "/" + x.type)
            .set("name", x.name)
            .set("type", x.type)
            .set("ttl", x.ttl ? json::Value(*x.ttl) : json::Value())
            .set("records", std::move(recs));
    }
    Rrset* find_rrset(const std::string& name, const std::string& type) {
        for (auto& x : rrsets_)
            if (x.name == name && x.type == type) return &x;
        return nullptr;
    }
    static std::vector<std::string> values_of(json::Ref records) {
        std::vector<std::string> out;
        for (auto rec : records.items()) out.push_back(rec["value"].str());
        return out;
    }
    static bool ttl_ok(json::Ref ttl) {
        return ttl.is_null() || (ttl.int_or(0) >= 60 && ttl.int_or(0) <= 2147483647);
    }

    // /zones/{zone}[/rrsets[/{name}/{type}[/actions/{what}]]]
    HttpReply zones(const HttpRequest& r, const std::string& rest, json::Ref body) {
        std::vector<std::string> part;
        for (size_t at = 0; at <= rest.size();) {
            size_t slash = rest.find('/', at);
            std::string one = rest.substr(at, slash == std::string::npos ? std::string::npos : slash - at);
            part.push_back(one == "%40" ? "@" : one);
            if (slash == std::string::npos) break;
            at = slash + 1;
        }
        if (part[0] != zone) return error(404, "not_found", "zone not found");
        if (part.size() == 1 && r.method == "GET") {
            json::Value z;
            z.set("id", 4711)
                .set("name", zone)
                .set("mode", "primary")
                .set("ttl", zone_ttl)
                .set("status", "ok");
            return {200, json::dump(json::Value{}.set("zone", std::move(z))), {}};
        }
        if (part.size() == 2 && part[1] == "rrsets" && r.method == "POST") {
            if (find_rrset(body["name"].str(), body["type"].str()))
                return error(409, "uniqueness_error", "rrset already exists");
            if (!ttl_ok(body["ttl"])) return error(422, "invalid_input", "invalid input in field 'ttl'");
            Rrset x{body["name"].str(), body["type"].str(), std::nullopt, values_of(body["records"])};
            if (body["ttl"].is_number()) x.ttl = int(body["ttl"].int_or(0));
            json::Value v;
            v.set("rrset", rrset_json(x));
            v.set("action", start_action("create_rrset", 0, ""));
            actions_.back().apply = [this, x] { rrsets_.push_back(x); };
            return {201, json::dump(v), {}};
        }
        if (part.size() < 4 || part[1] != "rrsets")
            return error(404, "not_found", "no route " + r.method + " " + r.path);
        Rrset* x = find_rrset(part[2], part[3]);
        if (!x) return error(404, "not_found", "rrset not found");
        if (part.size() == 4 && r.method == "GET")
            return {200, json::dump(json::Value{}.set("rrset", rrset_json(*x))), {}};
        if (part.size() == 6 && part[4] == "actions" && r.method == "POST") {
            std::string name = x->name, type = x->type;
            json::Value v;
            if (part[5] == "set_records") {
                auto values = values_of(body["records"]);
                if (values.empty()) return error(422, "invalid_input", "records must not be empty");
                v.set("action", start_action("set_rrset_records", 0, ""));
                actions_.back().apply = [this, name, type, values] {
                    find_rrset(name, type)->values = values;
                };
            } else if (part[5] == "change_ttl") {
                if (!ttl_ok(body["ttl"])) return error(422, "invalid_input", "invalid input in field 'ttl'");
                std::optional<int> ttl;
                if (body["ttl"].is_number()) ttl = int(body["ttl"].int_or(0));
                v.set("action", start_action("change_rrset_ttl", 0, ""));
                actions_.back().apply = [this, name, type, ttl] { find_rrset(name, type)->ttl = ttl; };
            } else {
                return error(404, "not_found", "no such action");
            }
            return {201, json::dump(v), {}};
        }
        return error(404, "not_found", "no route " + r.method + " " + r.path);
    }

    struct Key {
        int64_t id;
        std::string set_name, public_key;
    };
    std::mutex mu_;
    std::vector<Srv> servers_;
    std::vector<Action> actions_;
    std::vector<Key> keys_;
    std::vector<Rrset> rrsets_;
    int64_t next_id_ = 42;
    int64_t next_action_ = 1000;
    FakeHttpServer http_;  // last: its thread starts once the fake's state exists
};

}  // namespace decamp::test
