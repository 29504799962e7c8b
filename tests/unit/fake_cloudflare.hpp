// A fake Cloudflare v4 API on 127.0.0.1 speaking its documented wire format: Bearer API
// tokens, the {success, errors[{code, message}], messages, result, result_info} envelope,
// zones looked up by name, DNS records with ids filtered by type and name and paged, and the
// batch endpoint (deletes → patches → puts → posts in one all-or-nothing transaction). It
// refuses what Cloudflare refuses (a TTL outside 60–86400 unless 1, A/AAAA beside a CNAME,
// identical records) and can answer 429 with Retry-After (the 5-minute block) and 500.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "fake_http.hpp"
#include "util/json.hpp"

namespace decamp::test {

class FakeCloudflare {
public:
    struct Rec {
        std::string id, type, name, content;  // name without the trailing dot
        int ttl = 1;
        bool proxied = false;
    };

    // Knobs a test turns (under mu()).
    std::string token = "cf-token-0123456789abcdef";
    std::string zone = "example.test";
    std::string zone_id = "023e105f4ecef8ad9ca31a8372d0c353";
    int throttle_next = 0;     // answer that many requests with 429 …
    int retry_after = 300;     // … saying Retry-After: this (Cloudflare blocks for 5 minutes)
    int fail_next = 0;         // answer that many requests with 500
    bool quote_token = false;  // a hostile API: error messages quote the token it was sent
    int per_page_max = 2;      // small, so reads go through pages

    FakeCloudflare() : http_([this](const HttpRequest& r) { return handle(r); }) {}

    std::string url() const { return http_.url("/client/v4"); }
    std::vector<HttpRequest> seen() { return http_.seen(); }
    std::mutex& mu() { return mu_; }

    std::string add(const std::string& type, const std::string& name, const std::string& content,
                    int ttl = 300) {
        std::lock_guard lock(mu_);
        recs_.push_back({"rec" + std::to_string(next_id_++), type, name, content, ttl, false});
        return recs_.back().id;
    }
    std::vector<Rec> records() {
        std::lock_guard lock(mu_);
        return recs_;
    }

private:
    static HttpReply envelope(int status, json::Value result,
                              json::Value errors = json::Value{json::Value::Array{}}) {
        json::Value v;
        v.set("success", status >= 200 && status < 300)
            .set("errors", std::move(errors))
            .set("messages", json::Value{json::Value::Array{}})
            .set("result", std::move(result));
        return {status, json::dump(v), {}};
    }
    HttpReply error(int status, int code, const std::string& message, const HttpRequest& r) {
        std::string m = message;
        if (quote_token) m += " (token " + r.header("authorization") + ")";
        json::Value errs{json::Value::Array{}};
        errs.push(json::Value{}.set("code", code).set("message", m));
        return envelope(status, json::Value{}, std::move(errs));
    }
    static json::Value to_json(const Rec& x) {
        return json::Value{}
            .set("id", x.id)
            .set("type", x.type)
            .set("name", x.name)
            .set("content", x.content)
            .set("ttl", x.ttl)
            .set("proxied", x.proxied);
    }

    HttpReply handle(const HttpRequest& r) {
        std::lock_guard lock(mu_);
        if (r.header("authorization") != "Bearer " + token)
            return error(401, 10000, "Authentication error", r);
        if (throttle_next > 0) {
            --throttle_next;
            HttpReply rep = error(429, 971, "Please wait and consider throttling your request speed", r);
            rep.headers.emplace_back("Retry-After", std::to_string(retry_after));
            return rep;
        }
        if (fail_next > 0) {
            --fail_next;
            return error(500, 10001, "Internal Server Error", r);
        }
        const std::string base = "/client/v4";
        if (r.path.rfind(base, 0) != 0) return error(404, 7000, "No route for that URI", r);
        std::string path = r.path.substr(base.size());
        if (r.method == "GET" && path == "/zones") {
            json::Value out{json::Value::Array{}};
            if (r.param("name").empty() || r.param("name") == zone)
                out.push(json::Value{}.set("id", zone_id).set("name", zone).set("status", "active"));
            return envelope(200, std::move(out));
        }
        std::string zbase = "/zones/" + zone_id + "/dns_records";
        if (path.rfind("/zones/", 0) == 0 && path.rfind(zbase, 0) != 0)
            return error(404, 7003,
                         "Could not route to " + path + ", perhaps your object identifier is invalid?", r);
        if (r.method == "GET" && path == zbase) return list(r);
        if (r.method == "POST" && path == zbase + "/batch") return batch(r);
        return error(405, 10000, "method not allowed", r);
    }

