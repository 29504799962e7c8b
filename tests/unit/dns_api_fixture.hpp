// What the tests of the DNS back-ends behind HTTP APIs share: waits recorded instead of
// slept (http::api_timing's hook), the token registered with the redactor as the inventory
// loader would, and an Error's whole text (line and -v detail) to look for the token in.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "util/api_client.hpp"
#include "util/error.hpp"
#include "util/secret.hpp"

namespace decamp::test {

struct RecordedWaits {
    http::ApiTiming saved = http::api_timing();
    std::vector<int> waits;
    RecordedWaits() {
        http::api_timing().poll_ms = 1;
        http::api_timing().action_timeout_s = 1;
        http::api_timing().sleep = [this](int ms) { waits.push_back(ms); };
    }
    ~RecordedWaits() { http::api_timing() = saved; }
    RecordedWaits(const RecordedWaits&) = delete;
    RecordedWaits& operator=(const RecordedWaits&) = delete;
};

// The Error's line and its detail, one text; "(no Error)" when f did not throw one.
inline std::string error_text(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return std::string(e.what()) + "\n" + e.detail();
    }
    return "(no Error)";
}

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace decamp::test
