#include "migrate/health.hpp"

#include <chrono>
#include <thread>

#include "plan/planner.hpp"
#include "util/http.hpp"
#include "util/names.hpp"

namespace decamp::migrate {

std::vector<HealthTarget> health_targets(const inventory::Inventory& inv, const std::string& provider) {
    std::vector<HealthTarget> out;
    for (const auto& hc : inv.health) {
        for (const auto* h : inv.provider_hosts(provider)) {
            if (!h->has_role(hc.role)) continue;
            plan::HostVars vars(inv, *h);
            tmpl::Options o;
            HealthTarget t;
            t.host = h->name;
            t.url = tmpl::render(hc.url, vars.scope(), o);
            t.host_header = hc.host_header;
            t.expect = hc.expect;
            t.timeout_s = hc.timeout;
            // The template may have pulled in a host variable: the rendered URL is checked
            // as strictly as the inventory's text was.
            if (std::string why = names::check_http_url(t.url); !why.empty())
                t.error = "health URL \"" + t.url + "\": " + why;
            out.push_back(std::move(t));
        }
    }
    return out;
}

std::vector<HealthResult> check_health(const inventory::Inventory& inv, const std::string& provider,
                                       int wait_s) {
    std::vector<HealthResult> out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
    for (const auto& t : health_targets(inv, provider)) {
        HealthResult r;
        r.host = t.host;
        r.url = t.url;
        r.error = t.error;
        while (r.error.empty()) {
            http::Request req;
            req.url = t.url;
            req.host_header = t.host_header;
            req.timeout_ms = t.timeout_s * 1000;
            auto resp = http::perform(req);
            r.status = resp.status;
            r.error = resp.error;
            r.seconds = resp.seconds;
            r.ok = resp.status == t.expect;
            if (r.ok || std::chrono::steady_clock::now() >= deadline) break;
            r.error.clear();
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
        out.push_back(r);
    }
    return out;
}

bool all_ok(const std::vector<HealthResult>& results) {
    for (const auto& r : results)
        if (!r.ok) return false;
    return true;
}

std::string describe(const std::vector<HealthResult>& results) {
    std::string out;
    for (const auto& r : results) {
        out += (out.empty() ? "" : "; ") + r.host + " " + r.url + " → " +
               (r.status ? std::to_string(r.status) : "no answer") + (r.error.empty() ? "" : " (" + r.error + ")");
    }
    return out.empty() ? "no health checks defined" : out;
}

}  // namespace decamp::migrate
