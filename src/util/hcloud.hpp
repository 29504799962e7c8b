// The Hetzner Cloud API's conventions (https://api.hetzner.cloud/v1), shared by the
// hetzner-cloud provider and the hetzner DNS back-end, which speak the same API with the
// same project token: its retry policy and its error envelope.
#pragma once

#include <string>

#include "util/api_client.hpp"

namespace decamp::http {

// 429 waits for RateLimit-Reset; conflict / locked (409/423: another action is running on
// the resource) is retried with growing waits; no answer and 502-504 with backoff; 401/403
// and every other answer never.
ApiClient::Policy hcloud_policy();

// "code: message" of {"error": {"code", "message"}}; "" when the body says neither.
std::string hcloud_error(const std::string& body);

}  // namespace decamp::http
