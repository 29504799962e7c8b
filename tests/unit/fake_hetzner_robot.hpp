// A fake Hetzner Robot webservice on 127.0.0.1: HTTP Basic auth with the lockout after three
// failed logins, form-encoded bodies (key[] and key[0] lists), answers wrapped as
// {"server":{…}}, errors as {"error":{"status","code","message"}}, the rate limit as 403
// RATE_LIMIT_EXCEEDED with max_requests and interval, and rescue / Linux-install activations
// whose answers carry host_key fingerprints.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "fake_http.hpp"
#include "util/json.hpp"
#include "util/shell.hpp"

namespace decamp::test {

class FakeHetznerRobot {
public:
    std::string user = "robot-ws-user", password = "robot-ws-password-1";
    int failed_logins = 0;
    int rate_limit_next = 0;
    struct Srv {
        int64_t number;
        std::string ip, name, product, status;
        std::string rescue_key, linux_dist;
        bool rescue = false, linux = false;
        std::vector<std::string> resets;
    };
    std::vector<Srv> servers = {{321, "198.18.8.21", "", "EX44", "ready", "", "", false, false, {}},
                                {322, "198.18.8.22", "", "EX44", "ready", "", "", false, false, {}}};
    struct Key {
        std::string name, fingerprint, data;
    };
    std::vector<Key> keys;
    // Server orders (POST /order/server/transaction): "in process" until polled `ready_after`
    // times, then "ready" with a new server; never ready when `never_ready`.
    struct Transaction {
        std::string id, product, location, dist, status = "in process";
        std::vector<std::string> authorized_key;
        int polls = 0;
        int64_t server_number = 0;
    };
    std::vector<Transaction> transactions;
    int ready_after = 2;
    bool never_ready = false;

    FakeHetznerRobot() : http_([this](const HttpRequest& r) { return handle(r); }) {}
    std::string url() const { return http_.url(""); }
    std::vector<HttpRequest> seen() { return http_.seen(); }
    std::mutex& mu() { return mu_; }
    int count(const std::string& method, const std::string& prefix) {
        int n = 0;
        for (const auto& r : http_.seen()) n += r.method == method && r.path.rfind(prefix, 0) == 0;
        return n;
    }
    Srv* find(int64_t n) {
        for (auto& s : servers)
            if (s.number == n) return &s;
        return nullptr;
    }

    static std::string url_decode(const std::string& s) {
        std::string out;
        for (size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '+')
                out += ' ';
            else if (s[i] == '%' && i + 2 < s.size()) {
                out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
                i += 2;
            } else
                out += s[i];
        }
        return out;
    }
    // name → values; "k[]" and "k[0]", "k[1]" both gather under "k".
    static std::map<std::string, std::vector<std::string>> form(const std::string& body) {
        std::map<std::string, std::vector<std::string>> out;
        size_t start = 0;
        while (start < body.size()) {
            size_t amp = body.find('&', start);
            std::string kv = body.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
            size_t eq = kv.find('=');
            std::string k = url_decode(kv.substr(0, eq));
            if (size_t br = k.find('['); br != std::string::npos) k = k.substr(0, br);
            out[k].push_back(eq == std::string::npos ? "" : url_decode(kv.substr(eq + 1)));
            if (amp == std::string::npos) break;
            start = amp + 1;
        }
        return out;
    }

private:
    static HttpReply error(int status, const std::string& code, const std::string& message) {
        json::Value e, v;
        e.set("status", status);
        e.set("code", code);
        e.set("message", message);
        v.set("error", std::move(e));
        return {status, json::dump(v), {}};
    }

    static json::Value host_keys() {
        json::Value list = json::Value(json::Value::Array{});
        json::Value k;
        k.set("fingerprint", "SHA256:fakeRescueEd25519KeyFingerprint0123456789abc");
        k.set("type", "ED25519");
        k.set("size", 256);
        list.push(std::move(k));
        return list;
    }

