#include "util/hcloud.hpp"

#include "util/json.hpp"

namespace decamp::http {

ApiClient::Policy hcloud_policy() {
    RetryRules rules;
    rules.also = [](const Response& r, int attempt) -> ApiClient::Verdict {
        if (r.status != 409 && r.status != 423) return {};
        try {
            std::string code = json::parse(r.body)["error"]["code"].str();
            if (code == "conflict" || code == "locked") return {true, 1000 * (attempt + 1)};
        } catch (const json::ParseError&) {
        }
        return {};
    };
    return retry_policy(std::move(rules));
}

std::string hcloud_error(const std::string& body) {
    try {
        json::Value v = json::parse(body);
        std::string msg = v["error"]["code"].str();
        if (!v["error"]["message"].str().empty())
            msg += (msg.empty() ? "" : ": ") + v["error"]["message"].str();
        return msg;
    } catch (const json::ParseError&) {
        return "";
    }
}

}  // namespace decamp::http