    HttpReply list(const HttpRequest& r) {
        std::vector<Rec> match;
        for (const auto& x : recs_)
            if ((r.param("type").empty() || x.type == r.param("type")) &&
                (r.param("name").empty() || x.name == r.param("name")))
                match.push_back(x);
        int per = std::min(per_page_max, r.param("per_page").empty() ? 100 : std::stoi(r.param("per_page")));
        int page = r.param("page").empty() ? 1 : std::stoi(r.param("page"));
        int pages = std::max<int>(1, (int(match.size()) + per - 1) / per);
        json::Value out{json::Value::Array{}};
        for (size_t i = size_t((page - 1) * per); i < match.size() && i < size_t(page * per); ++i)
            out.push(to_json(match[i]));
        HttpReply rep = envelope(200, std::move(out));
        json::Value v = json::parse(rep.body);
        json::Value info;
        info.set("page", page)
            .set("per_page", per)
            .set("count", int(v["result"].size()))
            .set("total_count", int(match.size()))
            .set("total_pages", pages);
        v.set("result_info", std::move(info));
        rep.body = json::dump(v);
        return rep;
    }

    Rec* find(std::vector<Rec>& in, const std::string& id) {
        for (auto& x : in)
            if (x.id == id) return &x;
        return nullptr;
    }

    // One transaction: on any error nothing is kept.
    HttpReply batch(const HttpRequest& r) {
        json::Value body;
        try {
            body = json::parse(r.body);
        } catch (const json::ParseError&) {
            return error(400, 9207, "Request body is invalid.", r);
        }
        std::vector<Rec> next = recs_;
        json::Value done;
        json::Value dels{json::Value::Array{}}, pats{json::Value::Array{}}, posts{json::Value::Array{}};
        for (json::Ref d : body["deletes"].items()) {
            auto it =
                std::find_if(next.begin(), next.end(), [&](const Rec& x) { return x.id == d["id"].str(); });
            if (it == next.end()) return error(404, 81044, "Record does not exist.", r);
            dels.push(to_json(*it));
            next.erase(it);
        }
        for (json::Ref p : body["patches"].items()) {
            Rec* x = find(next, p["id"].str());
            if (!x) return error(404, 81044, "Record does not exist.", r);
            if (p["content"].is_string()) x->content = p["content"].str();
            if (p["ttl"].is_number()) x->ttl = int(p["ttl"].int_or(0));
            if (!ttl_ok(x->ttl)) return ttl_error(r);
            pats.push(to_json(*x));
        }
        if (body["puts"].size())
            return error(400, 9000, "puts are not used by decamp; the fake refuses them", r);
        for (json::Ref p : body["posts"].items()) {
            Rec x{"rec" + std::to_string(next_id_++),
                  p["type"].str(),
                  p["name"].str(),
                  p["content"].str(),
                  int(p["ttl"].int_or(1)),
                  p["proxied"].bool_or(false)};
            if (!ttl_ok(x.ttl)) return ttl_error(r);
            for (const auto& y : next) {
                if (y.name != x.name) continue;
                if (y.type == "CNAME" || ((x.type == "A" || x.type == "AAAA") && y.type == "CNAME"))
                    return error(400, 81053, "An A, AAAA, or CNAME record with that host already exists.", r);
                if (y.type == x.type && y.content == x.content)
                    return error(400, 81058, "An identical record already exists.", r);
            }
            next.push_back(x);
            posts.push(to_json(x));
        }
        recs_ = std::move(next);
        done.set("deletes", std::move(dels))
            .set("patches", std::move(pats))
            .set("puts", json::Value{json::Value::Array{}})
            .set("posts", std::move(posts));
        return envelope(200, std::move(done));
    }

    static bool ttl_ok(int ttl) { return ttl == 1 || (ttl >= 60 && ttl <= 86400); }
    HttpReply ttl_error(const HttpRequest& r) {
        return error(400, 9021, "TTL must be between 60 and 86400 seconds, or 1 for Automatic.", r);
    }

    std::mutex mu_;
    std::vector<Rec> recs_;
    int next_id_ = 1;
    FakeHttpServer http_;
};

}  // namespace decamp::test