    std::string transaction_json(const Transaction& t) {
        json::Value o, w;
        o.set("id", t.id);
        o.set("date", "2026-12-03T15:00:00+01:00");
        o.set("status", t.status);
        if (t.server_number) {
            o.set("server_number", t.server_number);
            o.set("server_ip", find(t.server_number)->ip);
        } else {
            o.set("server_number", nullptr);
            o.set("server_ip", nullptr);
        }
        json::Value ak = json::Value(json::Value::Array{});
        for (const auto& k : t.authorized_key) ak.push(k);
        o.set("authorized_key", std::move(ak));
        o.set("host_key", t.status == "ready" ? host_keys() : json::Value(json::Value::Array{}));
        json::Value product;
        product.set("id", t.product);
        o.set("product", std::move(product));
        w.set("transaction", std::move(o));
        return json::dump(w);
    }

    HttpReply handle(const HttpRequest& r) {
        std::lock_guard lock(mu_);
        if (failed_logins >= 3)
            return error(401, "UNAUTHORIZED", "blocked for 10 minutes after 3 failed logins");
        if (r.header("authorization") != "Basic " + shell::base64(user + ":" + password)) {
            ++failed_logins;
            return error(401, "UNAUTHORIZED", "Unauthorized");
        }
        if (rate_limit_next > 0) {
            --rate_limit_next;
            json::Value e, v;
            e.set("status", 403);
            e.set("code", "RATE_LIMIT_EXCEEDED");
            e.set("max_requests", 200);
            e.set("interval", 3600);
            e.set("message", "Rate limit exceeded");
            v.set("error", std::move(e));
            return {403, json::dump(v), {}};
        }
        if (r.method != "GET" && r.method != "DELETE" &&
            r.header("content-type") != "application/x-www-form-urlencoded")
            return error(400, "INVALID_INPUT", "form-encoded body expected");
        auto f = form(r.body);
        const std::string& p = r.path;
        if (r.method == "GET" && p == "/server") {
            json::Value list = json::Value(json::Value::Array{});
            for (const auto& s : servers) {
                json::Value o, w;
                o.set("server_ip", s.ip);
                o.set("server_ipv6_net", "2a01:4f8:1::");
                o.set("server_number", s.number);
                o.set("server_name", s.name);
                o.set("product", s.product);
                o.set("dc", "FSN1-DC14");
                o.set("status", s.status);
                w.set("server", std::move(o));
                list.push(std::move(w));
            }
            return {200, json::dump(list), {}};
        }
        if (r.method == "GET" && p == "/key") {
            if (keys.empty()) return error(404, "NOT_FOUND", "No keys found");
            json::Value list = json::Value(json::Value::Array{});
            for (const auto& k : keys) {
                json::Value o, w;
                o.set("name", k.name);
                o.set("fingerprint", k.fingerprint);
                o.set("data", k.data);
                w.set("key", std::move(o));
                list.push(std::move(w));
            }
            return {200, json::dump(list), {}};
        }
        if (r.method == "POST" && p == "/key") {
            if (f["name"].empty() || f["data"].empty()) return error(400, "INVALID_INPUT", "invalid input");
            keys.push_back({f["name"][0], "d7:2e:00:aa:" + std::to_string(keys.size()), f["data"][0]});
            json::Value o, w;
            o.set("name", keys.back().name);
            o.set("fingerprint", keys.back().fingerprint);
            o.set("data", keys.back().data);
            w.set("key", std::move(o));
            return {201, json::dump(w), {}};
        }
        auto number = [&](const std::string& prefix) -> Srv* {
            if (p.rfind(prefix, 0) != 0) return nullptr;
            return find(std::atoll(p.substr(prefix.size()).c_str()));
        };
        if (p.rfind("/boot/", 0) == 0) {
            Srv* s = number("/boot/");
            if (!s) return error(404, "SERVER_NOT_FOUND", "server not found");
            bool rescue = p.find("/rescue") != std::string::npos;
            bool& active = rescue ? s->rescue : s->linux;
            if (r.method == "DELETE") {
                active = false;
                return {200, "{}", {}};
            }
            if (r.method != "POST") return error(404, "NOT_FOUND", "no route");
            if (active) return error(409, "BOOT_ALREADY_ENABLED", "boot option already active");
            for (const auto& fp : f["authorized_key"]) {
                bool known = false;
                for (const auto& k : keys) known = known || k.fingerprint == fp;
                if (!known) return error(404, "KEY_NOT_FOUND", "key not found");
            }
            active = true;
            json::Value o, w;
            o.set("server_ip", s->ip);
            o.set("server_number", s->number);
            o.set("active", true);
            o.set("password", f["authorized_key"].empty() ? "robot-generated-pw-42" : "");
            json::Value ak = json::Value(json::Value::Array{});
            for (const auto& fp : f["authorized_key"]) ak.push(fp);
            o.set("authorized_key", std::move(ak));
            o.set("host_key", host_keys());
            if (rescue) {
                o.set("os", f["os"].empty() ? "" : f["os"][0]);
                w.set("rescue", std::move(o));
            } else {
                if (f["dist"].empty()) return error(400, "INVALID_INPUT", "missing dist");
                s->linux_dist = f["dist"][0];
                o.set("dist", s->linux_dist);
                o.set("lang", "en");
                w.set("linux", std::move(o));
            }
            return {200, json::dump(w), {}};
        }
        if (r.method == "POST" && p == "/order/server/transaction") {
            if (f["product_id"].empty()) return error(400, "INVALID_INPUT", "missing product_id");
            for (const auto& fp : f["authorized_key"]) {
                bool known = false;
                for (const auto& k : keys) known = known || k.fingerprint == fp;
                if (!known) return error(404, "KEY_NOT_FOUND", "key not found");
            }
            Transaction t;
            t.id = "B20261203-3249571-" + std::to_string(700000 + transactions.size());
            t.product = f["product_id"][0];
            t.location = f["location"].empty() ? "" : f["location"][0];
            t.dist = f["dist"].empty() ? "" : f["dist"][0];
            t.authorized_key = f["authorized_key"];
            transactions.push_back(t);
            return {201, transaction_json(transactions.back()), {}};
        }
        if (r.method == "GET" && p.rfind("/order/server/transaction/", 0) == 0) {
            std::string id = p.substr(std::string("/order/server/transaction/").size());
            for (auto& t : transactions) {
                if (t.id != id) continue;
                if (t.status == "in process" && ++t.polls >= ready_after && !never_ready) {
                    t.status = "ready";
                    t.server_number = 400 + int64_t(servers.size());
                    servers.push_back({t.server_number,
                                       "198.18.8." + std::to_string(t.server_number - 350),
                                       "",
                                       t.product,
                                       "ready",
                                       "",
                                       t.dist,
                                       false,
                                       false,
                                       {}});
                }
                return {200, transaction_json(t), {}};
            }
            return error(404, "TRANSACTION_NOT_FOUND", "transaction not found");
        }
        if (r.method == "POST" && p.rfind("/server/", 0) == 0) {
            Srv* s = number("/server/");
            if (!s) return error(404, "SERVER_NOT_FOUND", "server not found");
            if (!f["server_name"].empty()) s->name = f["server_name"][0];
            json::Value o, w;
            o.set("server_number", s->number);
            o.set("server_name", s->name);
            w.set("server", std::move(o));
            return {200, json::dump(w), {}};
        }
        if (r.method == "POST" && p.rfind("/reset/", 0) == 0) {
            Srv* s = number("/reset/");
            if (!s) return error(404, "SERVER_NOT_FOUND", "server not found");
            if (f["type"].empty()) return error(400, "INVALID_INPUT", "missing type");
            s->resets.push_back(f["type"][0]);
            json::Value o, w;
            o.set("server_ip", s->ip);
            o.set("type", f["type"][0]);
            w.set("reset", std::move(o));
            return {200, json::dump(w), {}};
        }
        return error(404, "NOT_FOUND", "no route " + r.method + " " + p);
    }

    std::mutex mu_;
    FakeHttpServer http_;
};

}  // namespace decamp::test
