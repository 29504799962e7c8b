// What clients saw during a cutover: decamp itself sends requests, the whole time from the
// write freeze to the end of cutover, to every health-check URL at the source's and the
// target's hosts (the old and the new addresses a client may hold), and counts each answer:
// answered in time, held (answered, but only after `held_after_s`), or failed (no HTTP
// answer, or a status the check does not expect). The report shows these figures beside the
// DNS switch time, because a resolver's cached answer keeps clients on the old address.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "migrate/health.hpp"

namespace decamp::migrate {

struct ProbeStats {
    std::string label;      // "old-web1 (source) http://198.18.1.11/healthz"
    uint64_t sent = 0;      // requests that ended (answered, held or failed)
    uint64_t answered = 0;  // the expected status (held ones included)
    uint64_t held = 0;      // the expected status after `held_after_s` or more
    uint64_t failed = 0;
    double longest_s = 0;         // the longest wait for any answer that came
    double first_failure_at = 0;  // unix seconds, 0 when none failed
    double last_failure_at = 0;
    std::string first_failure;  // what the first failure was ("HTTP 502", "connection refused")
};

struct ProbeTiming {
    int interval_ms = 200;   // between the end of one request and the next, per target
    int timeout_ms = 35000;  // a request's bound (longer than a proxy's hold)
    double held_after_s = 1.0;
};

class ClientProbe {
public:
    virtual ~ClientProbe() = default;
    // Starts probing every target (each in its own thread); `start` again replaces the targets.
    virtual void start(const std::vector<std::pair<std::string, HealthTarget>>& targets) = 0;
    // Stops (a request in flight is abandoned, not counted) and returns each target's figures.
    virtual std::vector<ProbeStats> stop() = 0;
};

std::unique_ptr<ClientProbe> make_http_probe(ProbeTiming timing = {});

// Figures of two runs of the same migration (a resumed cutover) added up by label.
std::vector<ProbeStats> merge_probe_stats(std::vector<ProbeStats> a, const std::vector<ProbeStats>& b);
// For the journal's key/value table.
std::string encode_probe_stats(const std::vector<ProbeStats>& s);
std::vector<ProbeStats> decode_probe_stats(const std::string& text);
// "old-web1 …: 812 requests, 0 failed, 3 held (longest 1.4 s)"
std::string describe_probe(const ProbeStats& s);

}  // namespace decamp::migrate
