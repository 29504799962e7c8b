// A fake OVHcloud API on 127.0.0.1 (dedicated servers): it checks every signature itself
// ("$1$" + SHA1 of secret+consumer+method+url+body+timestamp) against its own clock, which is
// an hour ahead of ours (so only a client that asked GET /auth/time signs in time), answers
// errors as {"class","message"} with an X-Ovh-QueryID, and runs tasks through a script of
// answers that may include the transient 404 and 500 the real API gives.
#pragma once

#include <openssl/evp.h>

#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "fake_http.hpp"
#include "util/api_client.hpp"
#include "util/json.hpp"

namespace decamp::test {

class FakeOvh {
public:
    std::string app_key = "ovh-app-key-1234", app_secret = "ovh-app-secret-5678",
                consumer_key = "ovh-consumer-9012";
    long long skew = 3600;  // the fake's clock minus ours
    // Answers to the task polls, in order; "done" once they run out.
    std::deque<std::string> task_script = {"404", "500", "doing", "done"};
    struct Srv {
        std::string sn, ip, state, os;
        std::string ssh_key, post_install, boot = "harddisk";
    };
    std::vector<Srv> servers = {
        {"ns1.ip-198-18-9-1.eu", "198.18.9.1", "ok", "debian11_64", "", "", "harddisk"},
        {"ns2.ip-198-18-9-2.eu", "198.18.9.2", "ok", "debian11_64", "", "", "harddisk"},
        {"ns9.ip-198-18-9-9.eu", "198.18.9.9", "ok", "debian11_64", "", "", "harddisk"}};

    FakeOvh() : http_([this](const HttpRequest& r) { return handle(r); }) {}
    std::string url() const { return http_.url("/1.0"); }
    std::vector<HttpRequest> seen() { return http_.seen(); }
    std::mutex& mu() { return mu_; }
    int count(const std::string& method, const std::string& prefix) {
        int n = 0;
        for (const auto& r : http_.seen()) n += r.method == method && r.path.rfind(prefix, 0) == 0;
        return n;
    }
    Srv* find(const std::string& sn) {
        for (auto& s : servers)
            if (s.sn == sn) return &s;
        return nullptr;
    }

    static std::string sha1_hex(const std::string& text) {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_Digest(text.data(), text.size(), d, &len, EVP_sha1(), nullptr);
        std::string out;
        char b[3];
        for (unsigned i = 0; i < len; ++i) {
            std::snprintf(b, sizeof b, "%02x", d[i]);
            out += b;
        }
        return out;
    }

private:
    static HttpReply error(int status, const std::string& cls, const std::string& message) {
        json::Value v;
        v.set("class", cls);
        v.set("message", message);
        return {status, json::dump(v), {{"X-Ovh-QueryID", "EU.ext-1.fake.4242"}}};
    }

    HttpReply task(const std::string& function) {
        json::Value v;
        v.set("taskId", ++next_task_);
        v.set("function", function);
        v.set("status", "init");
        v.set("comment", "");
        return {200, json::dump(v), {}};
    }

    HttpReply handle(const HttpRequest& r) {
        std::lock_guard lock(mu_);
        long long now = http::unix_now() + skew;
        if (r.method == "GET" && r.path == "/1.0/auth/time") return {200, std::to_string(now), {}};
        if (r.header("x-ovh-application") != app_key)
            return error(403, "Client::Forbidden", "Invalid application key");
        if (r.header("x-ovh-consumer") != consumer_key)
            return error(403, "Client::Forbidden", "This credential does not exist");
        long long ts = std::atoll(r.header("x-ovh-timestamp").c_str());
        if (ts < now - 5 || ts > now + 5) return error(400, "Client::BadRequest", "Query out of time");
        std::string full = http_.url(r.target);
        std::string want = "$1$" + sha1_hex(app_secret + "+" + consumer_key + "+" + r.method + "+" + full +
                                            "+" + r.body + "+" + r.header("x-ovh-timestamp"));
        if (r.header("x-ovh-signature") != want) return error(400, "Client::BadRequest", "Invalid signature");

        const std::string prefix = "/1.0/dedicated/server";
        if (r.method == "GET" && r.path == prefix) {
            json::Value list = json::Value(json::Value::Array{});
            for (const auto& s : servers) list.push(s.sn);
            return {200, json::dump(list), {}};
        }
        if (r.path.rfind(prefix + "/", 0) != 0) return error(404, "Client::NotFound", "no route");
        std::string rest = r.path.substr(prefix.size() + 1);
        std::string sn = rest.substr(0, rest.find('/'));
        std::string sub = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/') + 1);
        Srv* s = find(sn);
        if (!s)
            return error(404, "Client::NotFound",
                         "The requested object (serviceName = " + sn + ") does not exist");
        if (r.method == "GET" && sub.empty()) {
            json::Value v;
            v.set("name", s->sn);
            v.set("ip", s->ip);
            v.set("state", s->state);
            v.set("os", s->os);
            v.set("datacenter", "gra3");
            v.set("commercialRange", "advance-1");
            v.set("bootId", s->boot == "rescue" ? 1122 : 1);
            return {200, json::dump(v), {}};
        }
        if (r.method == "PUT" && sub.empty()) {
            json::Value b = json::parse(r.body);
            if (b["bootId"].int_or(0) == 1122) s->boot = "rescue";
            s->ssh_key = b["rescueSshKey"].str();
            return {200, "null", {}};
        }
        if (r.method == "POST" && sub == "reinstall") {
            json::Value b = json::parse(r.body);
            if (b["operatingSystem"].str().empty())
                return error(400, "Client::BadRequest", "Invalid body: missing operatingSystem");
            s->os = b["operatingSystem"].str();
            s->ssh_key = b["customizations"]["sshKey"].str();
            s->post_install = b["customizations"]["postInstallationScript"].str();
            return task("reinstallServer");
        }
        if (r.method == "POST" && sub == "reboot") return task("hardReboot");
        if (r.method == "GET" && sub == "boot") {
            json::Value list = json::Value(json::Value::Array{});
            if (r.param("bootType") == "rescue") list.push(1122);
            return {200, json::dump(list), {}};
        }
        if (r.method == "GET" && sub.rfind("task/", 0) == 0) {
            std::string next = task_script.empty() ? "done" : task_script.front();
            if (!task_script.empty()) task_script.pop_front();
            if (next == "404")
                return error(404, "Client::NotFound", "The requested object (taskId) does not exist");
            if (next == "500") return error(500, "Server::InternalServerError", "Internal server error");
            json::Value v;
            v.set("taskId", int64_t(std::atoll(sub.substr(5).c_str())));
            v.set("function", "reinstallServer");
            v.set("status", next);
            v.set("comment", next == "ovhError" ? "disk failure" : "");
            return {200, json::dump(v), {}};
        }
        return error(404, "Client::NotFound", "no route");
    }

    std::mutex mu_;
    int64_t next_task_ = 7000;
    FakeHttpServer http_;
};

}  // namespace decamp::test
